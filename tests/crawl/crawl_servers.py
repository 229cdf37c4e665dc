"""HTTP servers the crawl tests start on 127.0.0.1: a site of virtual hosts, hostile pages, a fake Reddit.

Each runs a ThreadingHTTPServer (HTTP/1.1, keep-alive) in a daemon thread and records every request
(host, path) so tests can tell what was fetched and how often.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
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
        "/wait-a-second": "stored",  # a 429 with Retry-After: 1, then the page: waited out, then stored
        "/to-ftp": "scheme",
    }

    def __init__(self):
        self.flaky_calls = 0
        self.flaky_plain_calls = 0
        self.wait_a_second_at: list = []  # arrival times (time.monotonic) of /wait-a-second

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
        if path == "/wait-a-second":
            self.wait_a_second_at.append(time.monotonic())
            if len(self.wait_a_second_at) == 1:
                return 429, [HTML, ("Retry-After", "1")], b"<html>slow down a little</html>"
            return 200, [HTML], html_page("after the wait")
        if path == "/to-ftp":
            return 302, [("Location", "ftp://files.example.org/x")], b""
        return 404, [HTML], b"<html>gone</html>"


# -- a fake Reddit ------------------------------------------------------------------------------------

class FakeReddit:
    """OAuth token endpoint + /r/<sub>/<listing>.json with `after` pagination and rate-limit headers.

    - Tokens: each token request (with the client's credentials) gets a new one, "tok-1", "tok-2",
      ... valid for `token_ttl` s (its `expires_in`); a listing request with an expired token gets
      a 401, with a token never issued a 403. With `public`, requests without an Authorization
      header are served too (the no-OAuth endpoint).
    - Rate limit: by default every listing response says X-Ratelimit-Remaining: 99 (reset 600 s).
      With `budget`, a window opens at the first listing request after the previous one ended and
      lasts `reset_s` s; each listing request in it uses one of `budget` requests, and the response
      says what is left, how many were used and the whole seconds to the window's end (rounded up,
      as Reddit's integer header); a request over budget gets a 429 and is listed in `over_budget`.
    - With `retry_after`, the first request for a page after the first gets a 429 with that
      Retry-After.
    - `requests` records every request: path, Authorization, arrival time (time.monotonic()), the
      status sent, and with a budget the Remaining announced and the end of its window.
    """

    CLIENT_ID, SECRET, TOKEN = "cid", "csecret", "tok-1"  # TOKEN: the first token issued

    def __init__(self, subs: dict, page_size: int = 3, site_port: int = 0, retry_after=1, *,
                 token_ttl: float = 3600, public: bool = False, budget=None, reset_s: float = 1.0):
        self.subs = subs  # sub -> list of submission dicts (newest first)
        self.page_size = page_size
        self.retry_after = retry_after
        self.throttled = retry_after is None
        self.token_ttl = token_ttl
        self.public = public
        self.budget, self.reset_s = budget, reset_s
        self.window_end, self.used = 0.0, 0
        self.over_budget: list[dict] = []
        self.tokens: dict[str, float] = {}  # token -> when it expires
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, req, host, path):
        now = time.monotonic()
        rec = {"path": path, "auth": req.headers.get("Authorization") or "", "time": now}
        with self.lock:  # one request at a time: the budget is counted in arrival order
            self.requests.append(rec)
            status, headers, body = self._answer(req, path, rec, now)
            rec["status"] = status
        return status, headers, body

    def _answer(self, req, path, rec, now):
        parts = urlsplit(path)
        auth = rec["auth"]
        js = ("Content-Type", "application/json")
        if parts.path == "/api/v1/access_token":
            want = "Basic " + base64.b64encode(f"{self.CLIENT_ID}:{self.SECRET}".encode()).decode()
            if auth != want or b"grant_type=client_credentials" not in req.body_in:
                return 401, [js], b'{"error": 401}'
            token = f"tok-{len(self.tokens) + 1}"
            self.tokens[token] = now + self.token_ttl
            rec["token"] = token
            return 200, [js], json.dumps({"access_token": token, "token_type": "bearer",
                                          "expires_in": self.token_ttl, "scope": "*"}).encode()
        if auth or not self.public:
            token = auth[len("bearer "):] if auth.startswith("bearer ") else None
            if token not in self.tokens:
                return 403, [js], b'{"error": 403}'
            if now >= self.tokens[token]:
                return 401, [js], b'{"message": "Unauthorized", "error": 401}'
        segs = parts.path.strip("/").split("/")
        if len(segs) != 3 or segs[0] != "r" or not segs[2].endswith(".json"):
            return 404, [js], b'{"error": 404}'
        headers = [js, ("X-Ratelimit-Remaining", "99"), ("X-Ratelimit-Used", "1"), ("X-Ratelimit-Reset", "600")]
        if self.budget is not None:
            if now >= self.window_end:
                self.window_end, self.used = now + self.reset_s, 0
            self.used += 1
            rec["window_end"] = self.window_end
            rec["remaining"] = remaining = self.budget - self.used
            reset = str(max(math.ceil(self.window_end - now), 1))
            if remaining < 0:
                self.over_budget.append(rec)
                return 429, [js, ("X-Ratelimit-Remaining", "0"), ("X-Ratelimit-Used", str(self.used)),
                             ("X-Ratelimit-Reset", reset)], b'{"message": "Too Many Requests", "error": 429}'
            headers = [js, ("X-Ratelimit-Remaining", f"{remaining}.0"), ("X-Ratelimit-Used", str(self.used)),
                       ("X-Ratelimit-Reset", reset)]
        sub = segs[1]
        if sub not in self.subs:
            return 404, [js], b'{"error": 404}'
        q = parse_qs(parts.query)
        after = q.get("after", [None])[0]
        if after and not self.throttled:
            self.throttled = True
            return 429, [js, ("Retry-After", str(self.retry_after))], b'{"error": 429}'
        items = self.subs[sub]
        start = 0
        if after:
            ids = [f"t3_{s['id']}" for s in items]
            start = ids.index(after) + 1
        page = items[start:start + self.page_size]
        nxt = f"t3_{page[-1]['id']}" if start + self.page_size < len(items) and page else None
        body = {"kind": "Listing", "data": {"after": nxt, "children": [{"kind": "t3", "data": s} for s in page]}}
        return 200, headers, json.dumps(body).encode()
