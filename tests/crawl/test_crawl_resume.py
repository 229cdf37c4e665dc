"""Killed (SIGKILL or SIGTERM) in the middle and rerun, the crawl goes on: no stored page is fetched
again, no WARC record is duplicated, every link ends stored or failed exactly once."""

import glob
import os
import signal
import subprocess
import sys
import time

import pytest

from crawl.verify import verify_folder
from crawl.warc import read_index

from crawl_helpers import quick_fetch, submission, write_config, write_submissions
from crawl_servers import Server, site_route

N_HOSTS, N_PAGES = 4, 40


def start_cli(config, repo):
    env = dict(os.environ, PYTHONPATH=repo + os.pathsep + os.environ.get("PYTHONPATH", ""), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "webtext", "crawl", config], cwd=repo, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def committed(work_dir):
    """Pages the crawl had committed (indexed) when it was stopped: {url}."""
    urls = set()
    for path in glob.glob(os.path.join(work_dir, "crawl.partial", "state", "warc-index", "*.jsonl")):
        urls.update(e["url"] for e in read_index(path))
    return urls


@pytest.mark.parametrize("sig,group", [(signal.SIGKILL, True), (signal.SIGKILL, False), (signal.SIGTERM, False)],
                         ids=["SIGKILL-all-processes", "SIGKILL-main-process", "SIGTERM"])
def test_kill_and_resume(tmp_path, sig, group, repo_root):
    """SIGKILL to the stage, Scrapy and the WARC writer at once (the open WARC file is then cut back on
    resume); SIGKILL to the stage alone takes Scrapy with it (PDEATHSIG) and the writer closes what it
    received; SIGTERM to the stage stops Scrapy gracefully."""
    with Server(site_route(delay_s=0.05)) as server:
        links = [f"http://h{h}.site.test:{server.port}/p/{p}" for h in range(N_HOSTS) for p in range(N_PAGES)]
        dump = write_submissions(tmp_path / "RS.jsonl", [submission(str(i), u) for i, u in enumerate(links)])
        fetch = quick_fetch(concurrent_requests=8, per_domain_concurrency=2)
        work = tmp_path / "work"
        crawl = {"submissions": [dump], "fetch": fetch, "link_buckets": 2, "warc": {"sync_every_s": 0.2}}
        config = write_config(tmp_path, crawl, work)

        proc = start_cli(config, repo_root)
        deadline = time.monotonic() + 60
        while not committed(work) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, "the crawl finished before it could be interrupted"
        if group:  # the stage, the Scrapy process and the WARC writer, all at once
            import psutil

            tree = [proc.pid] + [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
            assert len(tree) == 3, tree
            for pid in reversed(tree):  # the writer first, so it cannot close its file cleanly
                os.kill(pid, sig)
        else:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        if sig == signal.SIGKILL:
            assert proc.returncode == -signal.SIGKILL
        else:
            assert proc.returncode == 1 and "rerun the same command to resume" in err, err
            assert not glob.glob(str(work / "crawl.partial" / "warc" / "*.open")), "a graceful stop closes its WARC"
        time.sleep(0.3)  # the Scrapy child dies with its parent (PR_SET_PDEATHSIG); let it go
        stored_before = committed(work)
        assert 0 < len(stored_before) < len(links)
        mark = len(server.log)

        proc = start_cli(config, repo_root)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "resuming" in err
        if group:  # the WARC file being written was cut back to its last committed page
            assert "fetch: recover: crawl-00000.warc.gz kept" in err, err
        refetched = {f"http://{host}:{server.port}{path}" for _, host, path in server.log[mark:]} & stored_before
        assert not refetched, f"{len(refetched)} stored pages fetched again"

    folder = work / "crawl"
    report = verify_folder(str(folder))
    assert report["ok"], report["lines"]
    assert report["links"] == len(links) and sum(report["stored"].values()) == len(links)
    assert max(report["stored"].values()) == 1
