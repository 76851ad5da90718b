"""A form client for the fidelity suite's flows (MediaWiki, Redmine): a browser's
cookies, redirects, Origin and Referer, and forms sent as their enctype says.

Import it from a flow with:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
    from formclient import Browser, EMPTY_FILE, form_fields, set_fields
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
