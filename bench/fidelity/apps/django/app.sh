#!/usr/bin/env bash
# bench/fidelity/apps/django: Django's stock admin (Debian python3-django), sqlite.
# A project made by `django-admin startproject` plus a one-model app "notes" (title, body and an
# optional file, so the admin's add form is multipart/form-data). See ../../README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3            # Debian's python, the one python3-django installs into
PASS=${FIDELITY_PASSWORD:-amp-Fidelity-1}
cmd=${1:-}; shift || true

case "$cmd" in
install)
  if ! $PY -c 'import django' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-django >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-django >/dev/null; }
    fi
    $PY -c 'import django' 2>/dev/null || { echo "django: Debian package python3-django is missing (apt-get install python3-django)"; exit 1; }
  fi
  ;;
version)
  echo "Django $($PY -c 'import django; print(django.get_version())') (Debian python3-django), sqlite"
  ;;
start)
  DIR=$1 PORT=$2 IDBASE=$3
  mkdir -p "$DIR"
  cd "$DIR"
  mkdir -p "$DIR/site"
  $PY -m django startproject site_ "$DIR/site" >/dev/null
  mkdir -p site/notes/migrations && touch site/notes/__init__.py site/notes/migrations/__init__.py
  cat > site/notes/models.py <<'PYEOF'
from django.db import models


class Note(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    attachment = models.FileField(upload_to="notes/", blank=True)

    def __str__(self):
        return self.title
PYEOF
  cat > site/notes/admin.py <<'PYEOF'
from django.contrib import admin

from .models import Note

admin.site.register(Note)
PYEOF
  cat >> site/site_/settings.py <<PYEOF

# bench/fidelity
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS += ["notes"]
DATABASES["default"]["NAME"] = "$DIR/db.sqlite3"
DATABASES["default"]["OPTIONS"] = {"timeout": 60}   # 20 concurrent logins write sessions: wait for sqlite's lock
LOGGING = {"version": 1, "disable_existing_loggers": False,   # 500s with their traceback into DIR/log
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}}}
MEDIA_ROOT = "$DIR/media"
STATIC_URL = "/static/"
PYEOF
  export DJANGO_SETTINGS_MODULE=site_.settings PYTHONPATH="$DIR/site"
  $PY site/manage.py makemigrations notes -v0
  $PY site/manage.py migrate -v0
  $PY - "$PASS" "$IDBASE" <<'PYEOF'
import sys, django
django.setup()
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import connection
pw, idbase = sys.argv[1], int(sys.argv[2])
enc = make_password(pw)   # one hash for all 21 accounts: PBKDF2 is slow on purpose
for name in ["admin"] + ["user%02d" % i for i in range(1, 21)]:
    User.objects.create(username=name, password=enc, is_staff=True, is_superuser=True, email=name + "@example.org")
if idbase > 1:
    with connection.cursor() as c:
        c.execute("DELETE FROM sqlite_sequence WHERE name='notes_note'")
        c.execute("INSERT INTO sqlite_sequence(name, seq) VALUES('notes_note', %s)", [idbase - 1])
PYEOF
  # runserver logs every request to stderr: "GET /admin/notes/note/1/change/ HTTP/1.1" 200 ...
  # --insecure serves the admin's CSS/JS with DEBUG off, as a browser loads them.
  setsid $PY site/manage.py runserver "127.0.0.1:$PORT" --noreload --insecure >"$DIR/log" 2>&1 </dev/null &
  echo $! >"$DIR/pid"
  for _ in $(seq 100); do
    curl -fso /dev/null "http://127.0.0.1:$PORT/admin/login/" && exit 0
    kill -0 "$(cat "$DIR/pid")" 2>/dev/null || { echo "django: runserver exited:"; tail -5 "$DIR/log"; exit 1; }
    sleep 0.2
  done
  echo "django: no answer on 127.0.0.1:$PORT after 20 s"; exit 1
  ;;
flow)
  exec $PY "$HERE/flow.py" "$@"
  ;;
browser)
  "$HERE/../../lib/install-playwright.sh"
  exec node "$HERE/browser.js" "$@"
  ;;
stats)
  DIR=$1
  $PY - "$DIR" <<'PYEOF'
import json, re, sqlite3, sys
d = sys.argv[1]
db = sqlite3.connect(d + "/db.sqlite3")
log = open(d + "/log", errors="replace").read()
logins = len(re.findall(r'"POST /admin/login/[^ ]* HTTP/1\.[01]" 302 ', log))
opens = re.findall(r'"GET /admin/notes/note/(\d+)/change/ HTTP/1\.[01]" 200 ', log)
users = db.execute("SELECT COUNT(*) FROM auth_user WHERE last_login IS NOT NULL").fetchone()[0]
created = db.execute("SELECT COUNT(*) FROM notes_note").fetchone()[0]
ids = [r[0] for r in db.execute("SELECT id FROM notes_note")]
print(json.dumps({"logins": logins, "users": users, "created": created, "opens": len(opens),
                  "distinct_opens": len(set(opens)), "min_id": min(ids, default=0)}))
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
  ;;
*)
  echo "usage: app.sh install | start DIR PORT IDBASE | flow BASEURL USER PASS | browser BASEURL USER PASS | stats DIR | stop DIR" >&2
  exit 2
  ;;
esac
