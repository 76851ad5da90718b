"""The scripted browser for Miniflux: log in, create a category through its form (named with a
client-generated UUID, as a script making unique names does: titles are unique per user), then
open the new category from the category list the server redirected to."""
import os
import re
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from browserish import Browser, fail  # noqa: E402

base, user, pw = sys.argv[1:4]
b = Browser(base)
p = b.get("/")
p = b.submit(p.form("password"), {"username": user, "password": pw})
if not p.url.endswith("/unread") or p.status != 200:
    fail(b, "login did not reach /unread (status %d at %s)" % (p.status, p.url))
p = b.get("/category/create")
title = "fidelity %s" % uuid.uuid4()
p = b.submit(p.form("title"), {"title": title})
if not p.url.endswith("/categories") or p.status != 200:
    fail(b, "the category was not saved (status %d at %s)" % (p.status, p.url))
m = re.search(r'<a href="(/category/\d+/entries)">\s*%s' % re.escape(title), p.text)
if not m:
    fail(b, "the new category is not in the list")
p = b.get(m.group(1))
if p.status != 200 or title not in p.text:
    fail(b, "the category page did not open (status %d at %s)" % (p.status, p.url))
print(m.group(1))
