"""The scripted browser for Django's admin: log in, add a Note through the admin's multipart
form with "Save and continue editing", follow the redirect to the note's change page."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from browserish import Browser, fail  # noqa: E402

base, user, pw = sys.argv[1:4]
b = Browser(base)
p = b.get("/admin/")                       # 302 to /admin/login/?next=/admin/
if "/admin/login/" not in p.url:
    fail(b, "not sent to the login page")
p = b.submit(p.form("csrfmiddlewaretoken"), {"username": user, "password": pw})
if not p.url.endswith("/admin/") or p.status != 200:
    fail(b, "login did not reach /admin/ (status %d at %s)" % (p.status, p.url))
p = b.get("/admin/notes/note/add/")
f = p.form("csrfmiddlewaretoken")
if f["enctype"] != "multipart/form-data":
    fail(b, "the add form is not multipart")
p = b.submit(f, {"title": "note by " + user, "body": "written by the fidelity flow", "attachment": ("", b""),
                 "_continue": "Save and continue editing"})
if "/change/" not in p.url or p.status != 200 or "was added successfully" not in p.text:
    fail(b, "the note was not saved (status %d at %s)" % (p.status, p.url))
print(p.url[len(base.rstrip("/")):])
