#!/usr/bin/env bash
# Redmine (Debian package redmine with redmine-sqlite, served by Puma from the
# Debian package puma) for the amp fidelity suite.
# Subcommands (see bench/fidelity/README.md): install | start DIR PORT IDBASE |
# flow BASEURL USER PASS | stats DIR | stop DIR | datacols (the login form's
# user and password field names, the columns of a --data file)
#
# Each start is a Redmine instance of the package's own multi-instance scheme
# (REDMINE_INSTANCE=NAME reads /usr/share/redmine/instances/NAME, i.e.
# /var/lib/redmine/NAME): that name is a symlink to DIR, which holds the
# instance's config (database.yml, secret), SQLite database, logs and tmp.
# BUNDLE_GEMFILE=DIR/Gemfile is the package's Gemfile plus puma, which the
# package's Gemfile does not name. Nothing system-wide is started; stop removes
# the symlink.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RM=/usr/share/redmine
PASS=${FIDELITY_PASSWORD:-amp-Fidelity-1}
PKGS="redmine redmine-sqlite puma ruby-sqlite3"

die() { echo "redmine: $*" >&2; exit 1; }

# shellcheck source=../../lib/debian.sh
. "$HERE/../../lib/debian.sh"

# The package's postinst configures its default instance through dbconfig-common
# (SQLite, no questions asked); start makes instances of its own.
cmd_install() { install_pkgs; }

instance_env() { # the environment of every Redmine process of DIR's instance
	INST=$(cat "$DIR/instance")
	export REDMINE_INSTANCE="$INST" RAILS_ENV=production BUNDLE_GEMFILE="$DIR/Gemfile" \
		RAILS_SERVE_STATIC_FILES=1 REDMINE_LANG=en FIDELITY_PASSWORD="$PASS"
}

sql() { # sql STATEMENT: one value from DIR's database
	ruby -rsqlite3 -e 'db = SQLite3::Database.new(ARGV[0]); puts db.get_first_value(ARGV[1])' \
		"$DIR/db/redmine.sqlite3" "$1"
}

cmd_start() {
	DIR=${1:?start DIR PORT IDBASE}; PORT=${2:?start DIR PORT IDBASE}; IDBASE=${3:?start DIR PORT IDBASE}
	have_pkgs || die "not installed: run app.sh install"
	DIR=$(cd "$DIR" && pwd)
	mkdir -p "$DIR/config" "$DIR/log" "$DIR/tmp/cache" "$DIR/tmp/pids" "$DIR/files" "$DIR/public" "$DIR/db"
	echo "amp-fidelity-$(printf %s "$DIR" | sha1sum | cut -c1-12)" >"$DIR/instance"
	cat >"$DIR/config/database.yml" <<EOS
production:
  adapter: sqlite3
  database: $DIR/db/redmine.sqlite3
  pool: 16
  timeout: 30000
EOS
	od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$DIR/config/secret_key.txt"
	printf 'eval_gemfile "%s/Gemfile"\ngem "puma"\n' "$RM" >"$DIR/Gemfile"
	instance_env
	ln -sfn "$DIR" "/var/lib/redmine/$INST"
	(cd "$RM" && bin/rake db:migrate) >"$DIR/setup.log" 2>&1 || die "db:migrate failed, see $DIR/setup.log"
	ruby -rsqlite3 -e 'SQLite3::Database.new(ARGV[0]).execute("PRAGMA journal_mode=WAL")' "$DIR/db/redmine.sqlite3"
	(cd "$RM" && FIDELITY_IDBASE="$IDBASE" bin/rails runner "$HERE/setup.rb") >>"$DIR/setup.log" 2>&1 ||
		die "setting up accounts and project failed, see $DIR/setup.log"
	: >"$DIR/log/production.log"
	# One Puma thread: Rails 6.1 opens SQLite transactions DEFERRED, so two
	# concurrent writers can fail at once with "database is locked" whatever
	# the busy timeout; serialised requests cannot.
	(cd "$RM" && exec setsid puma --environment production --bind "tcp://127.0.0.1:$PORT" \
		--threads 1:1 --pidfile "$DIR/tmp/pids/server.pid" config.ru >"$DIR/log/server.log" 2>&1) &
	echo $! >"$DIR/pid"
	ln -sfn log/production.log "$DIR/log.txt"
	local i
	for i in $(seq 1 150); do
		if curl -fs -o /dev/null "http://127.0.0.1:$PORT/login"; then
			return 0
		fi
		kill -0 "$(cat "$DIR/pid")" 2>/dev/null || die "the server exited, see $DIR/log/server.log"
		sleep 0.2
	done
	die "no answer on 127.0.0.1:$PORT within 30 s, see $DIR/log/server.log"
}

cmd_flow() {
	[ $# -eq 3 ] || die "usage: app.sh flow BASEURL USER PASS"
	python3 "$HERE/flow.py" "$@"
}

cmd_browser() { # the same flow in headless Chromium (bench/fidelity/lib)
	[ $# -eq 3 ] || die "usage: app.sh browser BASEURL USER PASS"
	"$HERE/../../lib/install-playwright.sh"
	node "$HERE/browser.js" "$@"
}

cmd_stats() {
	DIR=${1:?stats DIR}
	local log="$DIR/log/production.log" logins users created opens distinct
	logins=$(grep -c "Successful authentication for '" "$log" || true)
	users=$(sed -n "s/.*Successful authentication for '\([^']*\)'.*/\1/p" "$log" | sort -u | wc -l)
	created=$(sql "SELECT COUNT(*) FROM issues JOIN projects ON projects.id = issues.project_id WHERE projects.identifier = 'fidelity'")
	# an open is a GET of one issue's page answered 200 (lines of one request share its [id])
	awk 'match($0, /\] Started GET "\/issues\/[0-9]+"/) {
			s = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", s)
			if (match($0, /\[[0-9a-f-]+\] Started/)) want[substr($0, RSTART + 1, 36)] = s
		}
		/\] Completed 200 / && match($0, /\[[0-9a-f-]+\] Completed/) {
			r = substr($0, RSTART + 1, 36); if (r in want) { print want[r]; delete want[r] }
		}' "$log" >"$DIR/opens" || true
	opens=$(wc -l <"$DIR/opens")
	distinct=$(sort -u "$DIR/opens" | wc -l)
	printf '{"logins":%d,"users":%d,"created":%d,"opens":%d,"distinct_opens":%d}\n' \
		"$logins" "$users" "$created" "$opens" "$distinct"
}

cmd_stop() {
	DIR=${1:?stop DIR}
	if [ -f "$DIR/pid" ]; then
		local pid i
		pid=$(cat "$DIR/pid")
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 100); do
			kill -0 -- "-$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
		rm -f "$DIR/pid"
	fi
	if [ -f "$DIR/instance" ]; then
		local link
		link="/var/lib/redmine/$(cat "$DIR/instance")"
		if [ -L "$link" ]; then rm -f "$link"; fi
	fi
}

case "${1:-}" in
install) shift; cmd_install "$@" ;;
start) shift; cmd_start "$@" ;;
flow) shift; cmd_flow "$@" ;;
browser) shift; cmd_browser "$@" ;;
stats) shift; cmd_stats "$@" ;;
stop) shift; cmd_stop "$@" ;;
datacols) echo "username,password" ;; # the login form's field names: the header of a --data users.csv
sessionlimit) echo 10 ;; # Redmine keeps at most 10 sessions per account (Token session max_instances, hard-coded)
*) die "usage: app.sh install | start DIR PORT IDBASE | flow BASEURL USER PASS | browser BASEURL USER PASS | stats DIR | stop DIR | datacols" ;;
esac
