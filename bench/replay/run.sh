#!/usr/bin/env bash
# bench/replay/run.sh: requests per load-generator CPU-second of `amp replay`
# against wrk, hey and Locust (FastHttpUser), in one run, on the same target.
#
#   1. start the shared Go target (../shared/bench/target: "count: N" on GET /)
#      on 127.0.0.1:18081, GOMAXPROCS=1, pinned to TARGET_CPU;
#   2. record one GET / through `amp record --target` (reverse mode);
#   3. replay it with --think none and CONC users for DUR seconds, then run
#      wrk -t1 -cCONC, hey -c CONC and Locust FastHttpUser -u CONC the same way,
#      each pinned to TOOL_CPU; CPU seconds are the tool's own (utime+stime);
#   4. print a table with each tool's requests per CPU-second and its ratio to
#      wrk's.
# Every run is bounded (DUR + a hard timeout); traffic goes to 127.0.0.1 only.
#
# Usage: bench/replay/run.sh            (from the repository root or anywhere)
#        DUR=10 CONC=50 TOOLS="amp wrk hey locust" bench/replay/run.sh
# Needs: go, wrk, hey, python3-locust (Debian), time, util-linux (taskset), curl.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=${SHARED:-"$ROOT/../shared/bench"}
DUR=${DUR:-10}
CONC=${CONC:-50}
TOOLS=${TOOLS:-"amp wrk hey locust"}
TOOL_CPU=${TOOL_CPU:-0}
TARGET_CPU=${TARGET_CPU:-1}
PORT=${PORT:-18081}
PROXY_PORT=${PROXY_PORT:-18091}
WORK=$(mktemp -d -t ampbench.XXXXXX)
BASE="http://127.0.0.1:$PORT"
echo "work dir: $WORK" >&2

PIN_TOOL=(); PIN_TARGET=()
if taskset -c "$TOOL_CPU" true 2>/dev/null && taskset -c "$TARGET_CPU" true 2>/dev/null; then
  PIN_TOOL=(taskset -c "$TOOL_CPU"); PIN_TARGET=(taskset -c "$TARGET_CPU")
else
  echo "warning: taskset failed; running unpinned" >&2
fi

TARGET_PID=""
cleanup() { [ -n "$TARGET_PID" ] && kill "$TARGET_PID" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$ROOT" && go build -o "$WORK/amp" ./cmd/amp) || { echo "building amp failed" >&2; exit 1; }
if [ -d "$SHARED/target" ]; then
  (cd "$SHARED/target" && go build -o "$WORK/target" .) || exit 1
else
  echo "no $SHARED/target: set SHARED to the shared bench folder" >&2; exit 1
fi
COUNT_START=1000000 TARGET_ADDR="127.0.0.1:$PORT" GOMAXPROCS=1 "${PIN_TARGET[@]}" "$WORK/target" 2>"$WORK/target.log" &
TARGET_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "$BASE/" && break; sleep 0.1; done

# Record one GET / through the reverse proxy.
"$WORK/amp" record --target "$BASE" --listen "127.0.0.1:$PROXY_PORT" -o "$WORK/one.amp" -q 2>"$WORK/record.log" &
REC_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PROXY_PORT/" && break; sleep 0.1; done
kill -INT "$REC_PID"; wait "$REC_PID"
"$WORK/amp" sessions "$WORK/one.amp" >&2 || exit 1

# run NAME CMD...: one bounded, pinned run; writes NAME.out/.err/.time
run() {
  local name=$1; shift
  sleep 1
  timeout -k 5 $((DUR + 30)) "${PIN_TOOL[@]}" /usr/bin/time -f "%U %S %M" -o "$WORK/$name.time" \
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  echo "  $name done (rc=$?)" >&2
}
have() { command -v "$1" >/dev/null 2>&1; }

for tool in $TOOLS; do
  case $tool in
    amp) run amp "$WORK/amp" replay "$WORK/one.amp" --host "$BASE" --think none --users "$CONC" \
           --rate 100000 --duration "${DUR}s" --quiet --json "$WORK/amp.json" ;;
    wrk) have wrk && run wrk wrk -t1 -c"$CONC" -d"${DUR}s" "$BASE/" ;;
    hey) have hey && run hey hey -c "$CONC" -z "${DUR}s" "$BASE/" ;;
    locust) have locust && LOCUST_WAIT=0 run locust locust -f "$SHARED/locust/fast_user.py" --headless \
              -u "$CONC" -r "$CONC" -t "${DUR}s" -H "$BASE" --csv "$WORK/locust" --only-summary ;;
  esac
done

requests() {
  case $1 in
    amp) python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$WORK/amp.json" ;;
    wrk) awk '/requests in/{print $1}' "$WORK/wrk.out" ;;
    hey) awk '/\[200\]/{print $2}' "$WORK/hey.out" ;;
    locust) awk -F, '$2=="Aggregated"{print $3}' "$WORK/locust_stats.csv" ;;
  esac
}

echo
echo "| tool | requests | req/s | tool CPU-s | peak RSS MB | req per tool CPU-s | vs wrk |"
echo "|---|---:|---:|---:|---:|---:|---:|"
wrk_eff=""
for tool in wrk $TOOLS; do
  [ -f "$WORK/$tool.time" ] || continue
  [ "$tool" = wrk ] && [ -n "$wrk_eff" ] && continue
  n=$(requests "$tool"); read -r u s m <"$WORK/$tool.time"
  [ -n "$n" ] || { echo "| $tool | (no result; see $WORK/$tool.err) |"; continue; }
  eff=$(awk -v n="$n" -v u="$u" -v s="$s" 'BEGIN{printf "%.0f", n/(u+s)}')
  [ "$tool" = wrk ] && wrk_eff=$eff
  ratio=$( [ -n "$wrk_eff" ] && awk -v a="$eff" -v b="$wrk_eff" 'BEGIN{printf "%.2f", a/b}' || echo "-")
  printf "| %s | %s | %.0f | %.2f | %.1f | %s | %s |\n" "$tool" "$n" "$(awk -v n="$n" -v d="$DUR" 'BEGIN{print n/d}')" \
    "$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')" "$(awk -v m="$m" 'BEGIN{print m/1024}')" "$eff" "$ratio"
done
