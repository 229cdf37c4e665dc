"""Fixtures and helpers for the shard stage's tests: documents cut from the public-domain books in
../shared/data, written as the dedupe stage writes them (docs/*.jsonl.zst + _SUCCESS.json), and GPT-2's
tokenizer files, with tiktoken's `gpt2` encoding loaded offline from them.

Test modules import what they use from here by name. (Not a conftest.py: pytest registers every
conftest.py as the module `conftest`, so a second one would shadow the root conftest for tests that
import from it.)"""

from __future__ import annotations

import glob
import json
import os
import shutil
import zipfile

import pytest

from webtext import jsonl
from webtext.record import new_document


def book_documents(shared_data: str, *, max_docs: int = 400, doc_chars: int = 3000, books=None) -> list[dict]:
    """Documents of about doc_chars characters, cut at paragraph breaks, from the Gutenberg books."""
    docs = []
    for path in sorted(glob.glob(os.path.join(shared_data, "corpus", "gutenberg_nltk", "*.txt")))[:books]:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        name = os.path.basename(path)[:-4]
        paras = [p.strip() for p in text.split("\n\n") if p.strip()]
        buf, n = [], 0
        for p in paras:
            buf.append(p)
            if sum(len(b) for b in buf) >= doc_chars:
                docs.append(new_document(f"https://books.example.org/{name}/{n}", "\n\n".join(buf),
                                         title=f"{name} {n}",
                                         source={"reddit_ids": [f"t3_{name[:6]}{n}"], "subreddits": ["books"], "score": 5}))
                buf, n = [], n + 1
                if len(docs) >= max_docs:
                    return docs
    return docs


def corpus_texts(shared_data: str) -> dict[str, str]:
    """Every document of ../shared/data/corpus: each book, each file inside the NLTK zips, each
    OpenWebText sample, as {name: text}."""
    root = os.path.join(shared_data, "corpus")
    out = {}
    for path in sorted(glob.glob(os.path.join(root, "**", "*.txt"), recursive=True)):
        if os.path.basename(path) == "README":
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            out[os.path.relpath(path, root)] = f.read()
    for path in sorted(glob.glob(os.path.join(root, "nltk", "*.zip"))):
        with zipfile.ZipFile(path) as z:
            for name in sorted(z.namelist()):
                if name.endswith("/") or "README" in name.upper():
                    continue
                out[f"{os.path.basename(path)}:{name}"] = z.read(name).decode("utf-8", "replace")
    return out


def write_dedupe(work_dir: str, docs: list[dict], *, files: int = 3, raw_lines=()) -> str:
    """Write docs (and raw extra lines, appended to the last file) as a finished dedupe stage."""
    import zstandard

    folder = os.path.join(work_dir, "dedupe")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "docs"))
    for i in range(files):
        data = b"".join(jsonl.dumps(d) + b"\n" for d in docs[i::files])
        if i == files - 1:
            data += b"".join(line.rstrip(b"\n") + b"\n" for line in raw_lines)
        with open(os.path.join(folder, "docs", f"docs-{i:05d}-of-{files:05d}.jsonl.zst"), "wb") as f:
            f.write(zstandard.ZstdCompressor(level=1).compress(data))
    with open(os.path.join(folder, "_SUCCESS.json"), "w") as f:
        json.dump({"stage": "dedupe", "fingerprint": "fixture", "run_id": "fixture",
                   "counts": {"in": len(docs), "out": len(docs), "dropped": {}}}, f)
    return folder


def shard_config(work_dir: str, shard: dict, *, mode: str = "in_memory", workers: int = 1, seed: int = 1337):
    from webtext.config import config_from_dict

    data = {"run": {"work_dir": work_dir, "seed": seed},
            "beam": {"runner": "direct", "workers": workers, "direct_running_mode": mode},
            "shard": shard}
    return config_from_dict(data, base_dir=work_dir)


def run_shard(work_dir: str, shard: dict, **kw) -> dict:
    """Run the shard stage through the real runner; returns its _SUCCESS record."""
    from webtext.progress import Progress
    from webtext.runner import Runner

    cfg = shard_config(work_dir, shard, **kw)
    return Runner(cfg, Progress(quiet=True)).run_stage("shard", force=True)


def folder_bytes(folder: str) -> dict[str, bytes]:
    """Every shard, index, manifest and tokenizer file of a shard folder, by name."""
    return {n: open(os.path.join(folder, n), "rb").read() for n in sorted(os.listdir(folder))
            if n.endswith((".bin", ".idx", ".json")) and n != "_SUCCESS.json"}


@pytest.fixture(scope="session")
def gpt2_dir(shared_data):
    return os.path.join(shared_data, "gpt2_bpe", "openai_original")


@pytest.fixture(scope="session")
def gpt2_hf_dir(shared_data):
    return os.path.join(shared_data, "gpt2_bpe", "hf_format_whisper_2022")


@pytest.fixture(scope="session")
def tiktoken_gpt2(shared_data, tmp_path_factory):
    """tiktoken's own `gpt2` encoding, loaded offline from the shared files (see ../shared/data/README.md)."""
    import tiktoken

    cache = tmp_path_factory.mktemp("tiktoken_cache")
    bpe = os.path.join(shared_data, "gpt2_bpe")
    shutil.copy(os.path.join(bpe, "tiktoken_format", "r50k_base.tiktoken"), cache / "0ea1e91bbb3a60f729a8dc8f777fd2fc07cd8df4")
    shutil.copy(os.path.join(bpe, "openai_original", "vocab.bpe"), cache / "6d1cbeee0f20b3d9449abfede4726ed8212e3aee")
    shutil.copy(os.path.join(bpe, "openai_original", "encoder.json"), cache / "6c7ea1a7e38e3a7f062df639a5b80947f075ffe6")
    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    try:
        enc = tiktoken.get_encoding("gpt2")
    finally:
        if old is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = old
    return enc


@pytest.fixture(scope="session")
def books(shared_data):
    """About 400 documents of 3,000 characters from the Gutenberg books."""
    return book_documents(shared_data)


@pytest.fixture(scope="session")
def small_bpe(books):
    """A byte-level BPE of 1,000 entries trained on the book documents (a second)."""
    from shard.tokenizer import for_encoding, train_bpe

    return for_encoding(train_bpe((d["text"] for d in books), vocab_size=1000))
