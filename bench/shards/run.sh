#!/usr/bin/env bash
# bench/shards/run.sh: the local proof of sharded replay. The same replay of
# the demo recording runs against the demo site once as one process and once
# as SHARDS processes (`amp replay --shard I/N`, one shared --start-at), on
# this machine. The shards print their results into their logs
# (--print-result), which `amp kube collect --from-logs` gathers as it would
# from pods, and `amp report --merge` adds up. The table puts the single run,
# the sum of the shards and the merged result side by side: users, requests,
# failures, req/s, latency percentiles.
#
#   bench/shards/run.sh                       # 200 users at 40/s for 20 s, 4 shards
#   USERS=400 RATE=80 DUR=30 SHARDS=4 bench/shards/run.sh
#
# The demo site is restarted for each run (same state), listens on a port
# the OS picks on 127.0.0.1, and everything started is stopped. Needs go,
# jq, GNU date.
set -euo pipefail

USERS=${USERS:-200}
RATE=${RATE:-40}
DUR=${DUR:-20}
SHARDS=${SHARDS:-4}
LATENCY=${LATENCY:-20ms}
CAPACITY=${CAPACITY:-0}
LEAD=${LEAD:-3} # seconds between now and the shared start

cd "$(dirname "$0")/../.."
command -v jq >/dev/null || { echo "run.sh: jq not found (apt-get install jq)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$work/amp" ./cmd/amp
amp="$work/amp"

# wait_addr FILE: the first http://host:port in FILE.
wait_addr() {
	for _ in $(seq 1 100); do
		a=$(grep -o "http://[0-9.]*:[0-9]*" "$1" 2>/dev/null | head -1 || true)
		[ -n "$a" ] && { echo "$a"; return; }
		sleep 0.1
	done
	echo "run.sh: no address in $1:" >&2; cat "$1" >&2; exit 1
}

# start_site NAME: a fresh demo site; sets site and site_pid.
start_site() {
	"$amp" demosite --addr 127.0.0.1:0 --latency "$LATENCY" --capacity "$CAPACITY" >"$work/$1-site.out" 2>&1 &
	site_pid=$!
	pids+=("$site_pid")
	site=$(wait_addr "$work/$1-site.out")
}
stop_site() { kill "$site_pid" 2>/dev/null || true; wait "$site_pid" 2>/dev/null || true; }

start_at() { date -u -d "+$LEAD seconds" +%Y-%m-%dT%H:%M:%SZ; }

# The recording: amp demo's scripted user (log in, write, read, API,
# comment), recorded through the proxy against its own demo site.
echo "recording the demo user ..." >&2
"$amp" demo -o "$work/demo.amp" --html "$work/demo.html" --users 1 --rate 1 --duration 1s --quiet >"$work/demo.out" 2>&1 ||
	{ cat "$work/demo.out" >&2; exit 1; }

flags=(--users "$USERS" --rate "$RATE" --duration "${DUR}s" --quiet)
limit=$((DUR + LEAD + 60))

echo "1 process: --users $USERS --rate $RATE --duration ${DUR}s ..." >&2
start_site single
timeout -k 5 "$limit" "$amp" replay "$work/demo.amp" --host "$site" "${flags[@]}" --start-at "$(start_at)" \
	--json "$work/single.json" >"$work/single.log" 2>&1 || { cat "$work/single.log" >&2; exit 1; }
stop_site

echo "$SHARDS shard processes, the same flags, one shared --start-at ..." >&2
start_site shards
at=$(start_at)
shard_pids=()
for i in $(seq 0 $((SHARDS - 1))); do
	timeout -k 5 "$limit" "$amp" replay "$work/demo.amp" --host "$site" "${flags[@]}" --start-at "$at" \
		--shard "$i/$SHARDS" --print-result >"$work/shard-$i.log" 2>"$work/shard-$i.err" &
	shard_pids+=($!)
done
for i in "${!shard_pids[@]}"; do
	wait "${shard_pids[$i]}" || { echo "shard $i failed:" >&2; cat "$work/shard-$i.err" >&2; exit 1; }
done
stop_site

"$amp" kube collect --from-logs "$work"/shard-*.log -o "$work/results" >&2
"$amp" report --merge "$work"/results/shard-*.json --json "$work/merged.json" --quiet >&2

row() { # LABEL FILE
	jq -r --arg l "$1" '[$l, .users, .requests, .failures, (.rps*10|round/10),
		.latency_ms.p50, .latency_ms.p95, .latency_ms.p99, .latency_ms.max] | map(tostring) | "| " + join(" | ") + " |"' "$2"
}
echo
echo "| run | peak users | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
row "1 process" "$work/single.json"
for f in "$work"/results/shard-*.json; do row "  shard $(jq -r .config.shard "$f")" "$f"; done
jq -s -r '"| sum of shards | \(map(.users)|add) | \(map(.requests)|add) | \(map(.failures)|add) | \(map(.rps)|add*10|round/10) | | | | |"' "$work"/results/shard-*.json
row "merged" "$work/merged.json"
echo
single=$(jq .requests "$work/single.json")
merged=$(jq .requests "$work/merged.json")
sum=$(jq -s 'map(.requests)|add' "$work"/results/shard-*.json)
users=$(jq -s 'map(.users)|add' "$work"/results/shard-*.json)
echo "shard users add up to $users (want $USERS ±1); merged requests $merged = sum of shards $sum: $([ "$merged" = "$sum" ] && echo exact || echo MISMATCH)"
echo "merged vs 1 process: requests $(awk -v a="$merged" -v b="$single" 'BEGIN{printf "%+.1f%%", (a-b)*100/b}')," \
	"p95 $(jq -r .latency_ms.p95 "$work/merged.json") vs $(jq -r .latency_ms.p95 "$work/single.json") ms" \
	"(one shared, noisy machine: the shards also compete with each other for its cores)"
[ "$merged" = "$sum" ] && [ $((users - USERS)) -le 1 ] && [ $((USERS - users)) -le 1 ]
