#!/usr/bin/env python3
"""One MediaWiki session as a browser makes it: log in, create a page, open it.

flow.py BASEURL USER PASS

GET Special:UserLogin (wpLoginToken), POST the login form (urlencoded, as
the form has no enctype), open the edit form of a new page whose title holds a
client-made UUID, POST it (multipart/form-data, as the form's enctype says,
with wpEditToken), follow the redirect to the page, then follow its
"Permanent link" (oldid=REVISION). Cookies are kept, redirects followed,
Origin and Referer sent as a browser does. Exit 1 with one line on failure.
"""
import html
import os
import re
import sys
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from formclient import EMPTY_FILE, Browser, form_fields, set_fields  # noqa: E402


def fail(msg):
    print("mediawiki flow: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 4:
        fail("usage: flow.py BASEURL USER PASS")
    base, user, pw = sys.argv[1:]
    b = Browser(base)
    b.get("/index.php?title=Main_Page")
    st, page = b.get("/index.php?title=Special:UserLogin&returnto=Main+Page")
    action, fields = form_fields(page, r'name="userlogin"')
    if not action or not any(k == "wpLoginToken" for k, _ in fields):
        fail("no login form with wpLoginToken")
    fields = set_fields(fields, {"wpName": user, "wpPassword": pw, "wploginattempt": "Log in"})
    st, page = b.post_form(action, fields)
    if 'id="pt-logout"' not in page and "Special:UserLogout" not in page:
        fail(f"login as {user} failed (ended on {b.page})")

    title = f"Amp-{uuid.uuid4()}"
    st, page = b.get(f"/index.php?title={urllib.parse.quote(title)}&action=edit")
    action, fields = form_fields(page, r'id="editform"')
    if not action or not any(k == "wpEditToken" for k, _ in fields):
        fail("no edit form with wpEditToken")
    text = f"Written by {user} through the edit form.\n\n== Notes ==\nA page of the amp fidelity suite."
    fields = set_fields(fields, {"wpTextbox1": text, "wpSummary": "fidelity page"})
    fields.insert(next(i for i, (k, _) in enumerate(fields) if k == "wpSummary") + 1, ("wpSave", "Save page"))
    st, page = b.post_multipart(action, fields)
    if "Written by" not in page or "action=submit" in b.page:
        fail(f"page {title} not saved (ended on {b.page})")
    m = re.search(r'<li id="t-permalink"[^>]*><a href="([^"]*oldid=(\d+)[^"]*)"', page)
    if not m:
        fail("no permanent link on the saved page")
    st, page = b.get(html.unescape(m.group(1)))
    if "Written by " + user not in page:
        fail(f"revision {m.group(2)} does not show the page")
    print(f"mediawiki flow: {user} created {title} revision {m.group(2)}")


main()
