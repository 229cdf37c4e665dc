"""Encoding documents: repairs, pre-token-safe chunking, both engines giving identical arrays."""

import numpy as np
import pytest

from shard import tokenizer as T
from shard.docs import decode_line, prepare, split_of
from shard.encode import DocEncoder, EncoderMismatch, repair_text, split_for_encoding

from shard_fixtures import books, corpus_texts, small_bpe  # noqa: F401


def test_repair_text():
    assert repair_text("plain") == ("plain", False)
    text, repaired = repair_text("a\ud800b\udc00c\U0001f600")
    assert repaired and text == "a\ufffdb\ufffdc\U0001f600"
    text.encode("utf-8")


def test_decode_and_prepare_bad_records():
    record, repaired = decode_line(b'{"id":"x1","url":"u","text":"caf\xe9 ok"}')
    assert repaired and record["text"] == "caf\ufffd ok"
    with pytest.raises(ValueError):
        decode_line(b'{"id": ')
    doc, reject = prepare({"id": "x", "text": " \n\t "}, file="f", line=3, seed=1, val_fraction=0.5)
    assert doc is None and reject["reason"] == "empty" and reject["reject"] == {"file": "f", "line": 3}
    doc, reject = prepare({"id": 5, "text": "t"}, file="f", line=4, seed=1, val_fraction=0.5)
    assert doc is None and reject["reason"] == "bad_record"
    doc, reject = prepare({"id": "x", "url": "http://a/\ud800", "text": "hi \udfff"}, file="f", line=5, seed=1, val_fraction=0)
    assert reject is None and doc.repaired_surrogates and doc.text == "hi \ufffd" and doc.url == "http://a/\ufffd"
    assert doc.split == "train"


def test_split_is_a_stable_hash_of_the_id():
    ids = [f"{i:016x}" for i in range(20000)]
    val = [i for i in ids if split_of(i, 0.1) == "val"]
    assert 1700 < len(val) < 2300
    assert val == [i for i in ids if split_of(i, 0.1) == "val"]
    assert set(val) >= {i for i in ids if split_of(i, 0.05) == "val"}  # a larger fraction only adds


TRICKY = [
    "word  two   spaces\n\n\nnewlines \n mixed\r\nwindows line\tTab end ",
    "Sentence one.\nSentence two's end\n" * 50,
    "日本語の文章には空白がありません。" * 200,
    "x" * 5000 + " y" * 3000,
    "a'll b's c'd ' s 12 345 6789 ... !!! ?? " * 100,
]


@pytest.mark.parametrize("engine", ["tiktoken", "tokenizers"])
def test_chunked_encoding_gives_the_same_ids(shared_data, small_bpe, engine):
    texts = TRICKY + [t[:60_000] for t in list(corpus_texts(shared_data).values())[::97]]
    whole = DocEncoder(small_bpe.to_str(), engine=engine, eot_token="<|endoftext|>", eot_id=999, chunk_chars=10**9)
    small = DocEncoder(small_bpe.to_str(), engine=engine, eot_token="<|endoftext|>", eot_id=999, chunk_chars=1000,
                       threads=2)
    assert any(len(split_for_encoding(t, 1000)) > 10 for t in texts)
    for a, b in zip(whole.encode_texts(texts), small.encode_texts(texts)):
        assert np.array_equal(a, b)


def test_both_engines_give_identical_documents(books, small_bpe):
    texts = [d["text"] for d in books[:60]] + ["quoting <|endoftext|> inside", "", "x"]
    ids = [f"d{i}" for i in range(len(texts))]
    kw = dict(eot_token="<|endoftext|>", eot_id=999)
    fast = DocEncoder(small_bpe.to_str(), engine="tiktoken", verify_fraction=1.0, **kw).encode(ids, texts)
    slow = DocEncoder(small_bpe.to_str(), engine="tokenizers", **kw).encode(ids, texts)
    for text, a, b in zip(texts, fast, slow):
        assert a.dtype == np.uint16 and a[0] == 999 and np.array_equal(a, b)
        assert (a[1:] == 999).sum() == 0
        assert small_bpe.decode(a[1:].tolist()) == text


def test_a_difference_between_engines_stops_the_run(books, small_bpe, monkeypatch):
    other = T.for_encoding(T.train_bpe((d["text"] for d in books[100:200]), vocab_size=1000))
    from shard.tiktoken_bridge import build_encoding

    wrong = build_encoding(other.to_str(), "<|endoftext|>", 999)
    monkeypatch.setattr(DocEncoder, "tiktoken", property(lambda self: wrong))
    enc = DocEncoder(small_bpe.to_str(), engine="tiktoken", eot_token="<|endoftext|>", eot_id=999, verify_fraction=1.0)
    with pytest.raises(EncoderMismatch, match="document b0: tiktoken and tokenizers give different ids"):
        enc.encode(["b0"], [books[0]["text"]])
