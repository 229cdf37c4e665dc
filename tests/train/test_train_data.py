"""The shard loader: tolerant manifest, clear errors, deterministic disjoint windows, resumable cursor."""

import json
import os

import numpy as np
import pytest
from train_helpers import EOT, VOCAB, write_synthetic_shards
from train_helpers import bpe_tokenizer, one_torch_thread, shards, text_shards  # noqa: F401  (fixtures)

from shard.reader import ShardError, write_shard
from train.data import BatchLoader, Layout, TokenWindows, read_shard_folder, tokenizer_info, val_windows


def test_manifest_lists_the_shards_and_vocabulary(shards):
    s = read_shard_folder(shards)
    assert [os.path.basename(p) for p in s.train] == ["train_000000.bin", "train_000001.bin"]
    assert [os.path.basename(p) for p in s.val] == ["val_000000.bin"]
    assert (s.vocab_size, s.eot_id) == (VOCAB, EOT)


@pytest.mark.parametrize("manifest", [
    None,  # no manifest: the folder's train_*.bin / val_*.bin
    {"shards": {"train": ["train_000000", "train_000001"], "val": [{"path": "val_000000.bin"}]}},
    {"train": [{"file": "train_000000.bin"}, {"file": "train_000001.bin"}], "val": ["val_000000.bin"],
     "tokenizer": {"vocab_size": 64, "eot_token": 63}},
    {"shards": [{"filename": "train_000000.bin", "split": "train"}, {"filename": "train_000001.bin"},
                {"filename": "val_000000.bin", "split": "validation"}], "unrelated": {"x": 1}},
])
def test_manifest_layouts_are_read_tolerantly(tmp_path, manifest):
    folder = write_synthetic_shards(str(tmp_path / "s"), manifest=False)
    if manifest is not None:
        with open(os.path.join(folder, "manifest.json"), "w") as f:
            json.dump(manifest, f)
    s = read_shard_folder(folder)
    assert len(s.train) == 2 and len(s.val) == 1


def test_vocabulary_from_tokenizer_json(text_shards, bpe_tokenizer):
    os.remove(os.path.join(text_shards, "manifest.json"))
    s = read_shard_folder(text_shards)
    assert s.vocab_size == 300 and s.eot_id == 0 and s.tokenizer.endswith("tokenizer.json")
    assert tokenizer_info(bpe_tokenizer) == {"vocab_size": 300, "eot_id": 0}


def test_a_listed_shard_that_is_missing_is_named(shards):
    os.remove(os.path.join(shards, "train_000001.bin"))
    with pytest.raises(ShardError, match="train_000001.bin.*not found"):
        read_shard_folder(shards)


def test_corrupt_shards_are_named(shards):
    path = os.path.join(shards, "train_000001.bin")
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 7)
    s = read_shard_folder(shards)
    with pytest.raises(ShardError, match="train_000001.bin.*bytes"):
        TokenWindows(s.train, 32)
    with open(path, "wb") as f:
        f.write(b"\0" * 2048)
    with pytest.raises(ShardError, match="train_000001.bin.*magic"):
        TokenWindows(s.train, 32)


def test_no_training_shards_is_an_error(tmp_path):
    with pytest.raises(ShardError, match="no training shards"):
        read_shard_folder(str(tmp_path))


def test_windows_cover_each_shard_once_per_epoch_in_a_seeded_order(shards):
    s = read_shard_folder(shards)
    w = TokenWindows(s.train, 32, seed=1)
    assert len(w) == sum((len(t) - 1) // 32 for t in w.tokens)
    epoch = [w.locate(k) for k in range(len(w))]
    assert len(set(epoch)) == len(w)  # a permutation of all windows
    again = TokenWindows(s.train, 32, seed=1)
    assert [again.locate(k) for k in range(50)] == epoch[:50]
    other = TokenWindows(s.train, 32, seed=2)
    assert [other.locate(k) for k in range(50)] != epoch[:50]
    assert [w.locate(len(w) + k) for k in range(50)] != epoch[:50]  # the next epoch is reshuffled
    rows = w.gather(0, 4)
    shard, first = epoch[0]
    assert rows.shape == (4, 33) and np.array_equal(rows[0], w.tokens[shard][first:first + 33])


def test_ranks_read_disjoint_windows_and_together_equal_one_process(shards):
    s = read_shard_folder(shards)
    w = TokenWindows(s.train, 32, seed=0)
    seen = {}
    for rank in range(2):
        loader = BatchLoader(w, Layout(micro_batch=4, accum=2, world=2, rank=rank), prefetch=2)
        seen[rank] = [loader.next() for _ in range(4)]  # two steps
        loader.close()
    single = BatchLoader(w, Layout(micro_batch=4, accum=4, world=1), prefetch=2)
    one = [single.next() for _ in range(8)]
    single.close()
    rows = lambda batches: {tuple(r.tolist()) for x, _ in batches for r in x}  # noqa: E731
    assert not rows(seen[0]) & rows(seen[1])
    assert rows(seen[0]) | rows(seen[1]) == rows(one)
    # the same windows per step: step 1 of the two ranks = step 1 of the single process
    assert rows(seen[0][:2] + seen[1][:2]) == rows(one[:4])
    x, y = one[0]
    assert x.dtype == y.dtype and np.array_equal(x[:, 1:].numpy(), y[:, :-1].numpy())


def test_loader_resumes_from_its_cursor(shards):
    w = TokenWindows(read_shard_folder(shards).train, 32, seed=0)
    layout = Layout(micro_batch=4, accum=3)
    full = BatchLoader(w, layout, prefetch=3)
    stream = [full.next()[0] for _ in range(12)]
    full.close()
    first = BatchLoader(w, layout, prefetch=3)
    for _ in range(6):
        first.next()
    cursor = first.cursor
    first.close()
    assert cursor == 2 * 12
    resumed = BatchLoader(w, layout, cursor)
    assert all(np.array_equal(resumed.next()[0], stream[6 + i]) for i in range(6))
    resumed.close()


def test_a_token_outside_the_vocabulary_is_named(tmp_path):
    write_shard(str(tmp_path / "train_000000.bin"), [1, 2, 3] * 40 + [700] + [1] * 40)
    w = TokenWindows(read_shard_folder(str(tmp_path)).train, 16, shuffle=False)
    loader = BatchLoader(w, Layout(micro_batch=8, accum=1), vocab_size=64)
    with pytest.raises(ShardError, match="train_000000.bin: token id 700"):
        loader.next()


def test_too_little_data_for_one_window(tmp_path):
    write_shard(str(tmp_path / "train_000000.bin"), [1, 2, 3])
    w = TokenWindows(read_shard_folder(str(tmp_path)).train, 16)
    with pytest.raises(ShardError, match="no window of context 16"):
        w.locate(0)


def test_validation_windows_are_shared_out_evenly():
    class W:
        def __len__(self):
            return 11
    parts = [val_windows(W(), 100, 3, r) for r in range(3)]
    assert [len(p) for p in parts] == [3, 3, 3] and sorted(sum(parts, [])) == list(range(9))


def test_the_shard_stages_manifest_layout(tmp_path):
    """docs/contracts.md's shard section: "splits" in reading order, plus the same shards in "shards"."""
    folder = write_synthetic_shards(str(tmp_path / "s"), manifest=False)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"format": "webtext-shards", "vocab_size": 64, "eot_id": 63,
                   "tokenizer": {"file": "tokenizer.json", "vocab_size": 64, "eot_token": "<|endoftext|>", "eot_id": 63},
                   "splits": {"train": {"shards": ["train_000001.bin", "train_000000.bin"], "tokens": 1},
                              "val": {"shards": ["val_000000.bin"], "tokens": 1}},
                   "shards": [{"name": "train_000000.bin", "split": "train"}, {"name": "train_000001.bin", "split": "train"},
                              {"name": "val_000000.bin", "split": "val"}]}, f)
    s = read_shard_folder(folder)
    assert [os.path.basename(p) for p in s.train] == ["train_000001.bin", "train_000000.bin"]
    assert len(s.val) == 1 and (s.vocab_size, s.eot_id) == (64, 63)
