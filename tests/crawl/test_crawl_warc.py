"""WARC records (warcio), rotation, and recovery of files left open by a killed crawl."""

import io
import json
import os
from contextlib import redirect_stdout

from warcio.archiveiterator import ArchiveIterator

from crawl import warc
from crawl.ledger import Ledger, read_failure_log
from crawl.outcomes import failure_record
from webtext import jsonl


def page(i, body=None):
    link = {"id": f"{i:016x}", "url": f"http://example.org/{i}",
            "source": {"reddit_ids": [f"r{i}", "x"], "subreddits": ["news"], "score": 7, "created_utc": 1_200_000_000}}
    return {"link": link, "url": f"http://www.example.org/{i}/", "status": 200, "protocol": "HTTP/1.1",
            "headers": [("Content-Type", "text/html; charset=utf-8"), ("Transfer-Encoding", "chunked"),
                        ("Content-Length", "12"), ("Server", "test")],
            "body": body if body is not None else f"<html><body>page {i} caf\u00e9</body></html>".encode() * 20,
            "method": "GET", "request_headers": [("User-Agent", "webtext-test"), ("Accept-Encoding", "gzip")],
            "ip": "93.184.216.34", "fetched_at": "2024-05-01T12:00:00.123456Z",
            "redirects": [f"http://example.org/{i}"], "content_encoding": "gzip", "latency": 0.01}


def records(path):
    with open(path, "rb") as f:
        out = []
        for rec in ArchiveIterator(f, check_digests=True):
            out.append((rec.rec_type, rec.rec_headers, rec.content_stream().read(), rec.http_headers))
        return out


def test_page_is_response_request_metadata_with_provenance(tmp_path):
    files = warc.WarcFiles(str(tmp_path / "warc"), str(tmp_path / "idx"), "crawl", max_bytes=10 << 20)
    files.write(page(1))
    files.close()
    path = tmp_path / "warc" / "crawl-00000.warc.gz"
    (rtype, rh, body, http), (qtype, qh, _, qhttp), (mtype, mh, meta, _) = records(path)
    assert (rtype, qtype, mtype) == ("response", "request", "metadata")
    assert rh.get_header("WARC-Target-URI") == "http://www.example.org/1/"
    assert rh.get_header("WARC-Date") == "2024-05-01T12:00:00.123456Z"
    assert rh.get_header("WARC-IP-Address") == "93.184.216.34"
    link = json.loads(rh.get_header("WebText-Link"))
    assert link == {k: page(1)["link"][k] for k in ("id", "url", "source")}
    assert body == page(1)["body"]
    # The body is stored decoded and de-chunked, with its own length; how it came is in the metadata.
    assert http.get_statuscode() == "200" and http.get_header("Transfer-Encoding") is None
    assert http.get_header("Content-Length") == str(len(body)) and http.get_header("Server") == "test"
    assert qhttp.protocol == "GET" and qh.get_header("WARC-Concurrent-To") == rh.get_header("WARC-Record-ID")
    assert mh.get_header("WARC-Concurrent-To") == rh.get_header("WARC-Record-ID")
    assert b"webtext-link-id: 0000000000000001" in meta and b"content-encoding: gzip" in meta
    assert b"reddit-ids: r1 x" in meta


def test_readable_by_warcio_index(tmp_path):
    from warcio.cli import main as warcio_main

    files = warc.WarcFiles(str(tmp_path / "warc"), str(tmp_path / "idx"), "crawl", max_bytes=10 << 20, level=1)
    for i in range(3):
        files.write(page(i))
    files.close()
    buf = io.StringIO()
    with redirect_stdout(buf):
        warcio_main(["index", "-f", "warc-type,warc-target-uri", str(tmp_path / "warc" / "crawl-00000.warc.gz")])
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert [x["warc-type"] for x in lines] == ["response", "request", "metadata"] * 3


def test_rotation_by_size_keeps_every_page_once(tmp_path):
    files = warc.WarcFiles(str(tmp_path / "warc"), str(tmp_path / "idx"), "part002of004", max_bytes=3000)
    for i in range(12):
        files.write(page(i, body=os.urandom(1500)))
    files.close()
    names = sorted(os.listdir(tmp_path / "warc"))
    assert len(names) > 3 and names[0] == "part002of004-00000.warc.gz"
    assert not any(n.endswith(".open") for n in names)
    ids = [json.loads(h.get_header("WebText-Link"))["id"] for n in names
           for t, h, _, _ in records(tmp_path / "warc" / n) if t == "response"]
    assert ids == [f"{i:016x}" for i in range(12)]
    assert [e["id"] for e in warc.stored_entries(str(tmp_path / "idx"))] == ids


def test_recover_cuts_a_killed_file_back_to_its_last_indexed_page(tmp_path):
    wdir, idir = str(tmp_path / "warc"), str(tmp_path / "idx")
    files = warc.WarcFiles(wdir, idir, "crawl", max_bytes=10 << 20, sync_every_pages=10**9, sync_every_s=10**9)
    for i in range(5):
        files.write(page(i))
    files.sync()
    for i in range(5, 8):  # written and flushed to the OS, but not yet indexed...
        files.write(page(i))
    files.file.flush()
    files.file.write(files.builder.page_block(page(99))[:700])  # ...and half of one more record
    files.file.flush()
    files.index.write(b'{"id": "torn')  # a torn index line, as a kill mid-write leaves
    files.index.flush()
    # The process dies here: nothing is closed.
    recovered = warc.recover(wdir, idir)
    assert [os.path.basename(p) for p in recovered] == ["crawl-00000.warc.gz"]
    recs = records(recovered[0])
    assert [t for t, *_ in recs] == ["response", "request", "metadata"] * 5
    assert len(list(warc.stored_entries(idir))) == 5
    # The next writer continues with a new file.
    files2 = warc.WarcFiles(wdir, idir, "crawl", max_bytes=10 << 20)
    assert files2.name == "crawl-00001.warc.gz"


def test_recover_removes_a_file_with_no_complete_page(tmp_path):
    wdir, idir = str(tmp_path / "warc"), str(tmp_path / "idx")
    files = warc.WarcFiles(wdir, idir, "crawl", max_bytes=10 << 20, sync_every_pages=10**9, sync_every_s=10**9)
    files.write(page(1))
    files.file.flush()
    assert warc.recover(wdir, idir) == []
    assert os.listdir(wdir) == [] and os.listdir(idir) == []


def test_ledger_skips_done_links_and_survives_a_torn_failure_log(tmp_path):
    state, wdir = str(tmp_path / "state"), str(tmp_path / "warc")
    ledger = Ledger(state, wdir, "crawl", warc_max_bytes=10 << 20, warc_level=1)
    ledger.store(page(1))
    ledger.fail(failure_record(page(2)["link"], "http_404", "HTTP 404", 404))
    ledger.close()
    with open(os.path.join(state, "failures.jsonl"), "ab") as f:
        f.write(b'{"id": "000000000000000')  # killed mid-line
    links_dir = tmp_path / "links"
    os.makedirs(links_dir)
    with jsonl.JsonlWriter(str(links_dir / "links-crawl-00000.jsonl.zst")) as w:
        for i in range(1, 5):
            w.write(page(i)["link"])
    again = Ledger(state, wdir, "crawl", warc_max_bytes=10 << 20, warc_level=1)
    assert [link["id"] for link in again.pending(str(links_dir))] == [f"{i:016x}" for i in (3, 4)]
    again.fail(failure_record(page(3)["link"], "timeout", "slow"))
    again.close()
    assert [r["reason"] for r in read_failure_log(os.path.join(state, "failures.jsonl"))] == ["http_404", "timeout"]
