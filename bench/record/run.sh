#!/usr/bin/env bash
# Benchmark of amp record's reverse mode: wrk against the demo site directly,
# then through `amp record --target`, on one machine. Reports recorded
# requests/s, the latency amp adds at p50 and p99, and whether every request
# wrk completed is in the recording.
#
#   bench/record/run.sh [DURATION [CONNECTIONS [PATH]]]     (defaults: 10s 8 /)
#
# Needs wrk (apt-get install wrk). Ports 0 are picked by the OS; the script
# reads them back from the programs' output. Everything it starts is stopped.
set -euo pipefail

DURATION=${1:-10s}
CONNS=${2:-8}
URLPATH=${3:-/}
THREADS=${WRK_THREADS:-1}

cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "run.sh: wrk not found (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/amp" ./cmd/amp

# wait_addr FILE PATTERN: the first host:port after PATTERN in FILE.
wait_addr() {
	for _ in $(seq 1 100); do
		if a=$(grep -o "$2[0-9.]*:[0-9]*" "$1" 2>/dev/null | head -1); then
			[ -n "$a" ] && { echo "${a#"$2"}"; return; }
		fi
		sleep 0.1
	done
	echo "run.sh: no address in $1:" >&2; cat "$1" >&2; exit 1
}

"$work/amp" demosite --addr 127.0.0.1:0 --latency 0 --jitter 0 --capacity 0 >"$work/demo.out" 2>&1 &
pids+=($!)
demo=$(wait_addr "$work/demo.out" "http://")

"$work/amp" record --target "http://$demo" --listen 127.0.0.1:0 -o "$work/bench.amp" --quiet >"$work/rec.out" 2>&1 &
recpid=$!
pids+=($recpid)
rec=$(wait_addr "$work/rec.out" "http://")

run_wrk() { # URL OUT
	wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$1" >"$2"
}
# wrk's latency percentile in microseconds.
pct() {
	awk -v p="$2" '$1==p {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+/, "", v);
		m = (u=="us") ? 1 : (u=="ms") ? 1000 : (u=="s") ? 1000000 : 1; printf "%d\n", v*m}' "$1"
}
completed() { awk '/requests in/ {print $1}' "$1"; }
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }

run_wrk "http://$demo$URLPATH" "$work/direct.txt"   # warm-up and baseline
run_wrk "http://$demo$URLPATH" "$work/direct.txt"
run_wrk "http://$rec$URLPATH" "$work/proxied.txt"

kill -INT "$recpid"
wait "$recpid" || true
recorded=$("$work/amp" sessions "$work/bench.amp" | awk '/sessions,/ {print $3}')
wrkdone=$(completed "$work/proxied.txt")
secs=$(awk '/requests in/ {gsub(/s,?/, "", $4); print $4}' "$work/proxied.txt")

d50=$(pct "$work/direct.txt" 50%); d99=$(pct "$work/direct.txt" 99%)
p50=$(pct "$work/proxied.txt" 50%); p99=$(pct "$work/proxied.txt" 99%)

echo "== wrk -t$THREADS -c$CONNS -d$DURATION $URLPATH on $(nproc) cores (wrk, demo site and amp share them)"
printf "direct:   %8s req/s   p50 %6d us   p99 %6d us\n" "$(rps "$work/direct.txt")" "$d50" "$d99"
printf "proxied:  %8s req/s   p50 %6d us   p99 %6d us\n" "$(rps "$work/proxied.txt")" "$p50" "$p99"
printf "added:    p50 %d us   p99 %d us\n" $((p50 - d50)) $((p99 - d99))
printf "recorded: %d requests in %ss = %.0f recorded req/s; wrk completed %d\n" \
	"$recorded" "$secs" "$(echo "$recorded / $secs" | bc -l)" "$wrkdone"
if [ "$recorded" -ge "$wrkdone" ]; then
	echo "lost:     none (the file may hold up to $CONNS more: responses in flight when wrk stopped)"
else
	echo "lost:     $((wrkdone - recorded)) requests wrk completed are missing from the recording"
	exit 1
fi
tail -1 "$work/rec.out"
