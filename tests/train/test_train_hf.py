"""Hugging Face both ways: our export loads in transformers with the same logits; a GPT2LMHeadModel folder
is a starting point for training."""

import os

import pytest
import torch
from train_helpers import read_log, tiny_config
from train_helpers import bpe_tokenizer, one_torch_thread, text_shards  # noqa: F401  (fixtures)

from train.data import TokenWindows, read_shard_folder
from train.hf import export
from train.loop import run
from train.model import GPT, GPTConfig

transformers = pytest.importorskip("transformers")


def test_export_loads_in_transformers_with_equal_logits(tmp_path, bpe_tokenizer):
    torch.manual_seed(0)
    cfg = GPTConfig.preset("gpt2-tiny", vocab_size=300, pad_to_multiple=64, block_size=64)
    model = GPT(cfg).eval()
    with torch.no_grad():  # trained-looking weights: biases and LayerNorms away from their init
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
    out = str(tmp_path / "hf")
    export(model.state_dict(), cfg, out, tokenizer=bpe_tokenizer)
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.json",
            "merges.txt", "generation_config.json"} <= set(os.listdir(out))
    hf = transformers.GPT2LMHeadModel.from_pretrained(out).eval()
    assert hf.num_parameters() == model.num_params()
    x = torch.randint(0, 300, (2, 64))
    with torch.no_grad():
        diff = (hf(x).logits - model(x)).abs().max().item()
    assert diff <= 1e-4

    tok = transformers.AutoTokenizer.from_pretrained(out)
    from tokenizers import Tokenizer

    assert tok("the river and the king").input_ids == Tokenizer.from_file(bpe_tokenizer).encode("the river and the king").ids
    generate = transformers.pipeline("text-generation", model=out, tokenizer=out, device="cpu")
    text = generate("The river", max_new_tokens=8, do_sample=False)[0]["generated_text"]
    assert text.startswith("The river") and len(text) > len("The river")


def test_training_starts_from_a_gpt2lmheadmodel_folder(tmp_path, text_shards):
    torch.manual_seed(0)
    hf_cfg = transformers.GPT2Config(vocab_size=300, n_positions=64, n_embd=32, n_layer=2, n_head=2)
    hf = transformers.GPT2LMHeadModel(hf_cfg).eval()
    folder = str(tmp_path / "pretrained")
    hf.save_pretrained(folder)

    # the loss the Hugging Face model gives on the first validation windows
    windows = TokenWindows(read_shard_folder(text_shards).val, 32, shuffle=False)
    block = torch.from_numpy(windows.gather(0, 4))
    with torch.no_grad():
        logits = hf(block[:, :-1]).logits
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 300), block[:, 1:].reshape(-1)).item()

    out = str(tmp_path / "out")
    os.makedirs(out)
    summary = run(tiny_config(init_from=folder, vocab_size=None, micro_batch=4, batch_tokens=4 * 32, eval_batches=1,
                              max_steps=3, eval_every=3), shard_dir=text_shards, out_dir=out, seed=0, note=lambda m: None)
    first_eval = read_log(out)[0]
    assert first_eval["step"] == 0 and first_eval["val_loss"] == pytest.approx(expected, abs=1e-5)
    assert summary["model"]["origin"].startswith("Hugging Face model") and summary["model"]["context"] == 32
    assert summary["model"]["padded_vocab_size"] == 320  # padded for speed, exported exactly


def test_export_replaces_an_earlier_export_but_never_a_folder_of_other_things(tmp_path, bpe_tokenizer):
    from webtext.errors import WebtextError

    cfg = GPTConfig.preset("gpt2-tiny", vocab_size=300, block_size=64)
    state = GPT(cfg).state_dict()
    out = tmp_path / "hf"
    export(state, cfg, str(out), tokenizer=bpe_tokenizer)
    export(state, cfg, str(out), tokenizer=bpe_tokenizer)  # an earlier export: replaced
    assert (out / "model.safetensors").exists()

    precious = tmp_path / "project"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(WebtextError, match="notes.txt"):
        export(state, cfg, str(precious), tokenizer=bpe_tokenizer)
    assert (precious / "notes.txt").read_text() == "keep me"
    assert sorted(os.listdir(tmp_path)) == ["hf", "project"]  # no half-written folder left beside it

    # "--out ." from inside an earlier export: refused, nothing deleted
    cwd = os.getcwd()
    try:
        os.chdir(out)
        with pytest.raises(WebtextError, match="current folder"):
            export(state, cfg, ".", tokenizer=bpe_tokenizer)
    finally:
        os.chdir(cwd)
    assert (out / "model.safetensors").exists()
