#!/usr/bin/env bash
# bench/capacity/run.sh: does amp replay --find-capacity find the knee a
# person finds by hand?
#
# Starts the demo site serving CAPACITY requests at once with LATENCY each
# (so latency grows with the users beyond CAPACITY), records a browsing
# session through amp record, then
#   1. by hand: fixed-user runs (USERS_LIST), each DURATION, think none; the
#      knee is the most users whose run met p(95)<LIMIT and rate<0.01;
#   2. amp replay --find-capacity with the same thresholds and STEP steps.
# It prints both, and exits 1 when the search is more than 20 % off the knee.
#
#   env: CAPACITY=20 LATENCY=20ms LIMIT=100 DURATION=10s STEP=10s
#        USERS_LIST="20 30 40 45 50 55 60 70 80 100" AMP=path/to/amp
set -euo pipefail
cd "$(dirname "$0")/../.."
CAPACITY=${CAPACITY:-20} LATENCY=${LATENCY:-20ms} LIMIT=${LIMIT:-100}
DURATION=${DURATION:-10s} STEP=${STEP:-10s}
USERS_LIST=${USERS_LIST:-"20 30 40 45 50 55 60 70 80 100"}
work=$(mktemp -d /tmp/ampcapacity.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
AMP=${AMP:-$work/amp}
[ -x "$AMP" ] || go build -o "$AMP" ./cmd/amp
for t in curl jq; do command -v $t >/dev/null || { echo "bench/capacity: needs $t" >&2; exit 1; }; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "bench/capacity: $1 did not come up" >&2; exit 1; }

site_port=$(free_port); proxy_port=$(free_port)
"$AMP" demosite --addr 127.0.0.1:$site_port --capacity "$CAPACITY" --latency "$LATENCY" >"$work/site.log" 2>&1 & pids+=($!)
wait_up http://127.0.0.1:$site_port/healthz
"$AMP" record -o "$work/browse.amp" --target http://127.0.0.1:$site_port --listen 127.0.0.1:$proxy_port -q >"$work/record.log" 2>&1 & rec=$!
wait_up http://127.0.0.1:$proxy_port/healthz
for p in / /articles /login /articles / /static/style.css; do curl -s -o /dev/null "http://127.0.0.1:$proxy_port$p"; done
kill -INT $rec; wait $rec || true
site=http://127.0.0.1:$site_port
th=(--fail-if "p(95)<$LIMIT" --fail-if "rate<0.01")

echo "demo site: $CAPACITY requests at once, $LATENCY each; thresholds p(95)<$LIMIT ms and rate<0.01"
echo "1. by hand: fixed users, $DURATION each, think none"
printf "  %6s %10s %10s %8s  %s\n" users req/s p95_ms failed verdict
knee=0
for u in $USERS_LIST; do
  "$AMP" replay "$work/browse.amp" --host "$site" --users "$u" --rate 1000 --think none --duration "$DURATION" \
    --no-validate --quiet --no-default-thresholds --json "$work/u$u.json" >/dev/null 2>&1 || true
  read -r rps p95 rate < <(jq -r '[.rps, .latency_ms.p95, .failure_rate] | @tsv' "$work/u$u.json")
  ok=$(jq -r --argjson l "$LIMIT" 'if (.latency_ms.p95 < $l and .failure_rate < 0.01) then "held" else "failed" end' "$work/u$u.json")
  printf "  %6d %10.1f %10.1f %7.2f%%  %s\n" "$u" "$rps" "$p95" "$(echo "$rate*100" | bc -l)" "$ok"
  [ "$ok" = held ] && knee=$u
done
echo "  knee by hand: $knee users"

echo "2. amp replay --find-capacity, steps of $STEP"
start=$(date +%s)
"$AMP" replay "$work/browse.amp" --host "$site" --find-capacity "${th[@]}" --step-duration "$STEP" --max-users 1000 \
  --think none --no-validate --json "$work/capacity.json" >"$work/capacity.log" 2>&1 || true
grep -E "users  |CAPACITY" "$work/capacity.log" | sed 's/^/  /'
found=$(jq -r '.config.capacity.users' "$work/capacity.json")
echo "  search: $found users in $(( $(date +%s) - start )) s"
ratio=$(echo "scale=3; $found / $knee" | bc -l)
echo "capacity found / knee by hand = $ratio"
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.8 && r <= 1.2) }' || { echo "bench/capacity: more than 20 % off" >&2; exit 1; }
