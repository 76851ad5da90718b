#!/usr/bin/env bash
# bench/fidelity/run.sh: the real-app fidelity suite (issue 12).
#
# For every app in apps/*/app.sh (or those named as arguments) and each id base (1: a fresh
# install's short ids; 1000: the object sequence bumped), it
#   1. starts the app fresh, records one scripted flow (log in through the CSRF-protected form,
#      create an object through the app's own form, open the object the server returned)
#      through `amp record --target` as the recorded account "admin"; where the app has a
#      `browser` subcommand, records the same flow by headless Chromium too;
#   2. replays each recording against a FRESH instance with
#      amp replay F.amp --host URL --users $USERS --iterations $ITER --think none
#      in the modes
#        scripted     the scripted recording                          expect: pass
#        data         the same with --data users.csv (user01..user20)  expect: pass, 20 accounts
#        nocorrelate  the same with --no-correlate                      expect: fails visibly
#        chromium     the Chromium recording                          expect: pass
#      pass = 0 failures, 0 `differs`, and the app's own DB/log shows >= ITER logins, >= ITER
#      objects created, >= ITER opens of which >= 90 % distinct objects;
#   3. prints one table row per (app, ids, mode) and exits 1 if any outcome is not the expected one.
# An app that keeps at most N sessions per account (app.sh sessionlimit: Redmine's 10) logs
# users of the one recorded account out mid-flow; its rows say so, and --data is the cure.
#
# Usage: bench/fidelity/run.sh [APP...]
#   env: IDBASES="1 1000"  MODES="scripted data nocorrelate chromium"  USERS=20  ITER=20
#        AMP=path/to/amp (default: built from this checkout)  KEEP=1 (keep the work dir)
#        FIDELITY_PASSWORD (default amp-Fidelity-1)  REPLAY_FLAGS (extra flags for every replay)
# Everything listens on 127.0.0.1 on free ports; every wait is bounded; all is stopped on exit.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
IDBASES=${IDBASES:-"1 1000"}
MODES=${MODES:-"scripted data nocorrelate chromium"}
USERS=${USERS:-20}
ITER=${ITER:-20}
export FIDELITY_PASSWORD=${FIDELITY_PASSWORD:-amp-Fidelity-1}
WORK=$(mktemp -d -t ampfidelity.XXXXXX)
echo "work dir: $WORK" >&2

RUNNING=()       # app dirs to stop
RECPID=""
APPSH=""
cleanup() {
  [ -n "$RECPID" ] && kill "$RECPID" 2>/dev/null
  for d in "${RUNNING[@]}"; do
    [ -f "$d/pid" ] && "$(cat "$d/appsh")" stop "$d" >/dev/null 2>&1
  done
  wait 2>/dev/null
  [ "${KEEP:-}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in curl jq python3 go; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# listening PORT: a TCP connect succeeds (no HTTP request, so nothing is recorded)
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -n "${AMP:-}" ]; then :; else
  AMP="$WORK/amp"
  (cd "$ROOT" && go build -o "$AMP" ./cmd/amp) || { echo "building amp failed" >&2; exit 1; }
fi
HELP=$("$AMP" replay --help 2>&1)
has_flag() { grep -q -- "--$1[ ,]" <<<"$HELP"; }

apps=("$@")
if [ ${#apps[@]} -eq 0 ]; then
  for f in "$HERE"/apps/*/app.sh; do apps+=("$(basename "$(dirname "$f")")"); done
fi

# start_app APP IDBASE NAME: a fresh instance in $WORK/NAME; sets DIR and URL
start_app() {
  DIR="$WORK/$3"; mkdir -p "$DIR"
  local port; port=$(freeport)
  echo "$HERE/apps/$1/app.sh" >"$DIR/appsh"
  RUNNING+=("$DIR")
  if ! timeout 300 "$HERE/apps/$1/app.sh" start "$DIR" "$port" "$2" >"$DIR/start.out" 2>&1; then
    echo "$1: start failed: $(tail -3 "$DIR/start.out")" >&2
    return 1
  fi
  URL="http://127.0.0.1:$port"
}
stop_app() { "$HERE/apps/$1/app.sh" stop "$2" >/dev/null 2>&1; }

# record APP IDBASE KIND(flow|browser) OUT: start fresh, record one flow through amp record
record() {
  local app=$1 idbase=$2 kind=$3 out=$4
  start_app "$app" "$idbase" "$app-rec-$kind-$idbase" || return 1
  local rdir=$DIR rport; rport=$(freeport)
  "$AMP" record --target "$URL" --listen "127.0.0.1:$rport" -o "$out" -q >"$rdir/record.log" 2>&1 &
  RECPID=$!
  for _ in $(seq 100); do listening "$rport" && break; sleep 0.1; done
  local ok=0
  if timeout 180 "$HERE/apps/$app/app.sh" "$kind" "http://127.0.0.1:$rport" admin "$FIDELITY_PASSWORD" >"$rdir/flow.out" 2>&1; then ok=1; fi
  kill -INT "$RECPID" 2>/dev/null; wait "$RECPID" 2>/dev/null; RECPID=""
  stop_app "$app" "$rdir"
  if [ $ok = 0 ]; then echo "$app: recording the $kind flow failed:" >&2; sed 's/^/    /' "$rdir/flow.out" >&2; return 1; fi
  cp "$rdir/flow.out" "$out.flow"
}

printf '%-10s %-5s %-12s %6s %6s %7s %6s %5s %7s %5s %8s  %-14s %s\n' \
  app ids mode reqs fails differs logins users created opens distinct expected result
ROWS_BAD=0
row() { # app ids mode reqs fails differs logins users created opens distinct expected result
  printf '%-10s %-5s %-12s %6s %6s %7s %6s %5s %7s %5s %8s  %-14s %s\n' "$@"
  case "${13}" in ok*) ;; *) ROWS_BAD=$((ROWS_BAD + 1)) ;; esac
}

for app in "${apps[@]}"; do
  appsh="$HERE/apps/$app/app.sh"
  if [ ! -x "$appsh" ]; then row "$app" - - - - - - - - - - - "no $appsh"; continue; fi
  # --data: the accounts user01..user20, under the names of the app's login form fields
  # (app.sh datacols prints them; username,password when it has no such subcommand)
  USERSCSV="$WORK/$app-users.csv"
  cols=username,password
  grep -q '^ *datacols)' "$appsh" && cols=$("$appsh" datacols)
  { echo "$cols"; for i in $(seq -w 1 20); do echo "user$i,$FIDELITY_PASSWORD"; done; } >"$USERSCSV"
  if ! msg=$("$appsh" install 2>&1); then row "$app" - - - - - - - - - - - "install failed: $msg"; continue; fi
  for idbase in $IDBASES; do
    rec_s="$WORK/$app-$idbase-scripted.amp"; rec_c="$WORK/$app-$idbase-chromium.amp"
    have_s=0; have_c=0
    record "$app" "$idbase" flow "$rec_s" && have_s=1
    if [[ " $MODES " == *" chromium "* ]] && grep -q '^browser)' "$appsh"; then
      record "$app" "$idbase" browser "$rec_c" && have_c=1
    fi
    for mode in $MODES; do
      rec=$rec_s; have=$have_s; flags=(); expect=pass
      case $mode in
        scripted) ;;
        data)
          if ! has_flag data; then row "$app" "$idbase" "$mode" - - - - - - - - "pass, 20 users" "FAIL: amp has no --data"; continue; fi
          flags=(--data "$USERSCSV"); expect="pass, 20 users" ;;
        nocorrelate) flags=(--no-correlate); expect="fail visibly" ;;
        chromium)
          grep -q '^browser)' "$appsh" || continue
          rec=$rec_c; have=$have_c ;;
        *) echo "unknown mode $mode" >&2; exit 2 ;;
      esac
      if [ $have = 0 ]; then row "$app" "$idbase" "$mode" - - - - - - - - "$expect" "FAIL: no recording"; continue; fi
      users=$USERS; note=""
      # One recorded account for every user: an app that keeps N sessions per account
      # (app.sh sessionlimit) logs the oldest out while others still use them. amp reports
      # it (differs: status 302 …); the row says why, and --data is the cure.
      if [ "$mode" != data ] && grep -q '^ *sessionlimit)' "$appsh"; then
        note=" (the app keeps $("$appsh" sessionlimit) sessions per account; $users users share one)"
      fi
      name="$app-$idbase-$mode"
      if ! start_app "$app" "$idbase" "$name"; then row "$app" "$idbase" "$mode" - - - - - - - - "$expect" "FAIL: start"; continue; fi
      # shellcheck disable=SC2086
      timeout 600 "$AMP" replay "$rec" --host "$URL" --users "$users" --iterations "$ITER" --think none -q \
        --json "$WORK/$name.json" "${flags[@]}" ${REPLAY_FLAGS:-} >"$WORK/$name.replay" 2>&1
      rc=$?
      stats=$("$appsh" stats "$DIR" 2>/dev/null || echo '{}')
      stop_app "$app" "$DIR"
      read -r reqs fails differs < <(jq -r '[.requests // 0, .failures // 0,
          ([.errors[]? | select(.reason | test("^differs")) | .count] | add // 0)] | @tsv' "$WORK/$name.json" 2>/dev/null || echo "- - -")
      read -r logins users created opens distinct < <(jq -r '[.logins, .users, .created, .opens, .distinct_opens] | map(. // 0) | @tsv' <<<"$stats" 2>/dev/null || echo "0 0 0 0 0")
      : "${reqs:=-}" "${fails:=-}" "${differs:=-}"
      # the top failure reasons, for the notes under the table
      jq -r '.errors[]? | "\(.count)\t\(.method) \(.name)\t\(.reason)"' "$WORK/$name.json" 2>/dev/null | sort -rn | head -5 |
        sed "s/^/  $name: /" >>"$WORK/reasons"
      good=1; why=""
      [ "$reqs" = - ] && { good=0; why="replay exit $rc: $(tail -1 "$WORK/$name.replay")"; }
      [ "$reqs" != - ] && [ "$fails" -gt 0 ] && { good=0; why+="failures "; }
      [ "$reqs" != - ] && [ "$differs" -gt 0 ] && { good=0; why+="differs "; }
      [ "$logins" -lt "$ITER" ] && { good=0; why+="logins<$ITER "; }
      [ "$created" -lt "$ITER" ] && { good=0; why+="created<$ITER "; }
      [ "$opens" -lt "$ITER" ] && { good=0; why+="opens<$ITER "; }
      [ $((distinct * 10)) -lt $((opens * 9)) ] && { good=0; why+="distinct<90% "; }
      [ "$mode" = data ] && [ "$users" -lt 20 ] && { good=0; why+="users<20 "; }
      if [ "$mode" = nocorrelate ]; then
        # must fail visibly: amp itself reports failures (a quiet success with wrong effects is the bug)
        if [ "$reqs" != - ] && [ "$fails" -gt 0 ]; then result="ok (failed: $fails)"; else result="FAIL: not visibly failed${why:+ ($why)}"; fi
      elif [ $good = 1 ]; then result="ok$note"; else result="FAIL: ${why% }$note"; fi
      row "$app" "$idbase" "$mode" "$reqs" "$fails" "$differs" "$logins" "$users" "$created" "$opens" "$distinct" "$expect" "$result"
    done
  done
done
if [ -s "$WORK/reasons" ]; then echo; echo "top failure reasons (count, endpoint, reason):"; cat "$WORK/reasons"; fi
echo
echo "amp: $(cd "$ROOT" && git log -1 --format='%h %s' 2>/dev/null | cut -c1-80)"
[ $ROWS_BAD = 0 ] || { echo "$ROWS_BAD row(s) not as expected"; exit 1; }
