"""Peak memory of the crawl process against its documented bound, with every slot kept busy.

    PYTHONPATH=. python tests/crawl/memory_stress.py CONCURRENCY WRITER_BUFFER_BYTES LINKS [MAX_BYTES] [KINDS]

KINDS (comma-separated, cycled over the links): big (an HTML page of 0.97 x max_bytes, incompressible),
bigz (the same, gzip-encoded), bomb (64 MiB of zeros gzipped), stream (an endless body), 404big (a
404 with a big body), stall (0.9 x max_bytes, then silence past the timeout). The server is this
process on 127.0.0.1 (4 virtual hosts); the crawl is the real crawl stage. Prints one JSON line: the
peak RSS above the RSS at spider open ("gap"), the bound's margin above it and its parts (MB).
Not a test: the figures in crawl/README.md ("Memory") come from it.
"""

import gzip
import json
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from crawl_helpers import quick_fetch, run_crawl, submission, write_config, write_submissions  # noqa: E402
from crawl_servers import HTML, Server, _endless, gzip_bomb  # noqa: E402


def main(argv):
    conc, writer_bytes, n = int(argv[0]), int(argv[1]), int(argv[2])
    max_bytes = int(argv[3]) if len(argv) > 3 else 1_000_000
    kinds = (argv[4] if len(argv) > 4 else "big,bigz,bomb,stream,404big,big").split(",")
    big = b"<html><body>" + os.urandom(int(max_bytes * 0.97) // 2).hex().encode() + b"</body></html>"
    bigz = gzip.compress(big, 1)

    def stall(wfile):
        try:
            wfile.write(big[:int(max_bytes * 0.9)])
            wfile.flush()
            time.sleep(2.5)
        except OSError:
            pass

    def route(req, host, path):
        if path == "/robots.txt":
            return 404, [HTML], b""
        kind = path.split("/")[1]
        if kind == "big":
            return 200, [HTML], big
        if kind == "bigz":
            return 200, [HTML, ("Content-Encoding", "gzip")], bigz
        if kind == "bomb":
            return 200, [HTML, ("Content-Encoding", "gzip")], gzip_bomb()
        if kind == "stream":
            return 200, [HTML], _endless
        if kind == "stall":
            return 200, [HTML, ("Content-Length", str(len(big)))], stall
        if kind == "404big":
            return 404, [HTML], big
        return 404, [HTML], b""

    gzip_bomb()  # built before the crawl starts
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="memory-stress-"))
    with Server(route) as server:
        urls = [f"http://h{i % 4}.site.test:{server.port}/{kinds[i % len(kinds)]}/{i}" for i in range(n)]
        dump = write_submissions(tmp / "RS.jsonl", [submission(str(i), u) for i, u in enumerate(urls)])
        fetch = quick_fetch(concurrent_requests=conc, per_domain_concurrency=conc, max_bytes=max_bytes,
                            timeout_s=20 if "stall" not in kinds else 1, retries=1 if "stall" not in kinds else 0)
        crawl = {"submissions": [dump], "fetch": fetch, "warc": {"writer_buffer_bytes": writer_bytes}}
        _, record = run_crawl(write_config(tmp, crawl, tmp / "work"))
    log = json.load(open(tmp / "work" / "crawl" / "logs" / "fetch-last.json"))
    print(json.dumps({
        "concurrent_requests": conc, "writer_buffer_bytes": writer_bytes, "max_bytes": max_bytes, "links": n,
        "kinds": kinds, "counts": record["counts"], "peak_mb": log["peak_rss_mb"], "at_open_mb": log["rss_at_open_mb"],
        "gap_mb": round(log["peak_rss_mb"] - log["rss_at_open_mb"], 1),
        "margin_mb": round(log["rss_bound_mb"] - log["rss_at_open_mb"], 1), "parts_mb": log["rss_bound_parts_mb"],
        "writer_pauses": log["writer_pauses"]}))


if __name__ == "__main__":
    main(sys.argv[1:])
