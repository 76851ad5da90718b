#!/usr/bin/env python3
"""One Redmine session as a browser makes it: log in, create an issue, open it.

flow.py BASEURL USER PASS

GET /login (authenticity_token), POST the login form (urlencoded), open the
project's new-issue form, POST it (multipart/form-data, as its enctype says,
with its authenticity_token and the empty file input a browser sends) and
follow its redirect to the new issue's page /issues/ID. Cookies are kept, redirects followed, Origin
and Referer sent as a browser does. Exit 1 with one line on failure.
"""
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from formclient import EMPTY_FILE, Browser, form_fields, set_fields  # noqa: E402


def fail(msg):
    print("redmine flow: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 4:
        fail("usage: flow.py BASEURL USER PASS")
    base, user, pw = sys.argv[1:]
    b = Browser(base)
    b.get("/")
    st, page = b.get("/login")
    action, fields = form_fields(page, r'action="/login"')
    if not action or not any(k == "authenticity_token" for k, _ in fields):
        fail("no login form with authenticity_token")
    fields = set_fields(fields, {"username": user, "password": pw, "login": "Login"})
    st, page = b.post_form(action, fields)
    if 'class="logout"' not in page:
        fail(f"login as {user} failed (ended on {b.page})")

    st, page = b.get("/projects/fidelity/issues/new")
    action, fields = form_fields(page, r'id="issue-form"')
    if not action or not any(k == "authenticity_token" for k, _ in fields):
        fail("no new-issue form with authenticity_token")
    subject = f"Fidelity issue by {user}"
    desc = f"Filed by {user} through the new-issue form."
    fields = set_fields(fields, {"issue[subject]": subject, "issue[description]": desc, "commit": "Create"})
    st, page = b.post_multipart(action, fields)
    m = re.search(r"/issues/(\d+)$", urllib.parse.urlsplit(b.page).path)
    if not m or desc not in page:
        fail(f"issue not created (ended on {b.page})")
    issue = m.group(1)
    print(f"redmine flow: {user} created issue {issue}")


main()
