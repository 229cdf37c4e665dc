"""Read and write token shards in llm.c's format (numpy only, so train/ and users need nothing else).

A shard is a 1024-byte header of 256 little-endian int32 (magic 20240520, version 1, token count,
then zeros) followed by the tokens as little-endian uint16. Each document starts with <|endoftext|>.
nanoGPT and llm.c users read it with:

    header = np.fromfile(path, dtype="<i4", count=256)
    tokens = np.memmap(path, dtype="<u2", mode="r", offset=1024, shape=(header[2],))
"""

from __future__ import annotations

import os

import numpy as np

from webtext.errors import InputError  # standard library only: shard.reader stays numpy-only

MAGIC = 20240520
VERSION = 1
HEADER_INTS = 256
HEADER_BYTES = HEADER_INTS * 4
TOKEN_DTYPE = np.dtype("<u2")


class ShardError(InputError, ValueError):
    """A shard file is missing, truncated or not in llm.c's format; the message names the file."""


def make_header(num_tokens: int) -> bytes:
    header = np.zeros(HEADER_INTS, dtype="<i4")
    header[0], header[1], header[2] = MAGIC, VERSION, num_tokens
    return header.tobytes()


def read_header(path: str) -> dict:
    """The header of a shard as {"magic", "version", "tokens"}; raises ShardError naming the file."""
    try:
        size = os.path.getsize(path)
    except OSError:
        raise ShardError(f"{path}: shard not found") from None
    if size < HEADER_BYTES:
        raise ShardError(f"{path}: {size} bytes, shorter than the {HEADER_BYTES}-byte header")
    header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    if int(header[0]) != MAGIC:
        raise ShardError(f"{path}: bad magic {int(header[0])} (expected {MAGIC}): not an llm.c token shard")
    if int(header[1]) != VERSION:
        raise ShardError(f"{path}: unsupported shard version {int(header[1])} (expected {VERSION})")
    tokens = int(header[2])
    expected = HEADER_BYTES + tokens * TOKEN_DTYPE.itemsize
    if size != expected:
        raise ShardError(f"{path}: header says {tokens} tokens ({expected} bytes) but the file has {size} bytes")
    return {"magic": MAGIC, "version": VERSION, "tokens": tokens}


def open_shard(path: str) -> np.memmap:
    """The tokens of a shard as a read-only uint16 memmap (validated against its header)."""
    tokens = read_header(path)["tokens"]
    if tokens == 0:
        return np.zeros(0, dtype=TOKEN_DTYPE)
    return np.memmap(path, dtype=TOKEN_DTYPE, mode="r", offset=HEADER_BYTES, shape=(tokens,))


def write_shard(path: str, tokens) -> None:
    """Write tokens (any integer array-like < 65536) as a shard, atomically."""
    arr = np.asarray(tokens)
    if arr.size and (arr.min() < 0 or arr.max() > np.iinfo(TOKEN_DTYPE).max):
        raise ShardError(f"{path}: token ids must fit in uint16 (0..65535), got {arr.min()}..{arr.max()}")
    arr = arr.astype(TOKEN_DTYPE, copy=False)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(make_header(int(arr.size)))
        f.write(arr.tobytes())
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# The shard folder: manifest.json lists the shards of each split, the tokenizer and the counts.

MANIFEST = "manifest.json"


def read_manifest(folder: str) -> dict:
    """The folder's manifest.json (see docs/contracts.md, shard section); ShardError if missing or bad."""
    import json

    path = os.path.join(folder, MANIFEST)
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except FileNotFoundError:
        raise ShardError(f"{path}: no manifest (is {folder} the shard stage's output folder?)") from None
    except ValueError as e:
        raise ShardError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(manifest, dict) or "splits" not in manifest:
        raise ShardError(f"{path}: not a webtext shard manifest (no 'splits')")
    return manifest


def split_shards(folder: str, split: str) -> list[str]:
    """Paths of a split's shards ("train" or "val"), in order."""
    manifest = read_manifest(folder)
    if split not in manifest["splits"]:
        raise ShardError(f"{os.path.join(folder, MANIFEST)}: no split '{split}' (splits: {', '.join(manifest['splits'])})")
    return [os.path.join(folder, name) for name in manifest["splits"][split]["shards"]]


def read_index(path: str) -> list[dict]:
    """A shard's index (`<shard>.idx`, or the .bin path beside it): one dict per document piece,
    {"offset", "tokens", "doc_offset", "doc_tokens", "id", "url", "file", "line"}, in token order."""
    import json

    if path.endswith(".bin"):
        path = path[:-4] + ".idx"
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        raise ShardError(f"{path}: index not found") from None
    except ValueError as e:
        raise ShardError(f"{path}: not a shard index ({e})") from None
