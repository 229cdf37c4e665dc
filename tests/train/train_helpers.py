"""Helpers and fixtures for the train tests: synthetic shards (shard.write_shard), a small byte-level BPE,
text shards, tiny configs, pseudo-English text.

Test modules import the fixtures they use by name (not a conftest.py: pytest imports every conftest.py
as the module `conftest`, and a second one would shadow tests/conftest.py for `from conftest import`)."""

import json
import os
import random
import shutil

import numpy as np
import pytest

from shard.reader import write_shard
from train.config import Config

VOCAB = 64  # synthetic shards: ids 1..60 are "words", 63 is <|endoftext|>
EOT = 63


def synthetic_docs(rng, n_docs):
    """Documents a tiny model learns quickly: arithmetic progressions mod 60 with a random start and step."""
    docs = []
    for _ in range(n_docs):
        start, stride, length = rng.integers(0, 60), rng.integers(1, 5), rng.integers(20, 200)
        docs.append([EOT] + [int((start + stride * i) % 60) + 1 for i in range(length)])
    return docs


def write_synthetic_shards(folder, *, seed=0, train_docs=(300, 200), val_docs=40, manifest=True):
    """train_000000.bin, train_000001.bin, val_000000.bin (+ manifest.json) in `folder`."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = [(f"train_{i:06d}.bin", "train", sum(synthetic_docs(rng, n), [])) for i, n in enumerate(train_docs)]
    if val_docs:
        names.append(("val_000000.bin", "val", sum(synthetic_docs(rng, val_docs), [])))
    for name, _, tokens in names:
        write_shard(os.path.join(folder, name), tokens)
    if manifest:
        with open(os.path.join(folder, "manifest.json"), "w") as f:
            json.dump({"vocab_size": VOCAB, "eot_id": EOT,
                       "shards": [{"name": n, "split": s, "tokens": len(t)} for n, s, t in names]}, f)
    return folder


def tiny_config(**overrides) -> Config:
    base = dict(model="gpt2-tiny", context=32, vocab_size=VOCAB, micro_batch=8, batch_tokens=8 * 32 * 2,
                max_steps=12, warmup_steps=3, lr=3e-3, eval_every=4, eval_batches=2, checkpoint_every=100,
                sample_tokens=0, export_hf=False, tensorboard=False, device="cpu", cpu_threads=1)
    base.update(overrides)
    return Config(**base)


def read_log(folder):
    with open(os.path.join(folder, "log.jsonl")) as f:
        return [json.loads(line) for line in f]


def strip_timing(lines):
    return [{k: v for k, v in line.items() if k not in ("time", "tokens_per_s", "mfu")} for line in lines]


WORDS = ("the of and to in is was for on that with as by at from his her it an were are which this be "
         "river city king queen ship stone light water garden letter house road tower music winter").split()


def pseudo_text(n_words, seed=0):
    """English-looking text (for training a tokenizer, and a model that can learn to write it)."""
    r = random.Random(seed)
    out = []
    for i in range(n_words):
        w = r.choice(WORDS)
        out.append(w.capitalize() if i == 0 or out[-1].endswith(".") else w)
        if r.random() < 0.08:
            out[-1] += "."
    return " ".join(out)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models on a shared machine run several times faster on one thread (see train.cpu_threads);
    the setting is process-wide, so the other tests get theirs back."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def shards(tmp_path):
    return write_synthetic_shards(str(tmp_path / "shard"))


@pytest.fixture(scope="session")
def bpe_tokenizer(tmp_path_factory):
    """A byte-level BPE of 300 tokens with <|endoftext|>, as the shard stage would train one."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([pseudo_text(20000, seed=1)], trainer)
    path = str(tmp_path_factory.mktemp("tok") / "tokenizer.json")
    tok.save(path)
    return path


@pytest.fixture
def text_shards(tmp_path, bpe_tokenizer):
    """A shard folder as the shard stage writes it: tokenizer.json, manifest.json, train/val shards of text."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(bpe_tokenizer)
    eot = tok.token_to_id("<|endoftext|>")
    folder = tmp_path / "shard"
    folder.mkdir()
    shutil.copyfile(bpe_tokenizer, folder / "tokenizer.json")
    for name, seed, docs in (("train_000000.bin", 2, 60), ("val_000000.bin", 3, 10)):
        tokens = []
        for d in range(docs):
            tokens += [eot] + tok.encode(pseudo_text(150, seed=seed * 1000 + d)).ids
        write_shard(str(folder / name), tokens)
    with open(folder / "manifest.json", "w") as f:
        json.dump({"tokenizer": {"vocab_size": tok.get_vocab_size(), "eot_id": eot}}, f)
    return str(folder)
