"""Crawl throughput: the full crawler against a bare Scrapy spider, on the same local site, in one run.

    PYTHONPATH=. python bench/crawl.py            # 3000 pages, 2 rounds
    PYTHONPATH=. python bench/crawl.py --quick    # 300 pages, 1 round: a smoke test of the script

Figures are noisy on a shared machine; prefer a quiet one, several rounds (best of), and the CPU per
page figures, which depend less on other load than pages/s do.

A local site of N realistic HTML pages (~20 KB: navigation, paragraphs, footer) is served from
memory by a small asyncio HTTP/1.1 keep-alive server in its own process (so the server is not what
is measured). Then, alternating, in fresh processes:

  bare  a minimal Scrapy spider that requests every page and does nothing with it, with the engine
        settings the crawler also uses (TUNED below: one item slot, no cookies, no referers); it is
        also run with Scrapy's defaults, for reference (its 100 item slots cost ~40% here);
  full  `webtext crawl` on a submissions file linking every page: filters, on-disk link list, then
        the crawl process with the safety middleware and resolver, robots.txt, retries, content-type
        checks, the ledger and gzip WARC writing (warcio, in a writer process of its own, fed
        through a pipe; its CPU is reported apart from the crawl process's).

Both use the same Scrapy concurrency and no politeness delays (AutoThrottle off), so the ratio
measures what the crawler's machinery costs. pages/s = pages / Scrapy's elapsed_time_seconds (spider
open to close) for both; the full crawler's link building is reported separately.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = ("the of and to in is that for it as with was on be by this are from at or an have not which but "
         "government research market city people system water energy school history music game report "
         "policy study health science world company service team story power data network").split()


def make_page(i: int, rng: random.Random) -> bytes:
    nav = "".join(f'<li><a href="/section/{k}">Section {k}</a></li>' for k in range(25))
    paras = "".join("<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 140))) + ".</p>"
                    for _ in range(rng.randint(12, 22)))
    footer = "".join(f'<a href="/about/{k}">About {k}</a> ' for k in range(30))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Article {i}</title>"
            f"<link rel='stylesheet' href='/s.css'></head><body><nav><ul>{nav}</ul></nav>"
            f"<main><h1>Article {i}</h1>{paras}</main><footer>{footer} &copy; 2017</footer></body></html>").encode()


# -- the site server (its own process) -------------------------------------------------------------

def serve(n_pages: int, port_file: str) -> None:
    rng = random.Random(1234)
    pages = {f"/a/{i}".encode(): make_page(i, rng) for i in range(n_pages)}
    robots = b"User-agent: *\nAllow: /\n"

    def response(path: bytes) -> bytes:
        if path == b"/robots.txt":
            body, ctype, status = robots, b"text/plain", b"200 OK"
        elif path in pages:
            body, ctype, status = pages[path], b"text/html; charset=utf-8", b"200 OK"
        else:
            body, ctype, status = b"not found", b"text/plain", b"404 Not Found"
        return (b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\nContent-Length: " +
                str(len(body)).encode() + b"\r\n\r\n" + body)

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1]
                writer.write(response(path))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        with open(port_file + ".tmp", "w") as f:
            f.write(str(server.sockets[0].getsockname()[1]))
        os.replace(port_file + ".tmp", port_file)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- the bare spider (its own process) -------------------------------------------------------------

# Engine settings the full crawler also uses and that cost a bare spider nothing in politeness: a
# callback that yields nothing, no cookies, no referers. "tuned" gives them to the bare spider too.
TUNED = {"CONCURRENT_ITEMS": 1, "COOKIES_ENABLED": False, "REFERER_ENABLED": False}


def bare(urls_file: str, stats_file: str, concurrency: int, tuned: bool) -> None:
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess

    with open(urls_file) as f:
        urls = [line.strip() for line in f if line.strip()]

    import resource

    from scrapy import signals

    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    marks = {}

    class Bare(Spider):
        name = "bare"

        @classmethod
        def from_crawler(cls, crawler, *a, **kw):
            spider = super().from_crawler(crawler, *a, **kw)
            crawler.signals.connect(spider.opened, signal=signals.spider_opened)
            return spider

        def opened(self, spider):
            marks["open"] = cpu()

        def closed(self, reason):
            marks["close"] = cpu()

        async def start(self):
            for u in urls:
                yield Request(u, dont_filter=True)

        def parse(self, response):
            return None

    # ERROR: with REFERER_ENABLED off, Scrapy warns at start-up that redirects will drop the Referer
    # header; nothing here redirects.
    settings = {"CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
                "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False}
    process = CrawlerProcess({**settings, **(TUNED if tuned else {})})
    crawler = process.create_crawler(Bare)
    process.crawl(crawler)
    process.start()
    s = crawler.stats.get_stats()
    with open(stats_file, "w") as f:
        json.dump({"pages": s.get("response_received_count", 0), "seconds": s["elapsed_time_seconds"],
                   "cpu_s": marks["close"] - marks["open"]}, f)


# -- the runs ----------------------------------------------------------------------------------------

def _env():
    return dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))


def run_bare(tmp: str, urls_file: str, concurrency: int, tuned: bool) -> dict:
    stats_file = os.path.join(tmp, "bare.json")
    subprocess.run([sys.executable, __file__, "--_bare", urls_file, stats_file, str(concurrency), str(int(tuned))],
                   check=True, env=_env())
    with open(stats_file) as f:
        return json.load(f)


def run_full(tmp: str, dump: str, concurrency: int, level: int, round_no: int) -> dict:
    import yaml

    work = os.path.join(tmp, f"work-{round_no}")
    config = os.path.join(tmp, f"bench-{round_no}.yaml")
    crawl = {"submissions": [dump], "link_buckets": 16,
             "fetch": {"concurrent_requests": concurrency, "per_domain_concurrency": concurrency, "autothrottle": False,
                       "allowed_networks": ["127.0.0.1/32"], "log_interval_s": 3600},
             "warc": {"compression_level": level} if level else {}}
    with open(config, "w") as f:
        yaml.safe_dump({"run": {"work_dir": work}, "crawl": crawl}, f)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "webtext", "crawl", config], check=True, env=_env(), cwd=REPO,
                   stderr=subprocess.DEVNULL)
    total = time.perf_counter() - t0
    with open(os.path.join(work, "crawl", "_SUCCESS.json")) as f:
        success = json.load(f)
    with open(os.path.join(work, "crawl", "logs", "fetch-last.json")) as f:
        fetch = json.load(f)
    warc_bytes = sum(os.path.getsize(os.path.join(work, "crawl", "warc", n))
                     for n in os.listdir(os.path.join(work, "crawl", "warc")))
    return {"pages": success["counts"]["out"], "seconds": fetch["scrapy"]["elapsed_time_seconds"],
            "stage_seconds": total, "warc_bytes": warc_bytes, "body_bytes": success["stats"]["fetch"]["bytes"],
            "peak_rss_mb": fetch["peak_rss_mb"], "cpu_s": fetch["crawl_cpu_s"], "writer_cpu_s": fetch["writer_cpu_s"]}


def _ms(run: dict, key: str = "cpu_s") -> str:
    return f"{1000 * run[key] / max(run['pages'], 1):.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--level", type=int, default=None, help="WARC gzip level of the full crawler (default: the config's)")
    ap.add_argument("--quick", action="store_true", help="300 pages, 1 round")
    args = ap.parse_args()
    if args.quick:
        args.pages, args.rounds = 300, 1

    with tempfile.TemporaryDirectory(prefix="webtext-bench-crawl-") as tmp:
        port_file = os.path.join(tmp, "port")
        server = subprocess.Popen([sys.executable, __file__, "--_serve", str(args.pages), port_file])
        try:
            deadline = time.time() + 60
            while not os.path.exists(port_file):
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("the bench site did not start")
                time.sleep(0.05)
            port = int(open(port_file).read())
            urls = [f"http://127.0.0.1:{port}/a/{i}" for i in range(args.pages)]
            urls_file = os.path.join(tmp, "urls.txt")
            with open(urls_file, "w") as f:
                f.write("\n".join(urls) + "\n")
            dump = os.path.join(tmp, "RS_bench.jsonl")
            with open(dump, "w") as f:
                for i, u in enumerate(urls):
                    f.write(json.dumps({"id": f"b{i}", "url": u, "score": 3 + i % 50, "created_utc": 1_300_000_000,
                                        "subreddit": "bench", "is_self": False, "over_18": False}) + "\n")
            bares, defaults, fulls = [], [], []
            for r in range(args.rounds):
                bares.append(run_bare(tmp, urls_file, args.concurrency, tuned=True))
                fulls.append(run_full(tmp, dump, args.concurrency, args.level, r))
                defaults.append(run_bare(tmp, urls_file, args.concurrency, tuned=False))
                b, fu, d = bares[-1], fulls[-1], defaults[-1]
                print(f"round {r + 1}: bare {b['pages'] / b['seconds']:.0f}/s ({_ms(b)} ms CPU/page) | full "
                      f"{fu['pages'] / fu['seconds']:.0f}/s ({_ms(fu)} ms CPU/page in the crawler + "
                      f"{_ms(fu, 'writer_cpu_s')} in the WARC writer; stage {fu['stage_seconds']:.1f}s, peak RSS "
                      f"{fu['peak_rss_mb']:.0f} MB) | bare with Scrapy defaults {d['pages'] / d['seconds']:.0f}/s "
                      f"({_ms(d)} ms CPU/page)", flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=10)

    bare_pps = max(b["pages"] / b["seconds"] for b in bares)
    default_pps = max(d["pages"] / d["seconds"] for d in defaults)
    full_pps = max(f["pages"] / f["seconds"] for f in fulls)
    last = fulls[-1]
    print(f"\npages: {args.pages}, concurrency {args.concurrency}, WARC gzip level {args.level or 'default'}, "
          f"best of {args.rounds}")
    print(f"bare Scrapy spider          : {bare_pps:7.0f} pages/s  (engine settings as the crawler's: {TUNED})")
    print(f"full crawler                : {full_pps:7.0f} pages/s  (WARC {last['warc_bytes'] / 1e6:.1f} MB for "
          f"{last['body_bytes'] / 1e6:.1f} MB of bodies)")
    print(f"bare, Scrapy's defaults     : {default_pps:7.0f} pages/s")
    print(f"ratio full / bare           : {full_pps / bare_pps:7.2f}  (target >= 0.8)")
    print(f"ratio full / bare defaults  : {full_pps / default_pps:7.2f}")
    bare_ms = min(b["cpu_s"] / b["pages"] for b in bares) * 1000
    full_ms = min(f["cpu_s"] / f["pages"] for f in fulls) * 1000
    writer_ms = min(f["writer_cpu_s"] / f["pages"] for f in fulls) * 1000
    print(f"CPU per page (less load-sensitive than pages/s): bare {bare_ms:.2f} ms, crawler process {full_ms:.2f} ms "
          f"(ratio {bare_ms / full_ms:.2f}), plus {writer_ms:.2f} ms in the WARC writer process")
    if any(x["pages"] != args.pages for x in fulls + bares + defaults):
        print("warning: not every page was fetched in every run", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_serve":
        serve(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "--_bare":
        bare(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1")
    else:
        sys.exit(main())
