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
import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request
import uuid


EMPTY_FILE = object()  # the value of a file input with no file chosen


class _Redirect(urllib.request.HTTPRedirectHandler):
    """Follows redirects as a browser does: the redirected GET keeps the
    Referer but sends no Origin (a browser sends Origin on POST, not on GET
    navigations)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            new.remove_header("Origin")
        return new


class Browser:
    """A cookie-keeping client that sends Origin and Referer like Chromium."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        u = urllib.parse.urlsplit(self.base)
        self.origin = f"{u.scheme}://{u.netloc}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _Redirect())
        self.opener.addheaders = [
            ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) amp-fidelity/1"),
            ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            ("Accept-Language", "en-US,en;q=0.9"),
        ]
        self.page = None  # URL of the current page, the next Referer
        self.url = None

    def _go(self, url, data=None, ctype=None):
        url = urllib.parse.urljoin(self.page or self.base + "/", url)
        req = urllib.request.Request(url, data=data)
        if self.page:
            req.add_header("Referer", self.page)
        if data is not None:
            req.add_header("Origin", self.origin)
            req.add_header("Content-Type", ctype)
        with self.opener.open(req, timeout=60) as resp:
            body = resp.read().decode("utf-8", "replace")
            self.page = resp.geturl()
            return resp.status, body

    def get(self, url):
        return self._go(url)

    def post_form(self, url, fields):
        return self._go(url, urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def post_multipart(self, url, fields):
        boundary = "----WebKitFormBoundary" + uuid.uuid4().hex[:16]
        out = []
        for k, v in fields:
            if v is EMPTY_FILE:
                out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename=""\r\n'
                           "Content-Type: application/octet-stream\r\n\r\n\r\n")
                continue
            out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n')
        out.append(f"--{boundary}--\r\n")
        return self._go(url, "".join(out).encode(), f"multipart/form-data; boundary={boundary}")


def form_fields(page, form_re):
    """The action and the (name, value) pairs of the first form matching form_re."""
    m = re.search(r"<form\b[^>]*" + form_re + r"[^>]*>(.*?)</form>", page, re.S)
    if not m:
        return None, []
    tag = re.match(r"<form\b[^>]*>", m.group(0)).group(0)
    action = html.unescape(re.search(r'action="([^"]*)"', tag).group(1))
    fields = []
    pat = r"<input\b([^>]*)>|<textarea\b([^>]*)>(.*?)</textarea>|<select\b([^>]*)>(.*?)</select>"
    for el in re.finditer(pat, m.group(1), re.S):
        raw = el.group(1) or el.group(2) or el.group(4) or ""
        attrs = dict((a, html.unescape(v)) for a, v in re.findall(r'([\w-]+)="([^"]*)"', raw))
        name = attrs.get("name")
        if not name or re.search(r"(?:^|\s)disabled(?=[\s=/]|$)", raw):
            continue
        if el.group(2) is not None:
            fields.append((name, html.unescape(el.group(3)).removeprefix("\n")))
        elif el.group(4) is not None:
            opts = re.findall(r"<option\b([^>]*)>", el.group(5))
            pick = next((o for o in opts if "selected" in o), opts[0] if opts else None)
            if pick is not None:
                v = re.search(r'value="([^"]*)"', pick)
                fields.append((name, html.unescape(v.group(1)) if v else ""))
        else:
            typ = attrs.get("type", "text")
            if typ in ("checkbox", "radio") and "checked" not in raw:
                continue
            if typ in ("submit", "button", "image"):
                continue
            if typ == "file":  # no file chosen: an empty part, as a browser sends
                fields.append((name, EMPTY_FILE))
                continue
            fields.append((name, attrs.get("value", "")))
    return action, fields


def set_fields(fields, values):
    """fields with the given names' values replaced in place (document order, as
    a browser sends them); names not in the form are appended."""
    values = dict(values)
    out = [(k, values.pop(k) if k in values else v) for k, v in fields]
    return out + list(values.items())


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
