"""The three tokenizers, and the proof that tiktoken gives the same ids as `tokenizers` for them."""

import json
import os

import pytest

from shard import tokenizer as T
from shard.tiktoken_bridge import NotConvertible, build_encoding, first_difference, tiktoken_ranks
from webtext.errors import ConfigError, WebtextError

from shard_fixtures import books, corpus_texts, gpt2_dir, gpt2_hf_dir, shard_config, small_bpe, tiktoken_gpt2  # noqa: F401


def test_trained_bpe_follows_gpt2(books, small_bpe):
    data = json.loads(T.to_json(small_bpe))
    assert data["normalizer"] is None
    assert data["pre_tokenizer"] == {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    assert data["model"]["type"] == "BPE"
    assert small_bpe.get_vocab_size() == 1000
    assert small_bpe.token_to_id("<|endoftext|>") == 999  # last, as 50256 is in GPT-2's vocabulary
    assert T.max_token_id(small_bpe) == 999
    assert len(data["model"]["merges"]) == 1000 - 256 - 1
    text = books[7]["text"]
    assert small_bpe.decode(small_bpe.encode(text).ids) == text  # byte-level: lossless
    # a document quoting the separator is not cut by it
    assert 999 not in small_bpe.encode("see <|endoftext|> here").ids


def test_training_is_deterministic(books):
    texts = [d["text"] for d in books[:150]]
    a = T.to_json(T.train_bpe(texts, vocab_size=600))
    b = T.to_json(T.train_bpe(list(reversed(texts)), vocab_size=600))
    assert a == b


def test_saved_tokenizer_loads_in_transformers(tmp_path, books, small_bpe):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    _, sha = T.save(small_bpe, str(tmp_path), "<|endoftext|>")
    assert sha == T.sha256_text(open(tmp_path / "tokenizer.json", encoding="utf-8").read())
    hf = PreTrainedTokenizerFast(tokenizer_file=str(tmp_path / "tokenizer.json"), eos_token="<|endoftext|>")
    text = books[3]["text"]
    assert hf.encode(text) == small_bpe.encode(text).ids
    assert hf.eos_token_id == 999
    auto = AutoTokenizer.from_pretrained(str(tmp_path))
    assert auto.encode(text) == small_bpe.encode(text).ids and auto.eos_token_id == 999


def test_gpt2_files_match_tiktoken_on_the_whole_corpus(shared_data, gpt2_dir, gpt2_hf_dir, tiktoken_gpt2):
    tok = T.for_encoding(T.load_gpt2(gpt2_dir))
    hf_layout = T.load_gpt2(gpt2_hf_dir)
    assert json.loads(T.to_json(hf_layout))["model"] == json.loads(T.to_json(tok))["model"]  # same BPE either layout
    assert tok.get_vocab_size() == 50257 and tok.token_to_id("<|endoftext|>") == 50256
    # the bridge rebuilds tiktoken's own ranks from GPT-2's files
    assert tiktoken_ranks(json.loads(tok.to_str())) == tiktoken_gpt2._mergeable_ranks
    texts = corpus_texts(shared_data)
    assert len(texts) > 2500  # books, Shakespeare, NLTK's zips (UDHR in 380+ languages), OpenWebText
    names = list(texts)
    ours = tok.encode_batch_fast([texts[n] for n in names], add_special_tokens=False)
    theirs = tiktoken_gpt2.encode_ordinary_batch([texts[n] for n in names], num_threads=2)
    differ = [n for n, a, b in zip(names, ours, theirs) if a.ids != b]
    assert differ == []
    assert sum(len(b) for b in theirs) > 5_000_000


def test_bridge_agrees_with_tokenizers_on_every_code_point(small_bpe):
    enc = build_encoding(small_bpe.to_str(), "<|endoftext|>", 999)
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    seps = [" ", "a", "1", "\n", "  ", "'s", ".", "\u00a0", "\r\n", "\t", " '"]
    # every code point once: in pairs (runs of its own class) and next to spaces, letters, digits...
    texts = ["".join(c + (seps[(i // 2) % len(seps)] if i % 2 else "") for i, c in enumerate(chars[k:k + 4000]))
             for k in range(0, len(chars), 4000)]
    assert first_difference(small_bpe, enc, texts) is None


def test_bridge_agrees_on_corpus_and_refuses_what_it_cannot_express(shared_data, small_bpe):
    enc = build_encoding(small_bpe.to_str(), "<|endoftext|>", 999)
    texts = list(corpus_texts(shared_data).values())[::20]
    assert first_difference(small_bpe, enc, texts) is None
    data = json.loads(small_bpe.to_str())
    data["normalizer"] = {"type": "NFC"}
    with pytest.raises(NotConvertible, match="normaliser"):
        tiktoken_ranks(data)
    data = json.loads(small_bpe.to_str())
    data["model"]["merges"] = list(reversed(data["model"]["merges"]))
    with pytest.raises(NotConvertible, match="merge order"):
        tiktoken_ranks(data)


def _wordlevel(size: int, path: str, eot="<|endoftext|>"):
    from tokenizers import Tokenizer, models

    vocab = {f"w{i}": i for i in range(size - 1)}
    vocab[eot] = size - 1
    Tokenizer(models.WordLevel(vocab, unk_token="w0")).save(path)


def test_vocabulary_too_large_for_uint16_is_refused(tmp_path):
    path = str(tmp_path / "big.json")
    _wordlevel(70_000, path)
    with pytest.raises(WebtextError, match=r"uint16, so at most 65,536 entries fit"):
        T.load_file(path)
    with pytest.raises(ConfigError, match=r"vocab_size: 70,000 does not fit in llm.c's uint16 shards"):
        shard_config(str(tmp_path), {"tokenizer": {"vocab_size": 70000}})


def test_tokenizer_file_and_folder_errors(tmp_path):
    path = str(tmp_path / "small.json")
    _wordlevel(100, path, eot="</s>")
    with pytest.raises(WebtextError, match="end-of-text token '<|endoftext|>' is not in the vocabulary"):
        T.load_file(path)
    assert T.load_file(path, "</s>").token_to_id("</s>") == 99
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(WebtextError, match="junk.json: not a tokenizer.json"):
        T.load_file(str(tmp_path / "junk.json"))
    with pytest.raises(WebtextError, match="encoder.json \\+ vocab.bpe"):
        T.load_gpt2(str(tmp_path))
    with pytest.raises(ConfigError, match="gpt2_dir"):
        shard_config(str(tmp_path), {"tokenizer": {"kind": "gpt2"}})
    with pytest.raises(ConfigError, match="folder not found"):
        shard_config(str(tmp_path), {"tokenizer": {"kind": "gpt2", "gpt2_dir": "missing"}})
    with pytest.raises(ConfigError, match="shard_tokens"):
        shard_config(str(tmp_path), {"shard_tokens": 2**31})
    assert os.path.exists(path)
