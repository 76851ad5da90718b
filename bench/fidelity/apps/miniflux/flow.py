"""The scripted browser for Miniflux: log in, subscribe to a feed through the "Add subscription"
form (the feed URL names a client-generated UUID, as a script making unique names does: a user
cannot subscribe to one URL twice), follow the redirect to the new feed's page."""
import os
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
p = b.get("/subscribe")
name = str(uuid.uuid4())
p = b.submit(p.form("url"), {"url": "http://feeds.fidelity.example/%s.xml" % name})
if "/feed/" not in p.url or not p.url.endswith("/entries") or p.status != 200 or name not in p.text:
    fail(b, "the subscription was not saved (status %d at %s)" % (p.status, p.url))
print(p.url[len(base.rstrip("/")):])
