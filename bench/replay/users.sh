#!/usr/bin/env bash
# bench/replay/users.sh: many simulated users with a 1 s think time against the
# demo site. Reports amp's peak RSS and whether it held the offered request
# rate: in a closed model each user sends one request per (think + response
# time), so the offered rate is users / (1 s + mean latency), with the users
# running in each second and the latency from each request's intended start;
# "held" is the measured rate in the steady window (after the ramp) divided
# by it. Locust
# reaches 29-90 % of it at 5000 users on this kind of machine (PEERS.md).
#
# Usage: USERS=50000 RATE=5000 DUR=40 bench/replay/users.sh
# Traffic goes to 127.0.0.1 only; every process is bounded and stopped.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
USERS=${USERS:-50000}
RATE=${RATE:-5000}
DUR=${DUR:-40}
PORT=${PORT:-18095}
WORK=$(mktemp -d -t ampusers.XXXXXX)
BASE="http://127.0.0.1:$PORT"
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "work dir: $WORK (open files: $(ulimit -n))" >&2

SITE_PID=""
trap '[ -n "$SITE_PID" ] && kill "$SITE_PID" 2>/dev/null; wait 2>/dev/null' EXIT
(cd "$ROOT" && go build -o "$WORK/amp" ./cmd/amp) || exit 1
"$WORK/amp" demosite --addr "127.0.0.1:$PORT" --latency 0 --jitter 0 --capacity 0 >"$WORK/site.log" 2>&1 &
SITE_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "$BASE/healthz" && break; sleep 0.1; done

"$WORK/amp" record --target "$BASE" --listen 127.0.0.1:18096 -o "$WORK/one.amp" -q 2>"$WORK/record.log" &
REC_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:18096/" && break; sleep 0.1; done
kill -INT "$REC_PID"; wait "$REC_PID"

timeout -k 5 $((DUR + 60)) /usr/bin/time -f "%U %S %M" -o "$WORK/amp.time" \
  "$WORK/amp" replay "$WORK/one.amp" --host "$BASE" --users "$USERS" --rate "$RATE" --think 1s \
  --duration "${DUR}s" --timeout 30s --quiet --json "$WORK/result.json" >"$WORK/amp.out" 2>"$WORK/amp.err"
echo "amp exit $?" >&2
read -r u s m <"$WORK/amp.time"

python3 - "$WORK/result.json" "$USERS" "$RATE" "$m" "$u" "$s" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))
users, rate, rss_kb, cpu = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]) + float(sys.argv[6])
ramp = users / rate
series = [p for p in res["series"]]
t0 = series[0]["t"]
steady = [p for p in series if p["t"] - t0 >= ramp + 2][:-1]  # after the ramp, without the last partial second
if not steady:
    sys.exit("run too short for a steady window after the %.0f s ramp" % ramp)
rps = sum(p["requests"] for p in steady) / len(steady)
lat_s = res["latency_ms"]["avg"] / 1000.0   # from each request's intended start: pool waits included
offered = sum(p["users"] / (1.0 + lat_s) for p in steady) / len(steady)
peak = max(p["users"] for p in series)
print(f"| users (reached) | think | steady window | req/s | offered req/s | held | mean latency ms | failures | peak RSS MB | amp CPU-s |")
print(f"|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
print(f"| {users} ({peak}) | 1 s | {len(steady)} s | {rps:.0f} | {offered:.0f} | {100*rps/offered:.1f} % | {res['latency_ms']['avg']:.1f} | {res['failures']} | {rss_kb/1024:.0f} | {cpu:.1f} |")
EOF
