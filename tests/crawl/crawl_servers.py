"""HTTP servers the crawl tests start on 127.0.0.1: a site of virtual hosts, hostile pages, a fake Reddit.

Each runs a ThreadingHTTPServer (HTTP/1.1, keep-alive) in a daemon thread and records every request
(host, path) so tests can tell what was fetched and how often.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Server:
    """Serve `handler(req) -> (status, headers, body)` (or a callable streaming body) on 127.0.0.1."""

    def __init__(self, route):
        self.route = route
        self.hits = Counter()
        self.log: list[tuple[float, str, str]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                host = (self.headers.get("Host") or "").split(":")[0]
                with outer.lock:
                    outer.hits[(host, self.path)] += 1
                    outer.log.append((time.monotonic(), host, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                self.body_in = self.rfile.read(length) if length else b""
                status, headers, body = outer.route(self, host, self.path)
                try:
                    self.send_response(status)
                    for k, v in headers:
                        self.send_header(k, v)
                    if callable(body):
                        self.send_header("Connection", "close")
                        self.end_headers()
                        body(self.wfile)
                        self.close_connection = True
                        return
                    if not any(k.lower() == "content-length" for k, _ in headers):
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = _serve

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, host: str, path: str) -> int:
        with self.lock:
            return self.hits[(host, path)]


def html_page(title: str, words: int = 60) -> bytes:
    text = " ".join(f"{title.lower()}-word{i}" for i in range(words))
    return f"<!doctype html><html><head><title>{title}</title></head><body><p>{text}</p></body></html>".encode()


HTML = ("Content-Type", "text/html; charset=utf-8")


# -- a plain multi-host site ----------------------------------------------------------------------------

def site_route(delay_s: float = 0.0):
    """Hosts *.site.test: /robots.txt allows all; /p/<n> are pages; /missing is a 404."""
    def route(req, host, path):
        if delay_s:
            time.sleep(delay_s)
        if path == "/robots.txt":
            return 200, [("Content-Type", "text/plain")], b"User-agent: *\nAllow: /\n"
        if path.startswith("/p/"):
            return 200, [HTML], html_page(f"{host} {path}")
        return 404, [HTML], b"<html><body>not found</body></html>"
    return route


# -- the hostile site ---------------------------------------------------------------------------------

def _drip(wfile):
    try:
        for _ in range(60):
            wfile.write(b"<")
            wfile.flush()
            time.sleep(1.0)
    except OSError:
        pass


def _endless(wfile):
    chunk = b"<p>" + b"x" * 65533 + b"\n"
    try:
        for _ in range(200_000_000 // len(chunk) + 1):  # 200 MB if nobody stops reading
            wfile.write(chunk)
    except OSError:
        pass


_BOMB = None


def gzip_bomb() -> bytes:
    global _BOMB
    if _BOMB is None:
        _BOMB = gzip.compress(b"<html>" + b"\0" * (64 << 20), compresslevel=9)  # 64 MiB of zeros in ~64 KiB
    return _BOMB


class HostileSite:
    """Routes for every case of the hostile-site test; `expected` maps path -> outcome."""

    expected = {
        "/ok": "stored",
        "/no-content-type": "stored",
        "/bad-charset": "stored",
        "/mislabelled-charset": "stored",
        "/redirect-ok": "stored",
        "/meta-refresh": "stored",  # a 48 KB page whose <meta http-equiv="refresh"> leads to /ok-target
        "/flaky": "stored",
        "/flaky-plain": "stored",
        "/gzipped": "stored",  # an ordinary gzip-encoded page: stored decoded  # a 503 whose text/plain body is stopped at the headers, then retried
        "/drip": "timeout",
        "/huge-declared": "too_large",
        "/huge-streamed": "too_large",
        "/gzip-bomb": "too_large",
        "/loop-a": "redirect_loop",
        "/to-metadata": "private_address",
        "/to-internal-name": "private_address",
        "/pdf": "content_type",
        "/image": "content_type",
        "/secret/page": "robots",
        **{f"/secret/{i}": "robots" for i in range(8)},  # several wait for robots.txt at once
        "/gone": "http_404",
        "/wait-an-hour": "retry_after",
        "/to-ftp": "scheme",
    }

    def __init__(self):
        self.flaky_calls = 0
        self.flaky_plain_calls = 0

    def __call__(self, req, host, path):
        if path == "/robots.txt":
            return 200, [("Content-Type", "text/plain")], b"User-agent: *\nDisallow: /secret/\n"
        if path in ("/ok", "/ok-target") or path.startswith("/secret/"):
            return 200, [HTML], html_page("ok " + path)
        if path == "/no-content-type":
            return 200, [], b"<!DOCTYPE html><html><body>no content type header</body></html>"
        if path == "/bad-charset":
            return 200, [("Content-Type", "text/html; charset=no-such-charset")], \
                b"<html><body>caf\xe9 \xff\xfe broken \xc3\x28 bytes</body></html>"
        if path == "/mislabelled-charset":
            return 200, [("Content-Type", "text/html; charset=utf-8")], \
                b'<html><head><meta charset="shift_jis"></head><body>latin-1 na\xefve</body></html>'
        if path == "/redirect-ok":
            return 301, [("Location", "/ok-target")], b""
        if path == "/meta-refresh":
            return 200, [HTML], (b'<html><head><meta http-equiv="refresh" content="0; url=/ok-target"></head><body>'
                                 + b"<p>moved</p>" * 4000 + b"</body></html>")
        if path == "/flaky":
            self.flaky_calls += 1
            if self.flaky_calls == 1:
                return 500, [HTML], b"<html>try again</html>"
            return 200, [HTML], html_page("recovered")
        if path == "/flaky-plain":
            self.flaky_plain_calls += 1
            if self.flaky_plain_calls == 1:
                return 503, [("Content-Type", "text/plain")], b"busy"
            return 200, [HTML], html_page("recovered too")
        if path == "/drip":
            return 200, [HTML, ("Content-Length", "1000")], _drip
        if path == "/huge-declared":
            return 200, [HTML, ("Content-Length", "200000000")], _endless
        if path == "/huge-streamed":
            return 200, [HTML], _endless
        if path == "/gzipped":
            return 200, [HTML, ("Content-Encoding", "gzip")], gzip.compress(html_page("gzipped page"))
        if path == "/gzip-bomb":
            return 200, [HTML, ("Content-Encoding", "gzip")], gzip_bomb()
        if path == "/loop-a":
            return 302, [("Location", "/loop-b")], b""
        if path == "/loop-b":
            return 302, [("Location", "/loop-a")], b""
        if path == "/to-metadata":
            return 302, [("Location", "http://169.254.169.254/latest/meta-data/")], b""
        if path == "/to-internal-name":
            port = req.server.server_address[1]
            return 302, [("Location", f"http://db.internal.test:{port}/")], b""
        if path == "/pdf":
            return 200, [("Content-Type", "application/pdf")], _endless
        if path == "/image":
            return 200, [("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n" + b"\0" * 1000
        if path == "/wait-an-hour":
            return 429, [HTML, ("Retry-After", "3600")], b"<html>slow down</html>"
        if path == "/to-ftp":
            return 302, [("Location", "ftp://files.example.org/x")], b""
        return 404, [HTML], b"<html>gone</html>"


# -- a fake Reddit ------------------------------------------------------------------------------------

class FakeReddit:
    """OAuth token endpoint + /r/<sub>/<listing>.json with `after` pagination, rate-limit headers,
    and one 429 with Retry-After (on the first request for page 2)."""

    CLIENT_ID, SECRET, TOKEN = "cid", "csecret", "tok-123"

    def __init__(self, subs: dict, page_size: int = 3, site_port: int = 0, retry_after: int = 1):
        self.subs = subs  # sub -> list of submission dicts (newest first)
        self.page_size = page_size
        self.retry_after = retry_after
        self.throttled = False
        self.requests: list[dict] = []

    def __call__(self, req, host, path):
        parts = urlsplit(path)
        auth = req.headers.get("Authorization") or ""
        self.requests.append({"path": path, "auth": auth, "time": time.monotonic()})
        if parts.path == "/api/v1/access_token":
            want = "Basic " + base64.b64encode(f"{self.CLIENT_ID}:{self.SECRET}".encode()).decode()
            if auth != want or b"grant_type=client_credentials" not in req.body_in:
                return 401, [("Content-Type", "application/json")], b'{"error": 401}'
            return 200, [("Content-Type", "application/json")], \
                json.dumps({"access_token": self.TOKEN, "token_type": "bearer", "expires_in": 3600}).encode()
        if auth != f"bearer {self.TOKEN}":
            return 403, [("Content-Type", "application/json")], b'{"error": 403}'
        segs = parts.path.strip("/").split("/")
        if len(segs) != 3 or segs[0] != "r" or not segs[2].endswith(".json"):
            return 404, [("Content-Type", "application/json")], b'{"error": 404}'
        sub = segs[1]
        if sub not in self.subs:
            return 404, [("Content-Type", "application/json")], b'{"error": 404}'
        q = parse_qs(parts.query)
        after = q.get("after", [None])[0]
        if after and not self.throttled:
            self.throttled = True
            return 429, [("Content-Type", "application/json"), ("Retry-After", str(self.retry_after))], b'{"error": 429}'
        items = self.subs[sub]
        start = 0
        if after:
            ids = [f"t3_{s['id']}" for s in items]
            start = ids.index(after) + 1
        page = items[start:start + self.page_size]
        nxt = f"t3_{page[-1]['id']}" if start + self.page_size < len(items) and page else None
        body = {"kind": "Listing", "data": {"after": nxt, "children": [{"kind": "t3", "data": s} for s in page]}}
        headers = [("Content-Type", "application/json"), ("X-Ratelimit-Remaining", "99"),
                   ("X-Ratelimit-Used", "1"), ("X-Ratelimit-Reset", "600")]
        return 200, headers, json.dumps(body).encode()
