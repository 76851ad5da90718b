#!/usr/bin/env bash
# Benchmark of amp import against tshark on the same captures: generated
# keep-alive HTTP/1.1 captures (default 200 MB each) with two response-size
# mixes, "pages" (16 KB on average) and "api" (2 KB), imported by
# `amp import` and read by `tshark -n -r FILE -Y http` (which reassembles TCP,
# dissects HTTP and prints every HTTP message). Reports wall and CPU time,
# throughput and the ratio for each. amp import runs on one core.
#
#   bench/import/run.sh [SIZE_MB [RUNS]]          (defaults: 200 3; best run counts)
#
# Needs tshark (apt-get install tshark). The machine may be shared: compare
# figures from one run only.
set -euo pipefail

SIZE=${1:-200}
RUNS=${2:-3}

cd "$(dirname "$0")/../.."
command -v tshark >/dev/null || { echo "run.sh: tshark not found (apt-get install tshark)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/amp" ./cmd/amp

# best_of RUNS CMD...: the fastest wall time (s) of RUNS runs and its CPU
# time (user+sys), as "WALL CPU". The command's stdout is left in $work/out.
best_of() {
	local runs=$1; shift
	local best="" bestcpu=""
	for _ in $(seq 1 "$runs"); do
		/usr/bin/time -f "%e %U %S" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
		read -r wall user sys <"$work/time"
		cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN{printf "%.2f", u+s}')
		if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$wall; bestcpu=$cpu; fi
	done
	echo "$best $bestcpu"
}
mibs() { awk -v b="$1" -v t="$2" 'BEGIN{printf "%.0f", b/1048576/t}'; }

for mix in pages:16000 api:2000; do
	name=${mix%%:*} mean=${mix##*:}
	cap="$work/$name.pcap"
	go run ./bench/import/gen -o "$cap" -size "$SIZE" -mean-body "$mean" -seed 1 >/dev/null
	bytes=$(stat -c %s "$cap")
	read -r amp_wall amp_cpu < <(best_of "$RUNS" "$work/amp" import "$cap" -o "$work/out.amp" --force -q)
	summary=$(cat "$work/out")
	read -r ts_wall ts_cpu < <(best_of 1 tshark -n -r "$cap" -Y http)
	msgs=$(wc -l <"$work/out")
	echo "== $name: $(awk -v b="$bytes" 'BEGIN{printf "%.0f", b/1048576}') MiB, responses of $mean bytes on average"
	echo "   amp import      ${amp_wall}s wall, ${amp_cpu}s CPU, $(mibs "$bytes" "$amp_wall") MiB/s (best of $RUNS)"
	echo "                   ${summary#import: }"
	echo "   tshark -Y http  ${ts_wall}s wall, ${ts_cpu}s CPU, $(mibs "$bytes" "$ts_wall") MiB/s, $msgs HTTP messages listed"
	echo "   ratio           amp import $(awk -v a="$amp_wall" -v t="$ts_wall" 'BEGIN{printf "%.1f", t/a}')x faster (wall), $(awk -v a="$amp_cpu" -v t="$ts_cpu" 'BEGIN{printf "%.1f", t/a}')x less CPU"
	rm -f "$cap"
done
