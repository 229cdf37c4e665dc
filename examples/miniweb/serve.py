"""Serve a generated mini-web on 127.0.0.1, one virtual host per site (chosen by the Host header).

    python examples/miniweb/serve.py [SITE_DIR] [--port 8642]
    curl --resolve news.miniweb.test:8642:127.0.0.1 http://news.miniweb.test:8642/

From Python (the demo and the tests):

    with serve("work/miniweb", port=0) as server:   # port 0: any free port
        server.port, server.url("news", "/"), server.requests

Answers exactly what routes.json (written by generate.py) says: status, content type (including the
wrong charsets some pages declare), redirects with their Location, robots.txt where a host has one, and
404 for everything else. Every request is recorded in `server.requests`, so a test can tell which URLs a
crawler fetched.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import threading
from contextlib import contextmanager
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, Optional
from urllib.parse import unquote, urlsplit

DOMAIN = "miniweb.test"
DEFAULT_PORT = 8642
ROUTES = "routes.json"


class PortInUse(OSError):
    """The port is taken (another demo or server is running)."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as web servers do; every response has a Content-Length
    server_version = "miniweb/1.0"
    timeout = 30  # close idle keep-alive connections

    def do_GET(self) -> None:
        self.respond(head=False)

    def do_HEAD(self) -> None:
        self.respond(head=True)

    def respond(self, head: bool) -> None:
        server: MiniwebServer = self.server  # type: ignore[assignment]
        host = (self.headers.get("Host") or "").strip().lower()
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        host = host.rstrip(".")
        path = unquote(urlsplit(self.path).path or "/")
        status, headers, body = server.answer(host, path)
        server.record(host, path, status, self.command)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        if not self.server.quiet:  # type: ignore[attr-defined]
            sys.stderr.write(f"{self.headers.get('Host', '-') if hasattr(self, 'headers') else '-'} "
                             f"{format % args}\n")


class MiniwebServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site_dir: str, port: int = 0, host: str = "127.0.0.1", quiet: bool = True):
        routes_path = os.path.join(site_dir, ROUTES)
        if not os.path.isfile(routes_path):
            raise FileNotFoundError(f"{routes_path} not found: generate the mini-web first "
                                    f"(python examples/miniweb/generate.py {site_dir})")
        with open(routes_path, encoding="utf-8") as f:
            routes = json.load(f)
        self.site_dir = site_dir
        self.hosts: dict[str, dict[str, dict]] = routes["hosts"]
        self.generated_port = routes.get("port")
        self.bodies: dict[str, bytes] = {}
        for host_routes in self.hosts.values():
            for route in host_routes.values():
                if "file" in route and route["file"] not in self.bodies:
                    with open(os.path.join(site_dir, *route["file"].split("/")), "rb") as fb:
                        self.bodies[route["file"]] = fb.read()
        self.quiet = quiet
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        try:
            super().__init__((host, port), Handler)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise PortInUse(e.errno, f"port {port} on {host} is already in use (is another demo or "
                                         f"mini-web server running?); choose another with --port") from None
            raise

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, host: str, path: str = "/") -> str:
        """The URL of a page as the submissions write it (short host names like "news" are expanded)."""
        host = host if "." in host else f"{host}.{DOMAIN}"
        return f"http://{host}:{self.port}{path}"

    def answer(self, host: str, path: str) -> tuple[int, dict, bytes]:
        routes = self.hosts.get(host)
        if routes is None:
            return 404, {"Content-Type": "text/html; charset=utf-8"}, page_404(host, path, unknown_host=True)
        route = routes.get(path)
        if route is None and not path.endswith("/") and path + "/" in routes:
            route = {"status": 301, "location": path + "/"}  # as web servers add a directory's slash
        if route is None:
            return 404, {"Content-Type": "text/html; charset=utf-8"}, page_404(host, path)
        if "location" in route:
            return route["status"], {"Location": route["location"], "Content-Type": "text/html; charset=utf-8"}, \
                f'<html><body>Moved to <a href="{escape(route["location"])}">here</a>.</body></html>\n'.encode()
        headers = {"Content-Type": route["type"], **route.get("headers", {})}
        return route["status"], headers, self.bodies[route["file"]]

    def record(self, host: str, path: str, status: int, method: str) -> None:
        with self._lock:
            self.requests.append({"host": host, "path": path, "status": status, "method": method})

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up mid-response (a crawler's timeout, a closed test) is not a server error.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def page_404(host: str, path: str, unknown_host: bool = False) -> bytes:
    what = f"No site called {escape(host)} here." if unknown_host else \
        f"The requested URL {escape(path)} was not found on this server."
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>404 Not Found</title></head>\n'
            f'<body><h1>Not Found</h1><p>{what}</p><hr><address>miniweb/1.0 at {escape(host)}</address></body></html>\n'
            ).encode("utf-8")


@contextmanager
def serve(site_dir: str, port: int = 0, host: str = "127.0.0.1", quiet: bool = True) -> Iterator[MiniwebServer]:
    """Run the server in a background thread for the duration of a `with` block."""
    server = MiniwebServer(site_dir, port, host, quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="miniweb-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def main(argv: Optional[list[str]] = None) -> int:
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = argparse.ArgumentParser(description="Serve a generated mini-web on 127.0.0.1 until Ctrl-C.")
    p.add_argument("site_dir", nargs="?", default=os.path.join(repo, "work", "miniweb"),
                   help="the generated mini-web (default: work/miniweb under the repository)")
    p.add_argument("--port", type=int, default=None,
                   help="port to listen on (default: the port its URLs were generated with)")
    p.add_argument("--quiet", action="store_true", help="do not log each request")
    args = p.parse_args(argv)
    try:
        port = args.port
        if port is None:
            with open(os.path.join(args.site_dir, ROUTES), encoding="utf-8") as f:
                port = json.load(f).get("port", DEFAULT_PORT)
        server = MiniwebServer(args.site_dir, port, quiet=args.quiet)
    except (PortInUse, FileNotFoundError) as e:
        print(f"error: {e.strerror if isinstance(e, PortInUse) else e}", file=sys.stderr)
        return 1
    if server.generated_port not in (None, server.port):
        print(f"note: its URLs name port {server.generated_port}; links between pages will point there",
              file=sys.stderr)
    print(f"serving {len(server.hosts)} hosts on 127.0.0.1:{server.port} (Ctrl-C to stop):")
    for host in sorted(server.hosts):
        print(f"  http://{host}:{server.port}/")
    print(f"try: curl --resolve news.{DOMAIN}:{server.port}:127.0.0.1 http://news.{DOMAIN}:{server.port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
