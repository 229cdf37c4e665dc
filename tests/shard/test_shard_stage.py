"""The shard stage end to end on real files through the real runner and Beam pipelines."""

import json
import os

import numpy as np
import pytest

from shard import open_shard, read_index, read_manifest, split_shards
from shard.docs import order_key, split_of
from webtext import jsonl
from webtext.record import new_document

from shard_fixtures import books, folder_bytes, gpt2_dir, run_shard, write_dedupe  # noqa: F401

SEED = 1337


def _bad_lines():
    def line(doc_id, text_json):
        return (b'{"id":"' + doc_id + b'","url":"https://bad.example/' + doc_id + b'","text":' + text_json
                + b',"title":null,"fetched_at":null,"source":{"reddit_ids":[],"subreddits":[],"score":3,"created_utc":null},"meta":{}}')

    return [
        line(b"bad-utf8", b'"caf\xe9 au lait \xff\xfe, still kept"'),        # invalid UTF-8 bytes
        line(b"lone-surrogate", b'"before \\ud800 after \\udfff end"'),   # JSON escapes of lone surrogates
        line(b"empty", b'""'),
        line(b"blank", b'"  \\n\\t  "'),
        line(b"quotes-eot", b'"a page that quotes <|endoftext|> in its text"'),
        b'{"id": "truncated", "text": "no end',                            # not JSON
        b'{"id": "no-text", "url": "https://bad.example/x"}',              # no text
    ]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, books):
    work = str(tmp_path_factory.mktemp("trained"))
    write_dedupe(work, books, files=3, raw_lines=_bad_lines())
    record = run_shard(work, {"tokenizer": {"kind": "train", "vocab_size": 1000}, "shard_tokens": 50_000,
                              "val_fraction": 0.2, "batch_docs": 64})
    return work, record


def _split_docs(folder, split):
    tokens = np.concatenate([np.asarray(open_shard(p)) for p in split_shards(folder, split)])
    pieces = [p for s in split_shards(folder, split) for p in read_index(s)]
    return tokens, pieces


def test_counts_rejects_and_repairs(trained_run, books):
    work, record = trained_run
    assert record["counts"] == {"in": len(books) + 7, "out": len(books) + 3,
                                "dropped": {"bad_json": 1, "bad_record": 1, "empty": 2}}
    stats = record["stats"]
    assert stats["repaired"] == {"utf8": 1, "surrogates": 1}
    assert stats["vocab_size"] == 1000 and stats["tokenizer"]["eot_id"] == 999
    assert stats["encoder"]["engine"] == "tiktoken"
    assert stats["tokens"]["train"] + stats["tokens"]["val"] == sum(s["tokens"] for s in stats["shards"])
    assert sum(stats["doc_tokens"].values()) == record["counts"]["out"]
    rejects = list(jsonl.read_dir(os.path.join(work, "shard", "rejects")))
    assert sorted(r["reason"] for r in rejects) == ["bad_json", "bad_record", "empty", "empty"]
    assert {r.get("id") for r in rejects} == {None, "no-text", "empty", "blank"}
    assert [r["reject"]["line"] for r in rejects if r["reason"] == "bad_json"] == [len(books[2::3]) + 6]


def test_shards_decode_back_to_the_documents_in_key_order(trained_run, books):
    work, _ = trained_run
    folder = os.path.join(work, "shard")
    manifest = read_manifest(folder)
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    texts = {d["id"]: d["text"] for d in books}
    texts.update({"bad-utf8": "caf\ufffd au lait \ufffd\ufffd, still kept",
                  "lone-surrogate": "before \ufffd after \ufffd end",
                  "quotes-eot": "a page that quotes <|endoftext|> in its text"})
    for split in ("train", "val"):
        tokens, pieces = _split_docs(folder, split)
        names = split_shards(folder, split)
        for name in names[:-1]:
            assert len(open_shard(name)) == 50_000  # every shard but the last is full
        starts = [p for p in pieces if p["doc_offset"] == 0]
        want = sorted((i for i in texts if split_of(i, 0.2) == split), key=lambda i: order_key(SEED, i))
        assert [p["id"] for p in starts] == want
        assert manifest["splits"][split]["documents"] == len(want)
        assert manifest["splits"][split]["tokens"] == len(tokens)
        pos = 0
        for p in starts:
            doc = tokens[pos:pos + p["doc_tokens"]]
            assert doc[0] == 999 and not (doc[1:] == 999).any()
            assert tok.decode(doc[1:].tolist(), skip_special_tokens=False) == texts[p["id"]]
            pos += p["doc_tokens"]
        assert pos == len(tokens)
    assert manifest["splits"]["val"]["documents"] > 50


def test_manifest_layout_and_tokenizer(trained_run, books):
    work, _ = trained_run
    folder = os.path.join(work, "shard")
    m = read_manifest(folder)
    assert m["vocab_size"] == 1000 and m["eot_id"] == 999
    assert m["tokenizer"]["file"] == "tokenizer.json" and m["tokenizer"]["kind"] == "train"
    assert m["tokenizer"]["sample"]["documents"] == len(books) + 3
    assert m["shard_format"] == {"magic": 20240520, "version": 1, "header_bytes": 1024, "dtype": "uint16", "byte_order": "little"}
    assert m["input"]["dir"] == "../dedupe" and len(m["input"]["files"]) == 3
    assert [s["name"] for s in m["shards"]] == m["splits"]["train"]["shards"] + m["splits"]["val"]["shards"]
    assert sorted(n for n in os.listdir(folder) if n.endswith((".bin", ".idx"))) == sorted(
        [s["name"] for s in m["shards"]] + [s["idx"] for s in m["shards"]])
    assert not os.path.exists(os.path.join(folder, "_tmp"))
    from transformers import PreTrainedTokenizerFast

    hf = PreTrainedTokenizerFast(tokenizer_file=os.path.join(folder, "tokenizer.json"))
    tokens, pieces = _split_docs(folder, "train")
    first = pieces[0]
    text = next(d["text"] for d in books if d["id"] == first["id"])
    assert hf.encode(text) == tokens[1:first["doc_tokens"]].tolist()


def test_verify_and_show_commands(trained_run, cli, tmp_path):
    work, _ = trained_run
    folder = os.path.join(work, "shard")
    ok = cli("shard", "verify", "--dir", folder)
    assert ok.returncode == 0 and "OK:" in ok.stdout, ok.stdout + ok.stderr
    config = tmp_path / "pipeline.yaml"
    config.write_text(f"run:\n  work_dir: {work}\n")
    by_config = cli("shard", "verify", str(config))
    assert by_config.returncode == 0 and f"{folder}: OK: " in by_config.stdout, by_config.stdout + by_config.stderr
    second = split_shards(folder, "train")[1]
    piece = read_index(second)[0]
    shown = cli("shard", "show", second, "0", "--context", "80")
    assert shown.returncode == 0, shown.stderr
    assert piece["url"] in shown.stdout and piece["id"] in shown.stdout
    assert f"token {piece['doc_offset']} of {piece['doc_tokens']}" in shown.stdout
    assert "subreddits books" in shown.stdout and "[[" in shown.stdout
    bad = cli("shard", "show", second, "99999999")
    assert bad.returncode == 1 and "outside the shard" in bad.stderr

    # damage a copy: one flipped token, one truncated index, one stray file
    import shutil

    copy = str(tmp_path / "copy")
    shutil.copytree(folder, copy)
    victim = os.path.join(copy, os.path.basename(second))
    data = bytearray(open(victim, "rb").read())
    data[2000] ^= 1
    open(victim, "wb").write(bytes(data))
    idx = os.path.join(copy, "val_000000.idx")
    lines = open(idx).read().splitlines(True)
    open(idx, "w").write("".join(lines[:-1]))
    open(os.path.join(copy, "train_000099.bin"), "wb").write(b"")
    failed = cli("shard", "verify", "--dir", copy)
    assert failed.returncode == 1
    assert f"FAIL {victim}: sha256 differs" in failed.stdout
    assert "val_000000.idx: sha256 differs" in failed.stdout
    assert "train_000099.bin: not listed in the manifest" in failed.stdout
    assert failed.stdout.count("FAIL") == 3
    structural = cli("shard", "verify", "--dir", copy, "--no-hashes")
    assert "val_000000.idx: pieces cover" in structural.stdout


def test_bytes_do_not_depend_on_parallelism_file_layout_or_engine(tmp_path, books, gpt2_dir):
    docs = books[:100]
    bad = [b'{"id":"e","url":"https://e.example/","text":""}', b"not json"]
    shard = {"tokenizer": {"kind": "gpt2", "gpt2_dir": gpt2_dir}, "shard_tokens": 15_000, "val_fraction": 0.1}
    runs = {}
    for name, files, kw, extra in [("in_memory", 3, {}, {}),
                                   ("two_processes", 3, {"mode": "multi_processing", "workers": 2}, {}),
                                   ("five_files_tokenizers", 5, {}, {"encoder": "tokenizers"})]:
        work = str(tmp_path / name)
        write_dedupe(work, docs, files=files, raw_lines=bad)
        record = run_shard(work, {**shard, **extra}, **kw)
        runs[name] = (folder_bytes(os.path.join(work, "shard")), record)
        runs[name][0]["rejects"] = open(os.path.join(work, "shard", "rejects", "rejects-00000-of-00001.jsonl.zst"), "rb").read()
    a, b, c = (runs[n][0] for n in ("in_memory", "two_processes", "five_files_tokenizers"))
    assert a == b  # shards, indexes, rejects, manifest and tokenizer: byte for byte
    assert len([n for n in a if n.endswith(".bin")]) >= 4
    bins = sorted(n for n in a if n.endswith(".bin"))
    assert bins == sorted(n for n in c if n.endswith(".bin"))
    assert all(a[n] == c[n] for n in bins)  # same ids and order from another engine and file layout
    assert runs["five_files_tokenizers"][1]["stats"]["encoder"]["engine"] == "tokenizers"
    assert json.loads(a["manifest.json"])["vocab_size"] == 50257
    assert json.loads(a["manifest.json"])["eot_id"] == 50256


def test_one_100mb_document(tmp_path, shared_data, gpt2_dir):
    # A 100 MB document made of a paragraph repeated: each copy starts a new pre-token, so its
    # ids are the paragraph's ids repeated, which lets the test check every token cheaply.
    unit = ("The crawler fetched this page from a link with enough karma; it is long, very long.\n"
            "Numbers 12345 and punctuation -- like this -- and 'quotes' end the line\n")
    big = unit * (100_000_000 // len(unit))
    docs = [new_document("https://big.example/", big), new_document("https://small.example/a", "A small page."),
            new_document("https://small.example/b", "Another small page.")]
    work = str(tmp_path)
    write_dedupe(work, docs, files=1)
    del docs
    record = run_shard(work, {"tokenizer": {"kind": "gpt2", "gpt2_dir": gpt2_dir}, "shard_tokens": 8_000_000,
                              "val_fraction": 0.0, "verify_fraction": 0.0})
    folder = os.path.join(work, "shard")
    from shard.tokenizer import load_gpt2

    unit_ids = load_gpt2(gpt2_dir).encode(unit).ids
    big_id = new_document("https://big.example/", "").get("id")
    tokens, pieces = _split_docs(folder, "train")
    start = next(p for p in pieces if p["id"] == big_id and p["doc_offset"] == 0)
    pos = sum(p["tokens"] for p in pieces[:pieces.index(start)])
    n = len(big) // len(unit) * len(unit_ids) + 1
    assert start["doc_tokens"] == n
    assert tokens[pos] == 50256
    assert np.array_equal(tokens[pos + 1:pos + n].reshape(-1, len(unit_ids)), np.tile(unit_ids, (len(big) // len(unit), 1)))
    assert record["counts"]["out"] == 3 and record["stats"]["max_doc_tokens"] == n
    assert len(record["stats"]["shards"]) == -(-len(tokens) // 8_000_000) >= 3
    assert not split_shards(folder, "val")


def test_tiny_corpus_with_full_size_vocabulary_request(tmp_path):
    docs = [new_document(f"https://tiny.example/{i}", f"Tiny page number {i} says hello to the world.") for i in range(5)]
    work = str(tmp_path)
    write_dedupe(work, docs, files=2)
    record = run_shard(work, {"tokenizer": {"kind": "train", "vocab_size": 50257}, "val_fraction": 0.0})
    m = read_manifest(os.path.join(work, "shard"))
    assert 257 < m["vocab_size"] < 400  # the sample supports only so many merges; the manifest says so
    assert m["eot_id"] == m["vocab_size"] - 1
    assert m["splits"]["val"] == {"shards": [], "tokens": 0, "documents": 0}
    assert record["counts"] == {"in": 5, "out": 5, "dropped": {}}


def test_a_damaged_input_file_is_named(tmp_path, books, gpt2_dir, monkeypatch):
    from webtext.errors import WebtextError

    work = str(tmp_path)
    write_dedupe(work, books[:40], files=2)
    path = os.path.join(work, "dedupe", "docs", "docs-00001-of-00002.jsonl.zst")
    data = open(path, "rb").read()
    open(path, "wb").write(data[:len(data) // 2])
    with pytest.raises(WebtextError, match="docs-00001-of-00002.jsonl.zst: cannot decompress .*truncated zstd"):
        run_shard(work, {"tokenizer": {"kind": "gpt2", "gpt2_dir": gpt2_dir}})
    # the same file met inside the Beam workers (the check sample read only the first file)
    import shard.sample

    monkeypatch.setattr(shard.sample, "texts_for_check", lambda files: ["a check text"])
    with pytest.raises(WebtextError, match="docs-00001-of-00002.jsonl.zst: cannot decompress"):
        run_shard(work, {"tokenizer": {"kind": "gpt2", "gpt2_dir": gpt2_dir}})
    assert not os.path.exists(os.path.join(work, "shard", "_SUCCESS.json"))


def test_worker_errors_are_unwrapped():
    from shard.stage import _user_error

    wrapped = RuntimeError("Pipeline job failed:\nTraceback ...\nwebtext.errors.InputError: /w/docs/a.jsonl.zst: "
                           "cannot decompress after line 3: truncated [while running 'ReadEncode']\n")
    assert _user_error(wrapped) == "/w/docs/a.jsonl.zst: cannot decompress after line 3: truncated"
    assert _user_error(RuntimeError("ZeroDivisionError: division by zero")) is None


def test_a_saved_tokenizer_file_reproduces_the_shards(tmp_path, books):
    # kind: file through the whole stage: the tokenizer.json a run saved, given back as a file, gives
    # the same shards, indexes and manifest tokenizer entry (its hash and vocabulary).
    docs = books[:30]
    first, second = str(tmp_path / "trained"), str(tmp_path / "from_file")
    shard = {"shard_tokens": 20_000, "val_fraction": 0.1}
    write_dedupe(first, docs, files=2)
    run_shard(first, {"tokenizer": {"kind": "train", "vocab_size": 600}, **shard})
    saved = os.path.join(first, "shard", "tokenizer.json")
    write_dedupe(second, docs, files=2)
    record = run_shard(second, {"tokenizer": {"kind": "file", "file": saved}, **shard})
    a = folder_bytes(os.path.join(first, "shard"))
    b = folder_bytes(os.path.join(second, "shard"))
    payload = sorted(n for n in a if n.endswith((".bin", ".idx")))
    assert payload and payload == sorted(n for n in b if n.endswith((".bin", ".idx")))
    assert all(a[n] == b[n] for n in payload)
    assert a["tokenizer.json"] == b["tokenizer.json"]
    ma, mb = json.loads(a["manifest.json"]), json.loads(b["manifest.json"])
    assert mb["tokenizer"]["kind"] == "file" and mb["tokenizer"]["sha256"] == ma["tokenizer"]["sha256"]
    assert mb["vocab_size"] == ma["vocab_size"] == 600
    assert record["counts"]["out"] == len(docs)
