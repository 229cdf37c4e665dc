"""The mini-web server over real HTTP on 127.0.0.1: virtual hosts, robots.txt, redirects, 404s, types."""

import http.client
import os
import socket
import subprocess
import sys
import urllib.robotparser
from urllib.parse import urlsplit

import pytest
from miniweb_fixtures import EXAMPLES, generated_miniweb  # first: it puts examples/ on sys.path

from miniweb.serve import PortInUse, serve


@pytest.fixture(scope="module")
def miniweb(tmp_path_factory):
    return generated_miniweb(tmp_path_factory)


@pytest.fixture(scope="module")
def server(miniweb):
    with serve(miniweb.path, port=0) as s:
        yield s


def get(server, url, method="GET", host=None):
    """Request a mini-web URL from the server, naming its host in the Host header as a crawler would."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        path = u.path + (f"?{u.query}" if u.query else "")
        conn.request(method, path or "/", headers={"Host": host or u.netloc})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_every_page_in_the_manifest_is_served_as_recorded(server, miniweb):
    for url, page in miniweb.manifest["pages"].items():
        status, headers, body = get(server, url)
        assert status == page["status"], url
        if status == 200:
            assert headers["content-type"] == page["type"] and body == miniweb.body(url), url
        elif "location" in page:
            assert headers["location"] == page["location"], url


def test_virtual_hosts(server):
    titles = {}
    for host in ("news", "forum", "magazine"):
        status, _, body = get(server, server.url(host, "/"))
        assert status == 200
        titles[host] = body.split(b"<title>")[1].split(b"</title>")[0]
    assert len(set(titles.values())) == 3
    # Host names are case-insensitive and may carry the port or not; unknown hosts get a 404.
    assert get(server, server.url("news", "/"), host="NEWS.MiniWeb.test")[2] == get(server, server.url("news", "/"))[2]
    assert get(server, server.url("news", "/"), host="elsewhere.example")[0] == 404
    assert len({r["host"] for r in server.requests}) >= 3


def test_robots_txt(server, miniweb):
    status, headers, body = get(server, server.url("forum", "/robots.txt"))
    assert status == 200 and headers["content-type"].startswith("text/plain")
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(body.decode().splitlines())
    for url in miniweb.manifest["never_fetch"]["robots_disallowed"]:
        assert not rp.can_fetch("webtext", url)
    forum_pages = [u for u, p in miniweb.manifest["pages"].items() if p.get("kind") == "forum_thread"
                   and "/private/" not in u]
    assert forum_pages and all(rp.can_fetch("webtext", u) for u in forum_pages)
    assert get(server, server.url("blog", "/robots.txt"))[0] == 404  # a host without one: crawl everything
    status, _, body = get(server, server.url("news", "/robots.txt"))
    rp = urllib.robotparser.RobotFileParser()
    rp.parse(body.decode().splitlines())
    assert rp.can_fetch("webtext", server.url("news", "/world/")) and not rp.can_fetch("BadBot", server.url("news", "/"))


def test_redirects_are_not_followed_by_the_server(server, miniweb):
    for r in miniweb.manifest["redirects"]:
        status, headers, _ = get(server, r["url"])
        assert status == r["status"] and headers["location"] == r["location"]
        assert get(server, headers["location"])[0] == 200
    status, headers, _ = get(server, server.url("news", "/world"))  # a directory without its slash
    assert status == 301 and headers["location"] == "/world/"


def test_not_found_and_non_html(server, miniweb):
    for url in miniweb.manifest["not_found"] + [server.url("news", "/no/such/page.html")]:
        status, headers, body = get(server, url)
        assert status == 404 and headers["content-type"].startswith("text/html") and b"Not Found" in body
    magic = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff"}
    for e in miniweb.manifest["non_html"]:
        status, headers, body = get(server, e["url"])
        assert status == 200 and headers["content-type"] == e["type"] and body.startswith(magic[e["type"]])
    assert any("attachment" in get(server, e["url"])[1].get("content-disposition", "")
               for e in miniweb.manifest["non_html"])


def test_head_empty_pages_and_tracking_parameters(server, miniweb):
    for e in miniweb.manifest["empty"]:
        status, headers, body = get(server, e["url"])
        assert status == 200 and int(headers["content-length"]) == e["bytes"] == len(body)
    url = miniweb.manifest["fetch_expected"][0]
    status, headers, body = get(server, url, method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) == len(miniweb.body(url))
    variant = next(s for v in miniweb.manifest["url_variants"] for s in v["submitted_as"] if "utm_" in s)
    assert get(server, variant.replace("&amp;", "&"))[0] == 200  # a static site ignores the query string
    assert {"host", "path", "status", "method"} <= set(server.requests[-1])


def test_a_busy_port_is_one_clear_error(miniweb, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port} .* already in use"):
            with serve(miniweb.path, port=port):
                pass
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        demo = os.path.join(EXAMPLES, "run_demo.py")
        r = subprocess.run([sys.executable, demo, "--port", str(port)], capture_output=True, text=True, env=env,
                           timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in r.stderr and r.stdout == ""


def test_missing_site_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="generate the mini-web first"):
        with serve(str(tmp_path)):
            pass
