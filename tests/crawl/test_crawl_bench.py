"""bench/crawl.py --quick runs end to end (a smoke test: the figures themselves are not checked)."""

import os
import subprocess
import sys


def test_bench_quick(repo_root):
    env = dict(os.environ, PYTHONPATH=repo_root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, os.path.join(repo_root, "bench", "crawl.py"), "--quick"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ratio full / bare" in r.stdout and "CPU per page" in r.stdout
