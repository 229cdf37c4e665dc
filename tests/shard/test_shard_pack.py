"""Packing without Beam: parts in key order, shard plans, shards + indexes, the training sample."""

import os

import numpy as np

from shard.docs import sample_key
from shard.pack import plan_shards, write_part, write_shard
from shard.reader import open_shard, read_index
from shard.sample import Sample, threshold

from shard_fixtures import books, write_dedupe  # noqa: F401


def _doc(key, n, eot=9):
    tokens = np.full(n, key % 7, dtype="<u2")
    tokens[0] = eot
    return (key, f"id{key}", f"https://x/{key}", "docs/a.jsonl.zst", key, tokens.tobytes())


def test_documents_run_across_shard_ends(tmp_path):
    parts_dir = str(tmp_path / "parts")
    # two buckets of the train split, given out of order; a 25-token document spans three shards
    p1 = write_part(parts_dir, "train", 1, [_doc(300, 25), _doc(200, 4)])
    p0 = write_part(parts_dir, "train", 0, [_doc(5, 3), _doc(1, 6)])
    pv = write_part(parts_dir, "val", 0, [_doc(7, 2)])
    assert p1["tokens"] == 29 and p0["docs"] == 2
    tasks = plan_shards([p1, pv, p0], shard_tokens=10)
    assert [(t["name"], t["tokens"]) for t in tasks] == [
        ("train_000000.bin", 10), ("train_000001.bin", 10), ("train_000002.bin", 10), ("train_000003.bin", 8),
        ("val_000000.bin", 2)]
    infos = [write_shard(str(tmp_path), t) for t in tasks]
    train = np.concatenate([open_shard(str(tmp_path / f"train_00000{i}.bin")) for i in range(4)])
    # key order: 1 (6 tokens), 5 (3), 200 (4), 300 (25)
    expected = np.concatenate([np.frombuffer(_doc(k, n)[5], "<u2") for k, n in [(1, 6), (5, 3), (200, 4), (300, 25)]])
    assert np.array_equal(train, expected)
    idx = [read_index(str(tmp_path / f"train_00000{i}.idx")) for i in range(4)]
    assert [(p["id"], p["offset"], p["tokens"], p["doc_offset"]) for p in idx[0]] == [
        ("id1", 0, 6, 0), ("id5", 6, 3, 0), ("id200", 9, 1, 0)]
    assert [(p["id"], p["offset"], p["tokens"], p["doc_offset"]) for p in idx[1]] == [
        ("id200", 0, 3, 1), ("id300", 3, 7, 0)]
    assert [(p["id"], p["offset"], p["tokens"], p["doc_offset"]) for p in idx[2]] == [("id300", 0, 10, 7)]
    assert [(p["id"], p["offset"], p["tokens"], p["doc_offset"], p["doc_tokens"]) for p in idx[3]] == [
        ("id300", 0, 8, 17, 25)]
    assert [i["documents"] for i in infos] == [3, 1, 0, 0, 1]
    assert idx[0][0]["url"] == "https://x/1" and idx[0][0]["line"] == 1


def test_empty_split_has_no_shards(tmp_path):
    part = write_part(str(tmp_path), "train", 0, [_doc(1, 5)])
    assert [t["name"] for t in plan_shards([part], 100)] == ["train_000000.bin"]
    assert plan_shards([], 100) == []


def test_training_sample_is_the_smallest_keys_whatever_the_files(tmp_path, books):
    docs = books[:120]
    a = str(tmp_path / "a")
    b = str(tmp_path / "b")
    write_dedupe(a, docs, files=2)
    write_dedupe(b, list(reversed(docs)), files=5)
    files_a = sorted(os.path.join(a, "dedupe", "docs", n) for n in os.listdir(os.path.join(a, "dedupe", "docs")))
    files_b = sorted(os.path.join(b, "dedupe", "docs", n) for n in os.listdir(os.path.join(b, "dedupe", "docs")))
    want = sorted(sample_key(7, d["id"]) for d in docs)[:30]
    assert threshold(files_a, 7, 30) == threshold(files_b, 7, 30) == want[-1]
    assert threshold(files_a, 7, 0) is None and threshold(files_a, 7, 500) is None
    sample_a = Sample(files_a, os.path.join(a, "dedupe"), 7, 30)
    sample_b = Sample(files_b, os.path.join(b, "dedupe"), 7, 30)
    texts = sorted(sample_a)
    assert len(texts) == 30 and texts == sorted(sample_b)
    assert texts == sorted(d["text"] for d in docs if sample_key(7, d["id"]) <= want[-1])
    assert sample_a.describe()["documents"] == 30
    assert sorted(Sample(files_a, os.path.join(a, "dedupe"), 8, 30)) != texts  # another seed, another sample
