"""Merging the N parts of a split crawl (`webtext crawl --part I/N`) into one crawl folder.

Each part's folder holds only files named after its part (links-partIIIofNNN-*, partIIIofNNN-*.warc.gz,
failures-partIIIofNNN-*), so the merged folder is the union of the parts' files, side by side, and
its counts and statistics are the parts' sums. The merged folder gets the _SUCCESS.json an unsplit
crawl with the same config would have, so `webtext run` goes on with clean as if one process had
crawled everything.

Checked first: every part 1..N is present once and finished, all with the same crawl config (the
one being merged into) and the same submission counts (every part reads every submission).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid

from webtext import jsonl
from webtext.errors import WebtextError
from webtext.runner import SUCCESS, _swap_into_place, fingerprint, read_success, work_lock
from webtext.schema import to_dict
from webtext.stats import merge, top_k

SUBFOLDERS = ("links", "warc", "failures")
TOPS = {"link_domains": 1000, "domains": 1000, "subreddits": 200}


def _read_part(folder: str) -> dict:
    success = read_success(os.path.dirname(os.path.abspath(folder)), os.path.basename(os.path.abspath(folder)))
    if success is None:
        raise WebtextError(f"{folder}: not a finished crawl (no _SUCCESS.json)")
    if success.get("stage") != "crawl":
        raise WebtextError(f"{folder}: holds the '{success.get('stage')}' stage, not a crawl")
    part = (success.get("options") or {}).get("part")
    if not part:
        raise WebtextError(f"{folder}: an unsplit crawl, not a part (it was not run with --part)")
    i, n = (int(x) for x in part.split("/"))
    return {"folder": folder, "success": success, "index": i, "count": n}


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def merge_parts(cfg, folders: list[str], log=print) -> dict:
    """Merge finished part folders into <work_dir>/crawl. Returns the merged _SUCCESS record."""
    parts = [_read_part(f) for f in folders]
    counts_n = {p["count"] for p in parts}
    if len(counts_n) != 1:
        raise WebtextError(f"the folders are parts of different splits: N = {sorted(counts_n)}")
    n = counts_n.pop()
    indexes = sorted(p["index"] for p in parts)
    missing = sorted(set(range(1, n + 1)) - set(indexes))
    dupes = sorted({i for i in indexes if indexes.count(i) > 1})
    if missing or dupes:
        raise WebtextError(f"need each of parts 1..{n} exactly once; missing {missing or 'none'}, repeated {dupes or 'none'}")
    want = to_dict(cfg.crawl)
    for p in parts:
        if p["success"].get("config") != want:
            raise WebtextError(f"{p['folder']}: crawled with a different crawl config than the one being merged into")
    subs = [p["success"]["stats"].get("submissions") for p in parts]
    if any(s != subs[0] for s in subs):
        raise WebtextError("the parts read different submissions (their submission counts differ)")
    parts.sort(key=lambda p: p["index"])

    work_dir = cfg.run.work_dir
    final = os.path.join(work_dir, "crawl")
    with work_lock(work_dir):
        partial = final + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        for sub in SUBFOLDERS:
            os.makedirs(os.path.join(partial, sub), exist_ok=True)
        for p in parts:
            for sub in SUBFOLDERS:
                src_dir = os.path.join(p["folder"], sub)
                for name in sorted(os.listdir(src_dir)) if os.path.isdir(src_dir) else []:
                    dst = os.path.join(partial, sub, name)
                    if os.path.exists(dst):
                        raise WebtextError(f"two parts both hold {sub}/{name}")
                    _link_or_copy(os.path.join(src_dir, name), dst)
            logs = os.path.join(p["folder"], "logs")
            if os.path.isdir(logs):
                shutil.copytree(logs, os.path.join(partial, "logs", f"part{p['index']:03d}of{n:03d}"))
        bad = os.path.join(parts[0]["folder"], "bad_lines.jsonl.zst")
        if os.path.exists(bad):
            _link_or_copy(bad, os.path.join(partial, "bad_lines.jsonl.zst"))

        counts = merge(*[p["success"]["counts"] for p in parts])
        stats = merge(*[{k: v for k, v in p["success"]["stats"].items() if k not in ("submissions", "part")}
                        for p in parts])
        for key, k in TOPS.items():
            if key in stats:
                stats[key] = dict(top_k(stats[key], k))
        stats["submissions"] = subs[0]
        stats["part"] = f"merged {n}"
        record = {
            "stage": "crawl",
            "fingerprint": fingerprint(cfg, "crawl", {}, {}),
            "run_id": uuid.uuid4().hex[:12],
            "started_at": min(p["success"].get("started_at", "") for p in parts),
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            "seconds": round(sum(p["success"].get("seconds", 0) for p in parts), 3),
            "counts": counts,
            "stats": stats,
            "config": want,
            "upstream": {},
            "options": {},
            "merged_from": [{"folder": os.path.abspath(p["folder"]), "part": f"{p['index']}/{n}",
                             "run_id": p["success"].get("run_id")} for p in parts],
        }
        jsonl.write_json(os.path.join(partial, SUCCESS), record)
        _swap_into_place(partial, final)
    log(f"merged {n} parts into {final}: {counts['in']:,} links, {counts['out']:,} pages stored")
    return record
