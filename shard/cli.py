"""`webtext shard verify [CONFIG]` and `webtext shard show <shard> <offset>`.

Module level imports only the standard library and webtext (the CLI loads every stage's cli.py).
"""

from __future__ import annotations

import argparse
import os

from webtext.cli import Command
from webtext.errors import WebtextError


# -- verify ---------------------------------------------------------------------------------------

def _verify_args(p: argparse.ArgumentParser) -> None:
    from webtext.cli import _config_arg

    _config_arg(p)
    p.add_argument("--dir", help="verify this shard folder instead of the config's <work_dir>/shard")
    p.add_argument("--no-hashes", action="store_true", help="skip the sha256 checks (headers, counts and indexes only)")


def _verify(args) -> int:
    from shard.manifest import verify

    if args.dir:
        folder = args.dir
    else:
        from webtext.cli import load

        folder = os.path.join(load(args).run.work_dir, "shard")
    if not os.path.isdir(folder):
        raise WebtextError(f"{folder}: no shard folder (has the shard stage run?)")
    problems, summary = verify(folder, hashes=not args.no_hashes)
    if problems:
        print(f"{folder}: {len(problems)} problem(s):")
        for p in problems:
            print(f"  FAIL {p}")
        return 1
    splits = ", ".join(f"{s} {v['tokens']:,} tokens / {v['documents']:,} documents"
                       for s, v in summary["splits"].items())
    print(f"{folder}: OK: {summary['shards']} shards ({splits}); headers, counts, indexes"
          f"{'' if args.no_hashes else ' and sha256'} match manifest.json")
    return 0


# -- show -----------------------------------------------------------------------------------------

def _show_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("shard", help="a shard file (e.g. work/shard/train_000000.bin)")
    p.add_argument("offset", type=int, help="token position in the shard (0-based)")
    p.add_argument("--context", type=int, default=300,
                   help="characters of the document to print around the token (0: the whole document)")


def _read_span(folder: str, entries: list[dict], start: int, count: int):
    """Tokens [start, start + count) of a split, whose shards (in order) are `entries`."""
    import numpy as np

    from shard.reader import open_shard

    out, pos = [], 0
    for entry in entries:
        lo, hi = pos, pos + entry["tokens"]
        a, b = max(lo, start), min(hi, start + count)
        if a < b:
            out.append(np.asarray(open_shard(os.path.join(folder, entry["name"]))[a - lo:b - lo]))
        pos = hi
    return np.concatenate(out) if out else np.zeros(0, dtype=np.uint16)


def _show(args) -> int:
    import bisect
    import json

    from shard.reader import ShardError, open_shard, read_index, read_manifest

    path = args.shard
    folder = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    try:
        tokens = open_shard(path)
        pieces = read_index(path)
        manifest = read_manifest(folder)
    except ShardError as e:
        raise WebtextError(str(e)) from None
    if not 0 <= args.offset < len(tokens):
        raise WebtextError(f"{path}: offset {args.offset} is outside the shard (0..{len(tokens) - 1})")
    starts = [p["offset"] for p in pieces]
    piece = pieces[bisect.bisect_right(starts, args.offset) - 1]
    from shard.tokenizer import from_json

    with open(os.path.join(folder, manifest["tokenizer"]["file"]), encoding="utf-8") as f:
        tok = from_json(f.read())
    token_id = int(tokens[args.offset])
    position = piece["doc_offset"] + args.offset - piece["offset"]  # in the document, <|endoftext|> = 0
    entry = next((e for e in manifest["shards"] if e["name"] == name), None)
    if entry is None:
        raise WebtextError(f"{path}: not listed in {os.path.join(folder, 'manifest.json')}")
    split = [e for e in manifest["shards"] if e["split"] == entry["split"]]
    shard_start = sum(e["tokens"] for e in split[:split.index(entry)])
    doc_start = shard_start + piece["offset"] - piece["doc_offset"]
    doc = _read_span(folder, split, doc_start, piece["doc_tokens"])
    before = tok.decode(doc[:position].tolist(), skip_special_tokens=False)
    this = tok.decode([token_id], skip_special_tokens=False)
    after = tok.decode(doc[position + 1:].tolist(), skip_special_tokens=False)
    print(f"shard     {path}")
    print(f"offset    {args.offset}: token {token_id} {json.dumps(this, ensure_ascii=False)}")
    print(f"document  {piece['id']} (token {position} of {piece['doc_tokens']}, <|endoftext|> first)")
    print(f"url       {piece['url']}")
    print(f"source    {manifest['input'].get('dir', '?')}/{piece['file']} line {piece['line']}")
    record = _upstream_record(folder, manifest, piece)
    if record:
        src = record.get("source") or {}
        print(f"title     {record.get('title')}")
        print(f"reddit    {', '.join(src.get('reddit_ids') or []) or '-'}  subreddits "
              f"{', '.join(src.get('subreddits') or []) or '-'}  score {src.get('score')}")
    if len(doc) < piece["doc_tokens"]:
        print(f"(only {len(doc)} of the document's {piece['doc_tokens']} tokens were found in the shards)")
    if args.context:
        before, after = before[-args.context:], after[:args.context]
    print("-" * 80)
    print(f"{before}[[{this}]]{after}")
    return 0


def _upstream_record(folder: str, manifest: dict, piece: dict):
    """The document's record in the upstream folder, if that file is still there and unchanged."""
    from webtext import jsonl
    from webtext.errors import InputError

    path = os.path.normpath(os.path.join(folder, manifest.get("input", {}).get("dir", ""), piece.get("file") or ""))
    if not os.path.isfile(path):
        return None
    try:
        for lineno, raw in jsonl.iter_lines(path):
            if lineno == piece["line"]:
                import json

                record = json.loads(raw.decode("utf-8", "replace"))
                return record if isinstance(record, dict) and record.get("id") == piece["id"] else None
    except (InputError, ValueError):
        return None
    return None


ACTIONS = {
    "verify": Command(
        help="check every shard's header, token count, sha256 and index against manifest.json",
        description="Check the shard folder (<work_dir>/shard of CONFIG, or --dir) against its manifest.json: "
                    "llm.c headers, token and document counts, sha256 of shards, indexes and tokenizer. "
                    "Names every file that fails; exit code 1 if any does.",
        add_arguments=_verify_args, run=_verify),
    "show": Command(
        help="print the document, URL and Reddit source that a token of a shard came from",
        description="Print the document a token came from: its id, URL, upstream file and line, Reddit "
                    "submission, and the text around the token (marked [[...]]), decoded from the shards.",
        add_arguments=_show_args, run=_show),
}
