#!/usr/bin/env bash
# bench/fidelity/apps/miniflux: Miniflux (Go feed reader, from the Go module proxy) on a private
# PostgreSQL cluster (Debian postgresql) in DIR, reached over a unix socket. See ../../README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VERSION=v2.3.5
CACHE=${FIDELITY_CACHE:-$HOME/.cache/amp-fidelity}
BIN="$CACHE/bin/miniflux.app"
PASS=${FIDELITY_PASSWORD:-amp-Fidelity-1}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
cmd=${1:-}; shift || true

# pg CMD...: run a PostgreSQL tool as the cluster's owner (initdb refuses root)
pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
install)
  if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1; } || true
    fi
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || { echo "miniflux: Debian package postgresql is missing (apt-get install postgresql)"; exit 1; }
  fi
  command -v psql >/dev/null || { echo "miniflux: psql is missing (apt-get install postgresql-client)"; exit 1; }
  if ! go version -m "$BIN" 2>/dev/null | grep -q "mod[[:space:]]*miniflux.app/v2[[:space:]]*$VERSION"; then
    command -v go >/dev/null || { echo "miniflux: go is missing, needed to install miniflux.app/v2@$VERSION"; exit 1; }
    mkdir -p "$CACHE/bin"
    GOBIN="$CACHE/bin" CGO_ENABLED=0 go install "miniflux.app/v2@$VERSION" >"$CACHE/miniflux-install.log" 2>&1 \
      || { echo "miniflux: go install miniflux.app/v2@$VERSION failed (see $CACHE/miniflux-install.log)"; exit 1; }
  fi
  ;;
version)
  echo "Miniflux $VERSION (go install miniflux.app/v2@$VERSION), PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')"
  ;;
start)
  DIR=$1 PORT=$2 IDBASE=$3
  # the cluster lives where the postgres user can reach it; DIR/pgdata points at it
  PGD=$(mktemp -d /tmp/fidelity-pg.XXXXXX); echo "$PGD" >"$DIR/pgdata"
  chmod 755 "$PGD"; [ "$(id -u)" = 0 ] && chown postgres: "$PGD"
  pg "$PGBIN/initdb" -D "$PGD/data" -U postgres -A trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 \
    || { echo "miniflux: initdb failed:"; tail -3 "$DIR/initdb.log"; exit 1; }
  pg "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/postgres.log" -w -t 30 \
    -o "-c listen_addresses='' -c unix_socket_directories='$PGD' -c fsync=off -c synchronous_commit=off" start >/dev/null \
    || { echo "miniflux: postgres did not start:"; tail -3 "$PGD/postgres.log"; exit 1; }
  psql -h "$PGD" -U postgres -qc "CREATE DATABASE miniflux" >/dev/null
  # the feeds: a local proxy answering every feed URL (see feedserver.py)
  FEEDPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  setsid python3 "$HERE/feedserver.py" "$FEEDPORT" >"$DIR/feedserver.log" 2>&1 </dev/null &
  echo $! >"$DIR/feedpid"
  export HTTP_CLIENT_PROXIES="http://127.0.0.1:$FEEDPORT" FETCHER_ALLOW_PRIVATE_NETWORKS=1 FETCHER_ALLOW_PRIVATE_FEED_PROXY=1
  export DATABASE_URL="host=$PGD user=postgres dbname=miniflux sslmode=disable"
  export LISTEN_ADDR="127.0.0.1:$PORT" BASE_URL="http://127.0.0.1:$PORT" RUN_MIGRATIONS=1 CREATE_ADMIN=1 \
    ADMIN_USERNAME=admin ADMIN_PASSWORD="$PASS" LOG_FORMAT=json LOG_LEVEL=debug DISABLE_SCHEDULER_SERVICE=1 \
    POLLING_FREQUENCY=1440 WORKER_POOL_SIZE=1
  setsid "$BIN" >"$DIR/log" 2>&1 </dev/null &
  echo $! >"$DIR/pid"
  up=0
  for _ in $(seq 150); do
    curl -fso /dev/null "http://127.0.0.1:$PORT/healthcheck" && { up=1; break; }
    kill -0 "$(cat "$DIR/pid")" 2>/dev/null || break
    sleep 0.2
  done
  [ $up = 1 ] || { echo "miniflux: no answer on 127.0.0.1:$PORT:"; tail -3 "$DIR/log"; exit 1; }
  # user01..user20 through the API, as an admin creates accounts (each gets its "All" category)
  for i in $(seq -w 1 20); do
    curl -fsS -o /dev/null -u "admin:$PASS" -H 'Content-Type: application/json' \
      -d "{\"username\":\"user$i\",\"password\":\"$PASS\",\"is_admin\":true}" "http://127.0.0.1:$PORT/v1/users" \
      || { echo "miniflux: creating user$i failed"; exit 1; }
  done
  if [ "$IDBASE" -gt 1 ]; then
    psql -h "$PGD" -U postgres -d miniflux -qtAc "SELECT setval('feeds_id_seq', $IDBASE - 1)" >/dev/null
  fi
  ;;
flow)
  exec python3 "$HERE/flow.py" "$@"
  ;;
browser)
  "$HERE/../../lib/install-playwright.sh"
  exec node "$HERE/browser.js" "$@"
  ;;
stats)
  DIR=$1
  PGD=$(cat "$DIR/pgdata")
  ids=$(psql -h "$PGD" -U postgres -d miniflux -qtAc "SELECT string_agg(id::text, ',') FROM feeds WHERE feed_url LIKE 'http://feeds.fidelity.example/%'")
  python3 - "$DIR/log" "$ids" <<'PYEOF'
import json, re, sys
logins, users, opens = 0, set(), []
created = set(x for x in sys.argv[2].split(",") if x)
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("msg", "").startswith("User authenticated successfully"):
        logins += 1
        users.add(e.get("username"))
    req = e.get("request") or {}
    m = re.fullmatch(r"/feed/(\d+)/entries", req.get("uri", "")) if req.get("method") == "GET" else None
    if m and m.group(1) in created:     # opens of a feed the flow created (a miss, 404, is not one)
        opens.append(m.group(1))
print(json.dumps({"logins": logins, "users": len(users), "created": len(created), "opens": len(opens),
                  "distinct_opens": len(set(opens)), "min_id": min(map(int, created), default=0)}))
PYEOF
  ;;
stop)
  DIR=$1
  if [ -f "$DIR/pid" ]; then
    pid=$(cat "$DIR/pid")
    kill -- -"$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- -"$pid" 2>/dev/null || true
    rm -f "$DIR/pid"
  fi
  if [ -f "$DIR/feedpid" ]; then kill -- -"$(cat "$DIR/feedpid")" 2>/dev/null || true; rm -f "$DIR/feedpid"; fi
  if [ -f "$DIR/pgdata" ]; then
    PGD=$(cat "$DIR/pgdata")
    [ -d "$PGD/data" ] && pg "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    case "$PGD" in /tmp/fidelity-pg.*) rm -rf "$PGD" ;; esac
    rm -f "$DIR/pgdata"
  fi
  ;;
*)
  echo "usage: app.sh install | start DIR PORT IDBASE | flow BASEURL USER PASS | browser BASEURL USER PASS | stats DIR | stop DIR" >&2
  exit 2
  ;;
esac
