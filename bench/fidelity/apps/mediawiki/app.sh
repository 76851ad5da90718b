#!/usr/bin/env bash
# MediaWiki (Debian package mediawiki, SQLite) for the amp fidelity suite.
# Subcommands (see bench/fidelity/README.md): install | start DIR PORT IDBASE |
# flow BASEURL USER PASS | stats DIR | stop DIR | datacols (the login form's
# user and password field names, the columns of a --data file)
#
# The wiki is installed into DIR by maintenance/install.php (LocalSettings.php,
# SQLite files, caches, logs all in DIR) and served from the package's own tree
# /usr/share/mediawiki by PHP's built-in server; MW_CONFIG_FILE points it at
# DIR/LocalSettings.php. Nothing system-wide is started or configured.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MW=/usr/share/mediawiki
PASS=${FIDELITY_PASSWORD:-amp-Fidelity-1}
PKGS="mediawiki php-cli php-sqlite3 php-mbstring php-xml php-intl"

die() { echo "mediawiki: $*" >&2; exit 1; }

# shellcheck source=../../lib/debian.sh
. "$HERE/../../lib/debian.sh"

cmd_install() { install_pkgs; }

mwphp() { # run a maintenance script against DIR's wiki
	MW_CONFIG_FILE="$DIR/LocalSettings.php" php "$MW/maintenance/$1" "${@:2}"
}

sql() { # sql DBFILE STATEMENT...: run statements through PDO (no sqlite3 CLI needed)
	php -r '$d = new PDO("sqlite:" . $argv[1]); $d->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
		for ($i = 2; $i < $argc; $i++) { $r = $d->query($argv[$i]); if ($r) foreach ($r->fetchAll(PDO::FETCH_NUM) as $row) echo implode("\t", $row), "\n"; }' "$@"
}

cmd_start() {
	DIR=${1:?start DIR PORT IDBASE}; PORT=${2:?start DIR PORT IDBASE}; IDBASE=${3:?start DIR PORT IDBASE}
	have_pkgs || die "not installed: run app.sh install"
	DIR=$(cd "$DIR" && pwd)
	mkdir -p "$DIR/data" "$DIR/cache"
	mwphp install.php --dbtype sqlite --dbpath "$DIR/data" --dbname wiki --confpath "$DIR" \
		--server "http://127.0.0.1:$PORT" --scriptpath "" --pass "$PASS" --lang en --skins Vector \
		Fidelity admin >"$DIR/install.log" 2>&1 || die "install.php failed, see $DIR/install.log"
	cat >>"$DIR/LocalSettings.php" <<EOS

# amp fidelity suite: links and redirects name the host the client used (the
# recorder's or the replay's address), and a load test is not throttled.
\$wgServer = WebRequest::detectServer();
\$wgCacheDirectory = "$DIR/cache";
\$wgDebugLogGroups['authentication'] = "$DIR/auth.log";
\$wgPasswordAttemptThrottle = [];
\$wgRateLimits = [];
\$wgJobRunRate = 0;
\$wgEnableUploads = false;
EOS
	local i
	for i in $(seq -w 1 20); do
		mwphp createAndPromote.php "user$i" "$PASS" >>"$DIR/install.log" 2>&1 || die "creating user$i failed, see $DIR/install.log"
	done
	local db="$DIR/data/wiki.sqlite"
	if [ "$IDBASE" -gt 1 ]; then
		local seq=$((IDBASE - 1))
		sql "$db" "DELETE FROM sqlite_sequence WHERE name IN ('page','revision')" \
			"INSERT INTO sqlite_sequence(name, seq) VALUES ('page', $seq), ('revision', $seq)"
	fi
	sql "$db" "PRAGMA journal_mode=WAL" >/dev/null
	sql "$db" "SELECT MAX(page_id) FROM page" >"$DIR/baseline"
	(cd "$MW" && MW_CONFIG_FILE="$DIR/LocalSettings.php" PHP_CLI_SERVER_WORKERS=4 \
		exec setsid php -d display_errors=stderr -S "127.0.0.1:$PORT" -t "$MW" >"$DIR/log" 2>&1) &
	echo $! >"$DIR/pid"
	for i in $(seq 1 100); do
		if curl -fs -o /dev/null "http://127.0.0.1:$PORT/index.php?title=Special:UserLogin"; then
			return 0
		fi
		kill -0 "$(cat "$DIR/pid")" 2>/dev/null || die "php -S exited, see $DIR/log"
		sleep 0.2
	done
	die "no answer on 127.0.0.1:$PORT within 20 s, see $DIR/log"
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
	local base logins users created opens distinct
	base=$(cat "$DIR/baseline")
	logins=$(grep -c 'Login for .* succeeded' "$DIR/auth.log" 2>/dev/null || true)
	users=$(sed -n 's/.*Login for \(.*\) succeeded.*/\1/p' "$DIR/auth.log" 2>/dev/null | sort -u | wc -l)
	created=$(sql "$DIR/data/wiki.sqlite" "SELECT COUNT(*) FROM page WHERE page_id > $base")
	# an open is a GET of a revision by its id (the page's permanent link) answered 200
	grep -oE '\[200\]: GET /index.php\?[^ ]*oldid=[0-9]+' "$DIR/log" | grep -oE 'oldid=[0-9]+' >"$DIR/opens" || true
	opens=$(wc -l <"$DIR/opens")
	distinct=$(sort -u "$DIR/opens" | wc -l)
	printf '{"logins":%d,"users":%d,"created":%d,"opens":%d,"distinct_opens":%d}\n' \
		"${logins:-0}" "$users" "$created" "$opens" "$distinct"
}

cmd_stop() {
	DIR=${1:?stop DIR}
	[ -f "$DIR/pid" ] || return 0
	local pid i
	pid=$(cat "$DIR/pid")
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		kill -0 -- "-$pid" 2>/dev/null || { rm -f "$DIR/pid"; return 0; }
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	rm -f "$DIR/pid"
}

case "${1:-}" in
install) shift; cmd_install "$@" ;;
start) shift; cmd_start "$@" ;;
flow) shift; cmd_flow "$@" ;;
browser) shift; cmd_browser "$@" ;;
stats) shift; cmd_stats "$@" ;;
stop) shift; cmd_stop "$@" ;;
datacols) echo "wpName,wpPassword" ;; # the login form's field names: the header of a --data users.csv
*) die "usage: app.sh install | start DIR PORT IDBASE | flow BASEURL USER PASS | browser BASEURL USER PASS | stats DIR | stop DIR | datacols" ;;
esac
