"""manifest.json: what the shard folder holds, and `verify`, which checks the folder against it.

The layout is documented in docs/contracts.md (shard section); the trainer reads `splits`,
`vocab_size`, `eot_id` and `tokenizer.file` from it.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from shard.pack import SPLITS, index_name
from shard.reader import MANIFEST, HEADER_BYTES, ShardError, open_shard, read_header, read_index, read_manifest

FORMAT = "webtext-shards"
FORMAT_VERSION = 1


def build(*, shards: list[dict], tokenizer: dict, shard_tokens: int, val_fraction: float, seed: int,
          inputs: dict, documents_in: int) -> dict:
    """The manifest (deterministic: no times, no absolute paths except the input folder)."""
    shards = sorted(shards, key=lambda s: (SPLITS.index(s["split"]), s["index"]))
    splits = {}
    for split in SPLITS:
        mine = [s for s in shards if s["split"] == split]
        splits[split] = {"shards": [s["name"] for s in mine], "tokens": sum(s["tokens"] for s in mine),
                         "documents": sum(s["documents"] for s in mine)}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "shard_format": {"magic": 20240520, "version": 1, "header_bytes": HEADER_BYTES, "dtype": "uint16",
                         "byte_order": "little"},
        "vocab_size": tokenizer["vocab_size"],
        "eot_id": tokenizer["eot_id"],
        "tokenizer": tokenizer,
        "shard_tokens": shard_tokens,
        "val_fraction": val_fraction,
        "seed": seed,
        "documents_in": documents_in,
        "splits": splits,
        "shards": [{k: s[k] for k in ("name", "split", "tokens", "documents", "pieces", "sha256", "idx", "idx_sha256")}
                   for s in shards],
        "input": inputs,
    }


def write(folder: str, manifest: dict) -> str:
    path = os.path.join(folder, MANIFEST)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(8 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_index(name: str, pieces: list[dict], tokens: np.ndarray, eot_id: int) -> list[str]:
    problems = []
    pos = 0
    for n, p in enumerate(pieces, 1):
        if p.get("offset") != pos:
            problems.append(f"{index_name(name)} line {n}: offset {p.get('offset')}, expected {pos}")
            break
        if not isinstance(p.get("tokens"), int) or p["tokens"] < 1:
            problems.append(f"{index_name(name)} line {n}: bad token count {p.get('tokens')!r}")
            break
        if p.get("doc_offset") == 0 and pos < len(tokens) and int(tokens[pos]) != eot_id:
            problems.append(f"{name}: document {p.get('id')} starts at token {pos} with id {int(tokens[pos])}, "
                            f"not the end-of-text token {eot_id}")
            break
        pos += p["tokens"]
    else:
        if pos != len(tokens):
            problems.append(f"{index_name(name)}: pieces cover {pos} tokens, the shard holds {len(tokens)}")
    return problems


def verify(folder: str, *, hashes: bool = True) -> tuple[list[str], dict]:
    """Check every shard against the manifest: header, token count, sha256, index. Returns
    (problems, each naming the file; summary counts). An empty problem list means the folder is sound."""
    problems: list[str] = []
    try:
        manifest = read_manifest(folder)
    except ShardError as e:
        return [str(e)], {}
    tok_file = manifest.get("tokenizer", {}).get("file", "tokenizer.json")
    tok_path = os.path.join(folder, tok_file)
    if not os.path.isfile(tok_path):
        problems.append(f"{tok_path}: tokenizer missing")
    elif hashes and file_sha256(tok_path) != manifest["tokenizer"].get("sha256"):
        problems.append(f"{tok_path}: sha256 differs from the manifest's")
    eot_id = manifest.get("eot_id")
    listed = set()
    totals = {split: {"tokens": 0, "documents": 0} for split in manifest["splits"]}
    checked = 0
    for entry in manifest.get("shards", []):
        name = entry["name"]
        listed.update({name, entry.get("idx", index_name(name))})
        split = totals.setdefault(entry["split"], {"tokens": 0, "documents": 0})
        split["tokens"] += entry["tokens"]
        split["documents"] += entry["documents"]
        path = os.path.join(folder, name)
        try:
            header = read_header(path)
        except ShardError as e:
            problems.append(str(e))
            continue
        if header["tokens"] != entry["tokens"]:
            problems.append(f"{path}: header says {header['tokens']} tokens, the manifest {entry['tokens']}")
            continue
        if hashes and file_sha256(path) != entry["sha256"]:
            problems.append(f"{path}: sha256 differs from the manifest's (the file changed or is damaged)")
            continue
        idx_path = os.path.join(folder, entry.get("idx", index_name(name)))
        if hashes and os.path.isfile(idx_path) and file_sha256(idx_path) != entry.get("idx_sha256"):
            problems.append(f"{idx_path}: sha256 differs from the manifest's")
            continue
        try:
            pieces = read_index(idx_path)
        except ShardError as e:
            problems.append(str(e))
            continue
        shard_problems = _check_index(name, pieces, open_shard(path), eot_id)
        starts = sum(1 for p in pieces if p.get("doc_offset") == 0)
        if not shard_problems and starts != entry["documents"]:
            shard_problems.append(f"{idx_path}: {starts} documents start here, the manifest says {entry['documents']}")
        problems += shard_problems
        checked += 1
    for split, info in manifest["splits"].items():
        got = totals.get(split, {"tokens": 0, "documents": 0})
        if (info.get("tokens"), info.get("documents")) != (got["tokens"], got["documents"]):
            problems.append(f"{os.path.join(folder, MANIFEST)}: split {split} lists {info.get('tokens')} tokens / "
                            f"{info.get('documents')} documents, its shards hold {got['tokens']} / {got['documents']}")
        names = [s["name"] for s in manifest.get("shards", []) if s["split"] == split]
        if info.get("shards") != names:
            problems.append(f"{os.path.join(folder, MANIFEST)}: split {split}'s shard list differs from the shards listed")
    stray = sorted(n for n in os.listdir(folder) if n.endswith((".bin", ".idx")) and n not in listed)
    problems += [f"{os.path.join(folder, n)}: not listed in the manifest" for n in stray]
    return problems, {"shards": checked, "splits": totals}

