"""Address policy, resolution override, failure classification, Retry-After and rate-limit parsing."""

import pytest

from crawl.fetch.middlewares import retry_after_seconds
from crawl.outcomes import classify_exception, is_html
from crawl.reddit import RateBudget, listing_url
from crawl.safety import AddressPolicy

from crawl_helpers import make_config  # noqa: F401 - a fixture


@pytest.mark.parametrize("address,kind", [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("172.16.5.4", "private"),
    ("169.254.169.254", "link-local"), ("224.0.0.1", "multicast"), ("0.0.0.0", "unspecified"),
    ("100.64.0.1", "non-global"), ("240.0.0.1", "reserved"), ("::1", "loopback"), ("fe80::1", "link-local"),
    ("fc00::5", "private"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
])
def test_non_public_addresses_are_refused(address, kind):
    why = AddressPolicy().refusal(address)
    assert why == f"{kind} address {address}"
    assert AddressPolicy(allow_private=True).refusal(address) is None


def test_public_addresses_pass_and_allowed_networks_open_only_themselves():
    policy = AddressPolicy(allowed_networks=["127.0.0.1/32"])
    assert policy.refusal("93.184.216.34") is None and policy.refusal("2606:2800:220:1::1") is None
    assert policy.refusal("127.0.0.1") is None
    assert policy.refusal("127.0.0.2") == "loopback address 127.0.0.2"
    assert policy.refusal("::ffff:127.0.0.1") is None


def test_url_checks_before_any_connection():
    policy = AddressPolicy(resolve={"miniweb.test": "127.0.0.1", "evil.test": "10.0.0.7"},
                           allowed_networks=["127.0.0.1/32"])
    assert policy.override("news.miniweb.test") == "127.0.0.1" and policy.override("MINIWEB.test.") == "127.0.0.1"
    assert policy.override("miniweb.test.example.com") is None
    assert policy.check_url("http://news.miniweb.test:8080/a") is None
    assert policy.check_url("http://db.evil.test/")[0] == "private_address"
    assert policy.check_url("http://169.254.169.254/latest/meta-data/") == \
        ("private_address", "link-local address 169.254.169.254")
    assert policy.check_url("http://[::1]:8080/")[0] == "private_address"
    assert policy.check_url("ftp://example.org/x")[0] == "scheme"
    assert policy.check_url("file:///etc/passwd")[0] == "scheme"
    assert policy.check_url("http://example.org/") is None  # a name: checked when it is resolved


def test_classification_of_download_errors():
    from scrapy.exceptions import (CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError,
                                   DownloadTimeoutError, IgnoreRequest, ResponseDataLossError)

    from crawl.fetch.middlewares import Refused

    assert classify_exception(DownloadTimeoutError("took longer"))[0] == "timeout"
    assert classify_exception(CannotResolveHostError("no such host"))[0] == "dns"
    assert classify_exception(DownloadConnectionRefusedError("refused"))[0] == "connection"
    assert classify_exception(ResponseDataLossError())[0] == "data_loss"
    assert classify_exception(DownloadCancelledError("Expected to receive 9 bytes which is larger than download "
                                                     "max size (5)"))[0] == "too_large"
    assert classify_exception(IgnoreRequest("Forbidden by robots.txt"))[0] == "robots"
    assert classify_exception(IgnoreRequest("max redirections reached"))[0] == "redirect_loop"
    assert classify_exception(IgnoreRequest("... exceeded DOWNLOAD_MAXSIZE (5 B) during decompression."))[0] == \
        "too_large"
    assert classify_exception(Refused("private_address", "loopback address 127.0.0.2")) == \
        ("private_address", "loopback address 127.0.0.2")
    assert classify_exception(ValueError("odd"))[0] == "error"


def test_html_detection():
    allowed = ("text/html", "application/xhtml+xml")
    assert is_html("text/html; charset=bogus", allowed) == (True, "text/html")
    assert is_html("Application/XHTML+xml", allowed)[0]
    assert is_html("application/pdf", allowed) == (False, "application/pdf")
    assert is_html(None, allowed, b"\xef\xbb\xbf  <!DOCTYPE html><html>")[0]
    assert not is_html(None, allowed, b"%PDF-1.4")[0]


def test_retry_after_and_ratelimit_headers():
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds(b"Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None
    budget = RateBudget()
    budget.update(200, b"57.0", b"42", now=0.0)
    assert budget.wait(0.0) == 0.0
    budget.update(200, b"0", b"42", now=0.0)
    assert budget.wait(0.0) == 42.0
    assert RateBudget().wait(0.0) == 0.0  # more cases in test_crawl_reddit.py
    assert listing_url("http://127.0.0.1:9/", "news", "top", page_size=100, time_filter="all", after="t3_x") == \
        "http://127.0.0.1:9/r/news/top.json?limit=100&raw_json=1&t=all&after=t3_x"
    assert "&t=" not in listing_url("https://oauth.reddit.com", "news", "new", page_size=5, time_filter="all")


def test_resolver_refuses_overridden_and_resolved_private_addresses():
    from crawl.fetch.resolver import BLOCKED, BlockedAddressError, SafeResolver

    resolver = SafeResolver.__new__(SafeResolver)  # no reactor needed for the override path
    resolver.policy = AddressPolicy(resolve={"evil.test": "10.0.0.7", "fine.test": "93.184.216.34"})
    results = []
    resolver.getHostByName("db.evil.test").addBoth(results.append)
    resolver.getHostByName("www.fine.test").addBoth(results.append)
    assert results[0].check(BlockedAddressError) and BLOCKED["db.evil.test"] == "private address 10.0.0.7"
    assert results[1] == "93.184.216.34"


def test_a_real_crawl_refuses_what_resolves_to_loopback(tmp_path, make_config):
    """With the defaults (no private networks), 'localhost' is looked up by DNS and refused at connection
    time, and an IP literal before the request: the server on 127.0.0.1 sees nothing."""
    from crawl_helpers import quick_fetch, run_crawl, submission, write_submissions
    from crawl_servers import Server, site_route
    from webtext import jsonl

    with Server(site_route()) as server:
        urls = [f"http://localhost:{server.port}/p/1", f"http://127.0.0.1:{server.port}/p/2"]
        dump = write_submissions(tmp_path / "RS.jsonl", [submission(str(i), u) for i, u in enumerate(urls)])
        fetch = quick_fetch(allowed_networks=[], resolve={})
        cfg, record = run_crawl(make_config({"submissions": [dump], "fetch": fetch}))
        assert not server.hits
    failures = {r["url"]: r for r in jsonl.read_dir(f"{cfg.run.work_dir}/crawl/failures")}
    assert {u: failures[u]["reason"] for u in urls} == {u: "private_address" for u in urls}
    assert "resolves to a refused loopback address 127.0.0.1" in failures[urls[0]]["detail"]
    assert record["counts"] == {"in": 2, "out": 0, "dropped": {"private_address": 2}}
