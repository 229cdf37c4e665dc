"""`webtext crawl verify`: read a finished crawl folder back, independently of how it was written.

Checks that every WARC file reads to the end with warcio, that each page is a response record with a
WebText-Link header naming a link of links/, followed by its request and metadata records
(WARC-Concurrent-To the response), that no link is stored twice or both stored and failed, and that
the numbers equal _SUCCESS.json's counts.
"""

from __future__ import annotations

import json
import os
from collections import Counter

from webtext import jsonl


def iter_pages(warc_path: str):
    """(link record, final URL, response record id, kinds of the records concurrent to it) per page."""
    from warcio.archiveiterator import ArchiveIterator

    current = None
    with open(warc_path, "rb") as f:
        for rec in ArchiveIterator(f):
            kind = rec.rec_type
            if kind == "response":
                if current:
                    yield current
                link = json.loads(rec.rec_headers.get_header("WebText-Link"))
                rec.content_stream().read()
                current = (link, rec.rec_headers.get_header("WARC-Target-URI"),
                           rec.rec_headers.get_header("WARC-Record-ID"), [])
            elif current and rec.rec_headers.get_header("WARC-Concurrent-To") == current[2]:
                current[3].append(kind)
    if current:
        yield current


def verify_folder(folder: str) -> dict:
    lines, problems = [], []
    success_path = os.path.join(folder, "_SUCCESS.json")
    success = jsonl.read_json(success_path) if os.path.exists(success_path) else None
    links = {}
    for link in jsonl.read_dir(os.path.join(folder, "links")):
        links[link["id"]] = link["url"]
    stored = Counter()
    warcs = jsonl.list_files(os.path.join(folder, "warc"), ".warc.gz")
    for path in warcs:
        try:
            for link, url, _, others in iter_pages(path):
                stored[link["id"]] += 1
                if link["id"] not in links:
                    problems.append(f"{os.path.basename(path)}: {url} names link {link['id']}, not in links/")
                if sorted(others) != ["metadata", "request"]:
                    problems.append(f"{os.path.basename(path)}: {url} has records {others} beside its response")
        except Exception as e:  # noqa: BLE001 - any read error is a finding
            problems.append(f"{path}: unreadable: {type(e).__name__}: {e}")
    twice = [i for i, c in stored.items() if c > 1]
    if twice:
        problems.append(f"{len(twice)} links stored more than once, e.g. {twice[:3]}")
    failed = Counter()
    failed_ids = set()
    for rec in jsonl.read_dir(os.path.join(folder, "failures")):
        failed[rec["reason"].split(":")[0]] += 1
        if rec["id"] in failed_ids:
            problems.append(f"{rec['id']} failed twice")
        failed_ids.add(rec["id"])
    both = failed_ids & set(stored)
    if both:
        problems.append(f"{len(both)} links both stored and failed, e.g. {sorted(both)[:3]}")
    unaccounted = set(links) - failed_ids - set(stored)
    if unaccounted:
        problems.append(f"{len(unaccounted)} links neither stored nor failed")
    lines.append(f"{len(warcs)} WARC files, {sum(stored.values())} pages for {len(stored)} links; "
                 f"{len(links)} links; {sum(failed.values())} failures {dict(failed)}")
    if success:
        c = success["counts"]
        if c["in"] != len(links) or c["out"] != len(stored) or c["dropped"] != dict(sorted(failed.items())):
            problems.append(f"_SUCCESS.json counts {c} differ from the files")
    else:
        problems.append("no _SUCCESS.json: not a finished crawl")
    lines += [f"problem: {p}" for p in problems] or ["ok"]
    return {"ok": not problems, "lines": lines, "stored": stored, "failed": failed, "links": len(links)}
