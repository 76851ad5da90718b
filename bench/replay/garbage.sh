#!/usr/bin/env bash
# bench/replay/garbage.sh: issue 13's fault run — amp replay against a target
# that answers every request with different random bytes, for DUR seconds
# (default 20), with --think none. Every second it scrapes /metrics (which
# must answer 200) and reads amp's RSS; at the end it prints the peak RSS, the
# number of distinct failure reasons in the JSON result (bounded by
# stats.MaxReasons+1 per endpoint) and the JSON's size. Loopback only.
#
# Usage: bench/replay/garbage.sh      DUR=20 USERS=20 bench/replay/garbage.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DUR=${DUR:-20}
USERS=${USERS:-20}
WORK=$(mktemp -d -t ampgarbage.XXXXXX)
trap 'kill $TARGET_PID $AMP_PID 2>/dev/null; wait 2>/dev/null' EXIT
cd "$ROOT"
go build -o "$WORK/amp" ./cmd/amp && go build -o "$WORK/garbage" ./bench/replay/garbage || exit 1

"$WORK/garbage" >"$WORK/addr" & TARGET_PID=$!
for _ in $(seq 50); do [ -s "$WORK/addr" ] && break; sleep 0.1; done
ADDR=$(head -1 "$WORK/addr")
# A recording of one GET / to shop.example, through amp's own importer (HAR).
cat >"$WORK/one.har" <<HAR
{"log":{"version":"1.2","entries":[{"startedDateTime":"2026-11-26T09:00:00.000Z","time":5,
"request":{"method":"GET","url":"http://shop.example/","httpVersion":"HTTP/1.1","headers":[],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0},
"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","headers":[],"cookies":[],"content":{"size":0,"mimeType":"text/plain"},"redirectURL":"","headersSize":-1,"bodySize":0},
"cache":{},"timings":{"send":0,"wait":5,"receive":0}}]}}
HAR
"$WORK/amp" import "$WORK/one.har" -o "$WORK/one.amp" >/dev/null || exit 1

"$WORK/amp" replay "$WORK/one.amp" --host "http://$ADDR" --users "$USERS" --think none --duration "${DUR}s" \
  --quiet --no-validate --metrics 127.0.0.1:0 --metrics-linger 0 --json "$WORK/result.json" >"$WORK/out" 2>"$WORK/err" & AMP_PID=$!
peak=0; scrapes=0; bad=0
for _ in $(seq $((DUR + 5))); do
  sleep 1
  kill -0 $AMP_PID 2>/dev/null || break
  rss=$(awk '/VmRSS/ {print $2}' /proc/$AMP_PID/status 2>/dev/null || echo 0)
  [ "${rss:-0}" -gt "$peak" ] && peak=$rss
  url=$(grep -o 'http://127.0.0.1:[0-9]*/metrics' "$WORK/out" | head -1)
  [ -n "$url" ] || continue
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  scrapes=$((scrapes + 1)); [ "$code" = 200 ] || bad=$((bad + 1))
done
wait $AMP_PID; rc=$?
reasons=$(grep -o '"reason": *"[^"]*"' "$WORK/result.json" | sort -u | wc -l)
echo "exit $rc; peak RSS $((peak / 1024)) MB; /metrics: $scrapes scrapes, $bad not 200;" \
  "$reasons distinct reasons; result.json $(wc -c <"$WORK/result.json") bytes"
grep -A8 '^Failures' "$WORK/out" | cut -c1-150
