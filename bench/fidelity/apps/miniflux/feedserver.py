"""The feeds Miniflux subscribes to in the flow: an HTTP proxy on 127.0.0.1 (Miniflux's
HTTP_CLIENT_PROXIES) that answers every GET with a small RSS feed titled after the requested URL,
so the flow's feed URL can name any host and stay the same across app instances."""
import http.server
import sys
from xml.sax.saxutils import escape


class Feed(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = escape(self.path.rstrip("/").rsplit("/", 1)[-1])
        body = ("""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>fidelity feed %s</title><link>http://feeds.fidelity.example/</link>
<description>bench/fidelity</description>
<item><title>first post %s</title><link>http://feeds.fidelity.example/%s/1</link><guid>%s-1</guid>
<description>one</description></item>
<item><title>second post %s</title><link>http://feeds.fidelity.example/%s/2</link><guid>%s-2</guid>
<description>two</description></item>
</channel></rss>
""" % ((name,) * 7)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Feed).serve_forever()
