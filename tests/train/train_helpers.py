"""Helpers for the train tests: synthetic shards (shard.write_shard), tiny configs, pseudo-English text."""

import json
import os
import random

import numpy as np

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
