"""Fixtures for the train tests: synthetic and text shard folders, a small byte-level BPE."""

import json
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # train_helpers

from train_helpers import pseudo_text, write_synthetic_shards  # noqa: E402

from shard.reader import write_shard  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread():
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
