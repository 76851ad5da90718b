"""browserish: a tiny stdlib HTTP client that behaves as a browser submitting forms does.

Keeps cookies, follows redirects (303/302 after POST become GET, as browsers do), sends Origin
on every POST and Referer with the page the request came from, and encodes a form urlencoded or
multipart/form-data as its enctype says. Used by the apps' flow scripts of bench/fidelity.
"""
import html
import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

UA = "Mozilla/5.0 (X11; Linux x86_64) fidelity-flow/1.0"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


class Page:
    def __init__(self, url, status, headers, body):
        self.url, self.status, self.headers, self.body = url, status, headers, body
        self.text = body.decode("utf-8", "replace")

    def forms(self):
        """Every <form> of the page: dicts with action, method, enctype, fields (list of (name, value, type))."""
        out = []
        for m in re.finditer(r"<form\b([^>]*)>(.*?)</form>", self.text, re.S | re.I):
            attrs = _attrs(m.group(1))
            inner = m.group(2)
            fields = []
            for im in re.finditer(r"<(input|textarea|select|button)\b([^>]*)>", inner, re.I):
                tag, a = im.group(1).lower(), _attrs(im.group(2))
                name = a.get("name")
                if not name:
                    continue
                typ = a.get("type", "text" if tag == "input" else tag).lower()
                if tag == "textarea":
                    end = inner.find("</textarea>", im.end())
                    val = html.unescape(inner[im.end():end])
                elif tag == "select":
                    end = inner.find("</select>", im.end())
                    opts = inner[im.end():end]
                    sel = re.search(r"<option\b[^>]*\bselected\b[^>]*>", opts, re.I) or re.search(r"<option\b[^>]*>", opts, re.I)
                    val = _attrs(sel.group(0)[7:-1]).get("value", "") if sel else ""
                else:
                    val = a.get("value", "")
                if typ in ("checkbox", "radio") and "checked" not in a:
                    continue
                fields.append((name, val, typ))
            out.append({"action": urllib.parse.urljoin(self.url, html.unescape(attrs.get("action", "")) or self.url),
                        "method": attrs.get("method", "get").lower(),
                        "enctype": attrs.get("enctype", "application/x-www-form-urlencoded").lower(),
                        "fields": fields})
        return out

    def form(self, has_field):
        for f in self.forms():
            if any(n == has_field for n, _, _ in f["fields"]):
                return f
        raise SystemExit("flow: no form with a field %r on %s (status %d)" % (has_field, self.url, self.status))


def _attrs(s):
    out = {}
    for m in re.finditer(r'([\w:-]+)(?:\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s"\'>]+)))?', s):
        v = next((g for g in m.group(2, 3, 4) if g is not None), "")
        out.setdefault(m.group(1).lower(), html.unescape(v))
    return out


class Browser:
    def __init__(self, base):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        self.page = None
        self.log = []

    def _send(self, method, url, data=None, ctype=None, referer=None):
        for _ in range(10):
            req = urllib.request.Request(url, data=data, method=method)
            req.add_header("User-Agent", UA)
            req.add_header("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
            req.add_header("Accept-Language", "en-US,en;q=0.9")
            if referer:
                req.add_header("Referer", referer)
            if method == "POST":
                p = urllib.parse.urlsplit(self.base)
                req.add_header("Origin", "%s://%s" % (p.scheme, p.netloc))
                req.add_header("Content-Type", ctype)
            try:
                r = self.opener.open(req, timeout=60)
                status, headers, body = r.status, r.headers, r.read()
            except urllib.error.HTTPError as e:
                status, headers, body = e.code, e.headers, e.read()
            except (urllib.error.URLError, OSError) as e:
                self.log.append("%s %s -> %s" % (method, url[len(self.base):], e))
                fail(self, "transport error")
            self.log.append("%s %s -> %d" % (method, url[len(self.base):], status))
            if status in (301, 302, 303, 307, 308) and headers.get("Location"):
                url = urllib.parse.urljoin(url, headers["Location"])
                if status in (301, 302, 303):
                    method, data = "GET", None
                continue
            return Page(url, status, headers, body)
        raise SystemExit("flow: too many redirects at " + url)

    def get(self, path):
        url = path if path.startswith("http") else self.base + path
        self.page = self._send("GET", url, referer=self.page.url if self.page else None)
        return self.page

    def submit(self, form, values):
        """Submit form with values overriding its fields (a value of bytes tuple (filename, data) is a file)."""
        fields, seen = [], set()
        for n, v, t in form["fields"]:
            if t in ("submit", "button", "image"):
                continue
            if n in values:
                if n in seen:
                    continue
                seen.add(n)
                v = values[n]
            fields.append((n, v, t))
        for n, v in values.items():
            if n not in seen and not any(f[0] == n for f in fields):
                fields.append((n, v, "text"))
        if form["enctype"] == "multipart/form-data":
            boundary = "----WebKitFormBoundary" + uuid.uuid4().hex[:16]
            parts = []
            for n, v, t in fields:
                if t == "file" or isinstance(v, tuple):
                    fn, data = v if isinstance(v, tuple) else ("", b"")
                    ct = "application/octet-stream" if fn else "application/octet-stream"
                    parts.append(('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\nContent-Type: %s\r\n\r\n'
                                  % (boundary, n, fn, ct)).encode() + data + b"\r\n")
                else:
                    parts.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n' % (boundary, n)).encode()
                                 + str(v).encode() + b"\r\n")
            body = b"".join(parts) + ("--%s--\r\n" % boundary).encode()
            ctype = "multipart/form-data; boundary=" + boundary
        else:
            body = urllib.parse.urlencode([(n, v) for n, v, _ in fields if not isinstance(v, tuple)]).encode()
            ctype = "application/x-www-form-urlencoded"
        if form["method"] == "get":
            url = form["action"].split("?")[0] + "?" + body.decode()
            self.page = self._send("GET", url, referer=self.page.url)
        else:
            self.page = self._send("POST", form["action"], body, ctype, referer=self.page.url)
        return self.page


def fail(b, msg):
    sys.stderr.write("flow failed: %s\n  %s\n" % (msg, "\n  ".join(b.log)))
    sys.exit(1)
