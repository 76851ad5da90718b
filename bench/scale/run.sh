#!/usr/bin/env bash
# Scale benchmark: how amp's memory and start-up time grow with the size of
# the recording (issue 15). For each size it generates a keep-alive HTTP/1.1
# capture (bench/import/gen, responses of SCALE_MEAN_BODY bytes on average),
# imports it into a recording, and measures
#
#   amp sessions REC                                   (to /dev/null)
#   amp replay REC --host URL --dry-run                (to /dev/null)
#   amp replay REC --host URL --users 50 --duration 10s --checks status -q
#   amp kube job REC --recording-pvc recs --shards 2 ...  (the manifests, to /dev/null)
#
# against a tiny server on 127.0.0.1 (bench/scale/firstreq) that notes when
# the first request arrives. Printed per command and size: peak RSS (from
# /usr/bin/time -v), the time from the process start to the first request
# the server sees (replay) or to the first byte of output (sessions,
# dry-run, kube job), and the wall time; then the slope of peak RSS in bytes per
# exchange between consecutive sizes and between the smallest and largest.
#
#   bench/scale/run.sh                       sizes 50 500 2000 (MB of capture)
#   SCALE_SIZES="20 60 120" bench/scale/run.sh
#
# Environment:
#   SCALE_SIZES      capture sizes in MB (default "50 500 2000"); the
#                    recording is about 0.91 of it
#   SCALE_MEAN_BODY  mean response body in bytes (default 2000)
#   SCALE_USERS      users of the replay (default 50)
#   SCALE_DURATION   duration of the replay (default 10s)
#   SCALE_REPLAY     extra amp replay flags (default "--checks status": the
#                    tiny server's answers are unlike the recorded ones)
#   SCALE_TMP        where the work directory is made (default /tmp)
#
# Everything it writes goes into one work directory under SCALE_TMP, removed
# at the end; each recording is deleted once measured. It stops the server
# and any amp it started on exit, Ctrl-C included. Needs /usr/bin/time (apt-get
# install time). The machine may be shared: compare figures of one run only.
set -euo pipefail

SIZES=${SCALE_SIZES:-50 500 2000}
MEAN=${SCALE_MEAN_BODY:-2000}
USERS=${SCALE_USERS:-50}
DURATION=${SCALE_DURATION:-10s}
EXTRA=${SCALE_REPLAY:---checks status}
TMPBASE=${SCALE_TMP:-/tmp}

cd "$(dirname "$0")/../.."
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
for s in $SIZES; do
	[[ $s =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: SCALE_SIZES: \"$s\" is not a size in MB" >&2; exit 1; }
done

work=$(mktemp -d "$TMPBASE/amp-scale.XXXXXX")
srv_pid=""
amp_pid=""
cleanup() {
	[ -n "$amp_pid" ] && kill -- "-$amp_pid" 2>/dev/null || true
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null || true
	[ -n "$srv_pid" ] && wait "$srv_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$work/amp" ./cmd/amp
go build -o "$work/gen" ./bench/import/gen
go build -o "$work/firstreq" ./bench/scale/firstreq

# free_mb: the MB free where the work directory is.
free_mb() { df -Pm "$work" | awk 'NR==2{print $4}'; }

# start_server: a fresh firstreq (so that its first request is this run's);
# sets srv_pid and addr.
start_server() {
	rm -f "$work/addr" "$work/first"
	"$work/firstreq" -addr-file "$work/addr" -first-file "$work/first" &
	srv_pid=$!
	for _ in $(seq 1 100); do [ -s "$work/addr" ] && break; sleep 0.05; done
	[ -s "$work/addr" ] || { echo "run.sh: the test server did not start" >&2; exit 1; }
	addr=$(cat "$work/addr")
}
stop_server() {
	kill "$srv_pid" 2>/dev/null || true
	wait "$srv_pid" 2>/dev/null || true
	srv_pid=""
}

# measure FIRST CMD...: runs CMD under /usr/bin/time -v, in a process group
# of its own (so that cleanup stops it and its child); FIRST is "request" (the
# server's first request) or "output" (CMD's first byte of standard output).
# Sets m_rss (KB), m_first and m_wall (s).
measure() {
	local first=$1; shift
	rm -f "$work/firstout" "$work/time" "$work/out.fifo"
	mkfifo "$work/out.fifo"
	{ IFS= read -r -n1 _ && date +%s%N >"$work/firstout"; cat >/dev/null; } <"$work/out.fifo" &
	local reader=$!
	local start end
	start=$(date +%s%N)
	setsid /usr/bin/time -v -o "$work/time" "$@" >"$work/out.fifo" 2>"$work/err" &
	amp_pid=$!
	wait "$amp_pid" || true
	end=$(date +%s%N)
	amp_pid=""
	wait "$reader" || true
	if ! grep -q "Exit status: 0" "$work/time"; then
		echo "run.sh: $* failed:" >&2
		tail -5 "$work/err" >&2
		exit 1
	fi
	local t=""
	m_rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$work/time")
	if [ "$first" = request ]; then
		[ -s "$work/first" ] && t=$(cat "$work/first")
	else
		[ -s "$work/firstout" ] && t=$(cat "$work/firstout")
	fi
	m_first="-"
	[ -n "$t" ] && m_first=$(awk -v a="$t" -v s="$start" 'BEGIN{printf "%.2f", (a-s)/1e9}')
	m_wall=$(awk -v e="$end" -v s="$start" 'BEGIN{printf "%.2f", (e-s)/1e9}')
}

declare -a ex_of rss_of
printf "%-30s %9s %10s %10s %12s %8s\n" "" "exchanges" "rec MiB" "RSS MiB" "first (s)" "wall (s)"
n=0
for size in $SIZES; do
	need=$((size * 2 + 512))
	if [ "$(free_mb)" -lt "$need" ]; then
		echo "run.sh: $size MB needs about $need MB free in $work, $(free_mb) MB left: skipped" >&2
		continue
	fi
	"$work/gen" -o "$work/cap.pcap" -size "$size" -mean-body "$MEAN" -seed 1 >/dev/null
	rec="$work/rec-$size.amp"
	line=$("$work/amp" import "$work/cap.pcap" -o "$rec" -q 2>&1)
	rm -f "$work/cap.pcap"
	ex=$(sed -n 's/.* \([0-9][0-9]*\) requests in [0-9]* sessions written.*/\1/p' <<<"$line")
	[ -n "$ex" ] || { echo "run.sh: unexpected import summary: $line" >&2; exit 1; }
	recmib=$(awk -v b="$(stat -c %s "$rec")" 'BEGIN{printf "%.0f", b/1048576}')
	sync

	start_server
	measure output "$work/amp" sessions "$rec"
	r1=$m_rss f1=$m_first w1=$m_wall
	measure output "$work/amp" replay "$rec" --host "http://$addr" --dry-run
	r2=$m_rss f2=$m_first w2=$m_wall
	measure output "$work/amp" kube job "$rec" --recording-pvc recs --shards 2 --image amp \
		--host "http://$addr" --users "$USERS" --duration "$DURATION"
	r4=$m_rss f4=$m_first w4=$m_wall
	stop_server
	start_server
	# shellcheck disable=SC2086 # EXTRA is a list of flags
	measure request "$work/amp" replay "$rec" --host "http://$addr" \
		--users "$USERS" --duration "$DURATION" --no-default-thresholds -q $EXTRA
	r3=$m_rss f3=$m_first w3=$m_wall
	stop_server
	rm -f "$rec"

	mib() { awk -v k="$1" 'BEGIN{printf "%.0f", k/1024}'; }
	printf "%-30s %9s %10s %10s %12s %8s\n" "${size} MB capture: sessions" "$ex" "$recmib" "$(mib "$r1")" "$f1 (output)" "$w1"
	printf "%-30s %9s %10s %10s %12s %8s\n" "  replay --dry-run" "" "" "$(mib "$r2")" "$f2 (output)" "$w2"
	printf "%-30s %9s %10s %10s %12s %8s\n" "  replay ${USERS}u ${DURATION}" "" "" "$(mib "$r3")" "$f3" "$w3"
	printf "%-30s %9s %10s %10s %12s %8s\n" "  kube job" "" "" "$(mib "$r4")" "$f4 (output)" "$w4"
	ex_of[n]=$ex
	rss_of[n]="$r1 $r2 $r3 $r4"
	n=$((n + 1))
done

# slope I J: bytes of peak RSS per exchange from size I to size J, per command.
slope() {
	local i=$1 j=$2 a b
	read -r -a a <<<"${rss_of[i]}"
	read -r -a b <<<"${rss_of[j]}"
	local d=$((ex_of[j] - ex_of[i]))
	[ "$d" -gt 0 ] || { echo "(no more exchanges)"; return; }
	printf "sessions %6.0f   dry-run %6.0f   replay %6.0f   kube job %6.0f" \
		"$(awk -v x="${a[0]}" -v y="${b[0]}" -v d="$d" 'BEGIN{print (y-x)*1024/d}')" \
		"$(awk -v x="${a[1]}" -v y="${b[1]}" -v d="$d" 'BEGIN{print (y-x)*1024/d}')" \
		"$(awk -v x="${a[2]}" -v y="${b[2]}" -v d="$d" 'BEGIN{print (y-x)*1024/d}')" \
		"$(awk -v x="${a[3]}" -v y="${b[3]}" -v d="$d" 'BEGIN{print (y-x)*1024/d}')"
}
if [ "$n" -ge 2 ]; then
	echo
	echo "slope of peak RSS, bytes per exchange:"
	for ((i = 1; i < n; i++)); do
		printf "  %9s -> %9s exchanges: %s\n" "${ex_of[i - 1]}" "${ex_of[i]}" "$(slope $((i - 1)) "$i")"
	done
	if [ "$n" -gt 2 ]; then
		printf "  %9s -> %9s exchanges: %s\n" "${ex_of[0]}" "${ex_of[n - 1]}" "$(slope 0 $((n - 1)))"
	fi
fi
