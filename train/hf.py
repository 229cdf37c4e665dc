"""Hugging Face both ways: write a GPT2LMHeadModel folder from our weights, and start from one.

Our parameter names are Hugging Face's; two differences are bridged here:
- c_attn, c_proj and c_fc are torch.nn.Linear here, weight (out, in); Hugging Face's Conv1D stores (in, out);
- our embedding may carry padding rows (see train/model.py); the export cuts them off.

The folder written holds config.json, generation_config.json, model.safetensors (the tied output layer
is the embedding, stored once) and the tokenizer (tokenizer.json, plus vocab.json/merges.txt for BPE
tokenizers and the special-token files), so that `GPT2LMHeadModel.from_pretrained(folder)` and
`pipeline("text-generation", model=folder)` work without webtext. safetensors is imported only here,
when exporting or importing.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Optional

import torch

from train.model import GPTConfig, pad_vocab
from webtext.errors import WebtextError

TRANSPOSED = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
EOT_TEXT = "<|endoftext|>"


def to_hf_state_dict(state: dict, cfg: GPTConfig) -> dict:
    """Our state dict -> Hugging Face GPT2LMHeadModel's (contiguous fp32 tensors, no lm_head: it is tied)."""
    out = {}
    for key, value in state.items():
        if key == "lm_head.weight":
            continue
        value = value.detach().to("cpu", torch.float32)
        if key == "transformer.wte.weight":
            value = value[:cfg.vocab_size]
        elif key.endswith(TRANSPOSED):
            value = value.t()
        out[key] = value.contiguous()
    return out


def from_hf_state_dict(hf: dict, cfg: GPTConfig) -> dict:
    """Hugging Face GPT2LMHeadModel / GPT2Model weights -> our state dict (embedding padded to cfg)."""
    out = {}
    for key, value in hf.items():
        if key.endswith((".attn.bias", ".attn.masked_bias")) or key == "lm_head.weight":
            continue  # causal-mask buffers of older checkpoints; the tied head
        if not key.startswith("transformer."):
            key = "transformer." + key  # saved from GPT2Model, without the LM head's prefix
        value = value.to(torch.float32)
        if key.endswith(TRANSPOSED):
            value = value.t()
        if key == "transformer.wte.weight" and cfg.padded_vocab_size > value.shape[0]:
            pad = torch.zeros(cfg.padded_vocab_size - value.shape[0], value.shape[1], dtype=value.dtype)
            value = torch.cat([value, pad])
        out[key] = value.contiguous()
    out["lm_head.weight"] = out["transformer.wte.weight"]
    return out


def hf_config(cfg: GPTConfig, eot_id: Optional[int]) -> dict:
    eot = cfg.vocab_size - 1 if eot_id is None else eot_id
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": cfg.vocab_size,
        "n_positions": cfg.block_size,
        "n_ctx": cfg.block_size,
        "n_embd": cfg.n_embd,
        "n_layer": cfg.n_layer,
        "n_head": cfg.n_head,
        "n_inner": None,
        "activation_function": "gelu_new",
        "resid_pdrop": cfg.dropout,
        "embd_pdrop": cfg.dropout,
        "attn_pdrop": cfg.dropout,
        "layer_norm_epsilon": cfg.layer_norm_epsilon,
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
        "bos_token_id": eot,
        "eos_token_id": eot,
        "tie_word_embeddings": True,
        "use_cache": True,
        "torch_dtype": "float32",
    }


def export(state: dict, cfg: GPTConfig, out_dir: str, *, tokenizer: Optional[str] = None,
           eot_id: Optional[int] = None) -> str:
    """Write a Hugging Face folder (atomically: built beside out_dir, then renamed into place).

    An existing out_dir is replaced only if it holds nothing but the files an export writes: a
    mistyped `--out .` must not delete a folder of other things."""
    from safetensors.torch import save_file

    out_dir = os.path.abspath(out_dir)  # "." or "x/." would put the temporary folder inside out_dir
    cwd = os.path.abspath(os.getcwd())
    if cwd == out_dir or cwd.startswith(out_dir.rstrip(os.sep) + os.sep):
        raise WebtextError(f"{out_dir}: is the current folder or holds it; the export replaces its folder "
                           "whole, so give another one")
    if os.path.isdir(out_dir):
        foreign = sorted(set(os.listdir(out_dir)) - EXPORT_FILES)
        if foreign:
            raise WebtextError(f"{out_dir}: exists and holds other things than a model export "
                               f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); "
                               "give an empty or new folder, or the folder of an earlier export")
    elif os.path.exists(out_dir):
        raise WebtextError(f"{out_dir}: exists and is not a folder")

    if tokenizer and eot_id is None:
        from train.data import tokenizer_info

        eot_id = tokenizer_info(tokenizer)["eot_id"]
    tmp = f"{out_dir}.tmp.{os.getpid()}"  # beside out_dir, so the rename below is atomic
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    save_file(to_hf_state_dict(state, cfg), os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
    config = hf_config(cfg, eot_id)
    _write_json(os.path.join(tmp, "config.json"), config)
    _write_json(os.path.join(tmp, "generation_config.json"), {
        "bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"]})
    if tokenizer:
        write_tokenizer_files(tokenizer, tmp, cfg.block_size)
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.rename(tmp, out_dir)
    return out_dir


# Every file export() writes: a folder holding only these is an earlier export and may be replaced.
EXPORT_FILES = frozenset({"model.safetensors", "config.json", "generation_config.json", "tokenizer.json",
                          "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt"})


def write_tokenizer_files(tokenizer_json: str, out_dir: str, max_length: int) -> None:
    """tokenizer.json plus what AutoTokenizer and the slow GPT2Tokenizer read beside it."""
    shutil.copyfile(tokenizer_json, os.path.join(out_dir, "tokenizer.json"))
    with open(tokenizer_json, encoding="utf-8") as f:
        data = json.load(f)
    model = data.get("model") or {}
    added = [t.get("content") for t in data.get("added_tokens") or []]
    special = EOT_TEXT if EOT_TEXT in added or EOT_TEXT in (model.get("vocab") or {}) else None
    config = {"tokenizer_class": "GPT2Tokenizer", "model_max_length": max_length, "add_prefix_space": False,
              "clean_up_tokenization_spaces": False}
    if special:
        config.update(bos_token=special, eos_token=special, unk_token=special)
        _write_json(os.path.join(out_dir, "special_tokens_map.json"),
                    {"bos_token": special, "eos_token": special, "unk_token": special})
    _write_json(os.path.join(out_dir, "tokenizer_config.json"), config)
    if model.get("type") == "BPE" and isinstance(model.get("vocab"), dict):
        _write_json(os.path.join(out_dir, "vocab.json"), model["vocab"])
        merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges") or []]
        with open(os.path.join(out_dir, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "".join(m + "\n" for m in merges))


def load_pretrained(folder: str, *, pad_to_multiple: int = 1, dropout: float = 0.0) -> tuple[GPTConfig, dict]:
    """A GPT2LMHeadModel folder -> (GPTConfig, our state dict). Refuses configs that are not plain GPT-2."""
    path = os.path.join(folder, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            hf = json.load(f)
    except (OSError, ValueError) as e:
        raise WebtextError(f"{path}: cannot read the Hugging Face config ({e})") from None
    if hf.get("model_type", "gpt2") != "gpt2":
        raise WebtextError(f"{path}: model_type {hf.get('model_type')!r} is not gpt2")
    unusual = {k: hf[k] for k, plain in (("activation_function", "gelu_new"), ("scale_attn_weights", True),
                                         ("scale_attn_by_inverse_layer_idx", False), ("reorder_and_upcast_attn", False))
               if k in hf and hf[k] != plain and not (k == "activation_function" and hf[k] == "gelu_pytorch_tanh")}
    if hf.get("n_inner") not in (None, 4 * hf.get("n_embd", 0)):
        unusual["n_inner"] = hf["n_inner"]
    if unusual:
        raise WebtextError(f"{path}: not a plain GPT-2 ({unusual}); webtext trains GPT-2 exactly")
    vocab = hf.get("vocab_size", 50257)
    cfg = GPTConfig(vocab_size=vocab, padded_vocab_size=pad_vocab(vocab, pad_to_multiple),
                    n_layer=hf.get("n_layer", 12), n_head=hf.get("n_head", 12), n_embd=hf.get("n_embd", 768),
                    block_size=hf.get("n_positions", hf.get("n_ctx", 1024)),
                    layer_norm_epsilon=hf.get("layer_norm_epsilon", 1e-5), dropout=dropout)
    return cfg, from_hf_state_dict(_read_weights(folder), cfg)


def _read_weights(folder: str) -> dict:
    single = os.path.join(folder, "model.safetensors")
    index = os.path.join(folder, "model.safetensors.index.json")
    legacy = os.path.join(folder, "pytorch_model.bin")
    try:
        if os.path.isfile(single) or os.path.isfile(index):
            from safetensors.torch import load_file

            if os.path.isfile(single):
                return load_file(single)
            with open(index, encoding="utf-8") as f:
                files = sorted(set(json.load(f)["weight_map"].values()))
            out = {}
            for name in files:
                out.update(load_file(os.path.join(folder, name)))
            return out
        if os.path.isfile(legacy):
            return torch.load(legacy, map_location="cpu", weights_only=True)
    except WebtextError:
        raise
    except Exception as e:
        raise WebtextError(f"{folder}: cannot read the model weights ({type(e).__name__}: {e})") from None
    raise WebtextError(f"{folder}: no model.safetensors or pytorch_model.bin")


def _write_json(path: str, data) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
