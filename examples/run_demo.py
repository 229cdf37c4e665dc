"""Run the bundled offline demo: generate the mini-web, serve it on 127.0.0.1, run the whole pipeline.

    python examples/run_demo.py [--port 8642] [--config examples/demo.yaml] [--force]

1. generates the mini-web into work/miniweb/ (files whose bytes are unchanged are left alone, so a rerun
   keeps the crawl stage's fingerprint and skips finished stages);
2. serves it on 127.0.0.1:PORT (every *.miniweb.test host), and runs `webtext run examples/demo.yaml` in a
   child process (Scrapy and Beam get a process of their own; the server keeps running in this one);
3. stops the server, checks that none of the links the recipe filters out was fetched, and prints where
   the report is.

`make demo` runs this after installing the package.
"""

from __future__ import annotations

import argparse
import collections
import os
import socket
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for p in (os.path.join(REPO, "examples"), REPO):
    if p not in sys.path:
        sys.path.insert(0, p)

from miniweb.generate import DEFAULT_PORT, build_miniweb  # noqa: E402
from miniweb.serve import PortInUse, serve  # noqa: E402

MINIWEB_DIR = os.path.join(REPO, "work", "miniweb")  # examples/demo.yaml reads ../work/miniweb/submissions.jsonl.xz
DEFAULT_CONFIG = os.path.join(REPO, "examples", "demo.yaml")


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:port can be listened on (checked before anything is written)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def fetched_never_fetch(requests: list[dict], manifest: dict, port: int) -> dict[str, list[str]]:
    """Links the recipe filters out (low karma, self posts, blocked hosts, NSFW, robots.txt) that were
    nevertheless requested from the server, by reason. (Self posts and blocked hosts are not on the
    mini-web at all, so only the others can show up here.)"""
    from webtext.urls import normalize_url

    seen = {normalize_url(f"http://{r['host']}:{port}{r['path']}") for r in requests}
    return {reason: [u for u in urls if u in seen] for reason, urls in manifest["never_fetch"].items()}


def report_path(config: str) -> str:
    try:
        from webtext.config import load_config

        return os.path.join(load_config(config).run.work_dir, "report", "index.html")
    except Exception:  # noqa: BLE001 - only for the closing message; the run has reported any config error
        return "(see the report stage's folder under the config's run.work_dir)"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Run the webtext demo end to end on a generated offline mini-web.")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port for the mini-web server on 127.0.0.1 (default {DEFAULT_PORT})")
    p.add_argument("--config", default=DEFAULT_CONFIG, help="pipeline config (default: examples/demo.yaml)")
    p.add_argument("--force", action="store_true", help="rerun every stage, even finished ones")
    args = p.parse_args(argv)

    if not 0 < args.port < 65536:
        print(f"error: --port must be between 1 and 65535, got {args.port}", file=sys.stderr)
        return 2
    if not port_is_free(args.port):
        print(f"error: port {args.port} on 127.0.0.1 is already in use (is another demo still running?); "
              f"choose another with --port", file=sys.stderr)
        return 1

    summary = build_miniweb(MINIWEB_DIR, port=args.port)
    n = summary["written"]
    state = "unchanged" if summary["unchanged"] else f"{n} file{'' if n == 1 else 's'} written"
    print(f"mini-web: {summary['pages']} pages on {summary['hosts']} hosts, {summary['submissions']} submissions "
          f"-> {os.path.relpath(MINIWEB_DIR, os.getcwd())} ({state})", flush=True)

    import json

    with open(summary["manifest_path"], encoding="utf-8") as f:
        manifest = json.load(f)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "webtext", "run", args.config] + (["--force"] if args.force else [])
    try:
        with serve(MINIWEB_DIR, port=args.port) as server:
            print(f"serving *.miniweb.test on 127.0.0.1:{server.port}; running: webtext run "
                  f"{os.path.relpath(args.config, os.getcwd())}", flush=True)
            try:
                rc = subprocess.call(cmd, cwd=REPO, env=env)
            except KeyboardInterrupt:
                print("\ninterrupted; a rerun resumes where this one stopped", file=sys.stderr)
                return 130
            requests = list(server.requests)
    except PortInUse as e:  # taken between the check and the server start
        print(f"error: {e.strerror}", file=sys.stderr)
        return 1

    statuses = collections.Counter(r["status"] for r in requests)
    if requests:
        print(f"the mini-web served {len(requests)} requests ("
              + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())) + ")")
        fetched = fetched_never_fetch(requests, manifest, args.port)
        nsfw = fetched.pop("nsfw")  # dropped or kept, as the crawl config says
        leaked = {k: v for k, v in fetched.items() if v}
        if leaked:
            print("warning: links the recipe should have filtered out were fetched: "
                  + "; ".join(f"{k}: {len(v)} (e.g. {v[0]})" for k, v in leaked.items()), file=sys.stderr)
        if nsfw:
            print(f"NSFW links fetched: {len(nsfw)} of {len(manifest['never_fetch']['nsfw'])}")
    elif rc == 0:
        print("the mini-web served no requests (the crawl stage was already done)")
    if rc != 0:
        print(f"the demo failed: webtext run exited with code {rc}", file=sys.stderr)
        return rc
    print(f"report: {report_path(args.config)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
