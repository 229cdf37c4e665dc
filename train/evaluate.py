"""Zero-shot evaluation as in GPT-2's Table 3: validation loss, LAMBADA, WikiText-2 and PTB perplexity.

- val: mean loss and perplexity over the shard stage's validation windows (tokens of our tokenizer).
- lambada: OpenAI's LAMBADA test (lambada/lambada_test.jsonl). The target is the passage's last
  space-separated word; the model sees the rest and must produce " word". Accuracy counts passages whose
  target tokens are all the greedy (argmax) choice; perplexity is exp(mean over passages of the target's
  negative log-likelihood), i.e. per word, as lm-evaluation-harness computes it. No stop-word filter.
- wikitext2 / ptb: the tokenised test files (wikitext2/wiki.test.tokens, ptb/ptb.test.txt) are turned back
  into ordinary text by the detokenisers below (GPT-2 reads raw text; the paper used "invertible
  de-tokenizers" too), prefixed with <|endoftext|>, and scored with a sliding window of the model's context
  advancing by `stride` tokens, each token scored once with at least context - stride tokens before it.
  Reported: perplexity per model token, and per word = exp(total NLL / words of the original file, counting
  one end-of-line token per line), the figure comparable to the paper's. `<unk>` and PTB's `N` stay as
  written. The detokenisers (webtext/detokenize.py, shared with dedupe's benchmark index) say what they undo.
"""

from __future__ import annotations

import json
import math
import os
from typing import Optional

import torch

from train import checkpoint as ckpt
from train.model import GPT, GPTConfig
from webtext.detokenize import ptb_detokenize, wikitext_detokenize
from webtext.errors import WebtextError

TASK_FILES = {
    "lambada": ("lambada", "lambada_test.jsonl"),
    "wikitext2": ("wikitext2", "wiki.test.tokens"),
    "ptb": ("ptb", "ptb.test.txt"),
}

DETOKENIZERS = {"wikitext2": wikitext_detokenize, "ptb": ptb_detokenize}  # by evaluation task


def word_count(text: str) -> int:
    """Words of a tokenised benchmark file plus one end-of-line token per line (the usual convention)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return sum(len(line.split()) + 1 for line in lines)


# -- loading a model ------------------------------------------------------------------------------

def load_model(source: str, device: torch.device) -> tuple[GPT, Optional[str], str]:
    """A webtext checkpoint (file or folder) or a Hugging Face GPT2LMHeadModel folder ->
    (model in eval mode, tokenizer.json found beside it or None, description)."""
    if os.path.isdir(source) and os.path.isfile(os.path.join(source, "config.json")):
        from train.hf import load_pretrained

        cfg, state = load_pretrained(source)
        tok = os.path.join(source, "tokenizer.json")
        desc = f"Hugging Face model {source}"
    else:
        path = ckpt.resolve(source)
        data = ckpt.load(path)
        cfg, state = GPTConfig.from_dict(data["model_config"]), data["model"]
        run_dir = os.path.dirname(os.path.dirname(os.path.abspath(path)))
        tok = os.path.join(run_dir, "tokenizer.json")
        desc = f"checkpoint {path} (step {data['step']})"
    model = GPT(cfg)
    model.load_state_dict(state)
    model.to(device).eval()
    return model, (tok if os.path.isfile(tok) else None), desc


def load_tokenizer(path: Optional[str]):
    if not path or not os.path.isfile(path):
        raise WebtextError(f"tokenizer not found{f': {path}' if path else ''}; pass --tokenizer tokenizer.json")
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


def eot_id_of(tok) -> int:
    eot = tok.token_to_id("<|endoftext|>")
    if eot is None:
        raise WebtextError("the tokenizer has no <|endoftext|> token")
    return eot


# -- the evaluations --------------------------------------------------------------------------------

@torch.no_grad()
def token_logprobs(model: GPT, batch: list[list[int]], device, autocast) -> list[torch.Tensor]:
    """For each sequence s: log p(s[i] | s[:i]) for i >= 1 (length len(s) - 1), in one right-padded batch."""
    width = max(len(s) for s in batch) - 1
    x = torch.zeros(len(batch), width, dtype=torch.long)
    for i, s in enumerate(batch):
        x[i, :len(s) - 1] = torch.tensor(s[:-1])
    with autocast():
        logits = model(x.to(device))
    logp = torch.log_softmax(logits.float(), dim=-1).cpu()
    out = []
    for i, s in enumerate(batch):
        tgt = torch.tensor(s[1:])
        out.append(logp[i, :len(s) - 1].gather(1, tgt[:, None]).squeeze(1))
    return out


@torch.no_grad()
def lambada(model: GPT, tok, path: str, *, device, autocast, max_examples: int = 0, batch_size: int = 16) -> dict:
    examples = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                examples.append(json.loads(line)["text"].strip())
    if max_examples:
        examples = examples[:max_examples]
    C = model.config.block_size
    items = []
    for text in examples:
        context, word = text.rsplit(" ", 1)
        ctx_ids = tok.encode(context, add_special_tokens=False).ids
        tgt_ids = tok.encode(" " + word, add_special_tokens=False).ids
        ids = (ctx_ids + tgt_ids)[-(C + 1):]
        items.append((ids, len(tgt_ids)))
    order = sorted(range(len(items)), key=lambda i: len(items[i][0]))
    correct, nll = 0, 0.0
    for start in range(0, len(order), batch_size):
        chunk = [items[i] for i in order[start:start + batch_size]]
        width = max(len(ids) for ids, _ in chunk) - 1
        x = torch.zeros(len(chunk), width, dtype=torch.long)
        for i, (ids, _) in enumerate(chunk):
            x[i, :len(ids) - 1] = torch.tensor(ids[:-1])
        with autocast():
            logits = model(x.to(device)).float().cpu()
        for i, (ids, n_tgt) in enumerate(chunk):
            positions = torch.arange(len(ids) - 1 - n_tgt, len(ids) - 1)
            target = torch.tensor(ids[-n_tgt:])
            row = logits[i, positions]
            correct += int(bool((row.argmax(-1) == target).all()))
            nll -= float(torch.log_softmax(row, -1).gather(1, target[:, None]).sum())
    n = len(items)
    return {"examples": n, "accuracy": correct / n if n else None, "perplexity": math.exp(nll / n) if n else None}


@torch.no_grad()
def rolling_nll(model: GPT, ids: list[int], *, stride: int, device, autocast, batch_size: int = 8) -> tuple[float, int]:
    """Total NLL of ids[1:] given what precedes each, windows of the model's context advancing by stride."""
    C = model.config.block_size
    stride = min(stride or C // 2, C)
    windows = []  # (first input index, number of trailing targets to score)
    scored = 0  # targets ids[1 .. scored] are done
    begin = 0
    n = len(ids)
    while scored < n - 1:
        end = min(begin + C, n - 1)  # inputs ids[begin:end], targets ids[begin+1:end+1]
        windows.append((begin, end, end - scored))
        scored = end
        begin += stride
    total = 0.0
    for i in range(0, len(windows), batch_size):
        chunk = windows[i:i + batch_size]
        seqs = [ids[b:e + 1] for b, e, _ in chunk]
        for (b, e, k), lp in zip(chunk, token_logprobs(model, seqs, device, autocast)):
            total -= float(lp[-k:].sum())
    return total, n - 1


def perplexity_task(model: GPT, tok, path: str, task: str, *, device, autocast, stride: int, max_tokens: int = 0) -> dict:
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    lines = raw.split("\n")
    truncated = False
    if max_tokens:  # whole lines, as many as fit in max_tokens of our tokenizer
        kept, count = [], 0
        for line in lines:
            count += len(tok.encode(line + "\n", add_special_tokens=False).ids)
            if count > max_tokens and kept:
                truncated = True
                break
            kept.append(line)
        raw = "\n".join(kept) + "\n"
    text = DETOKENIZERS[task](raw)
    eot = eot_id_of(tok)
    ids = [eot] + tok.encode(text, add_special_tokens=False).ids
    nll, n_tokens = rolling_nll(model, ids, stride=stride, device=device, autocast=autocast)
    words = word_count(raw)
    return {"tokens": n_tokens, "words": words, "truncated": truncated,
            "token_perplexity": math.exp(nll / n_tokens), "word_perplexity": math.exp(nll / words),
            "detokenizer": task}


@torch.no_grad()
def val_loss(model: GPT, shard_dir: str, *, device, autocast, max_tokens: int = 0, batch_size: int = 8) -> dict:
    from train.data import TokenWindows, read_shard_folder

    shards = read_shard_folder(shard_dir)
    if not shards.val:
        return {"windows": 0, "loss": None, "perplexity": None}
    C = model.config.block_size
    windows = TokenWindows(shards.val, C, shuffle=False)
    count = len(windows) if not max_tokens else min(len(windows), max(1, max_tokens // C))
    total = 0.0
    for start in range(0, count, batch_size):
        rows = range(start, min(count, start + batch_size))
        block = torch.from_numpy(windows.gather_rows(rows, model.config.vocab_size)).to(device)
        with autocast():
            loss = model(block[:, :-1], block[:, 1:])
        total += float(loss) * len(rows)
    mean = total / count if count else None
    return {"windows": count, "tokens": count * C, "loss": mean, "perplexity": math.exp(mean) if mean is not None else None}


def run_eval(model_source: str, *, tasks: list[str], benchmarks: Optional[str], shard_dir: Optional[str],
             tokenizer: Optional[str] = None, device: str = "auto", stride: int = 0, max_examples: int = 0,
             max_tokens: int = 0, note=print) -> dict:
    from train.engine import setup_runtime

    rt = setup_runtime(device, "fp32")  # full precision (TF32 matmuls on GPU): scores comparable across devices
    model, found_tok, desc = load_model(model_source, rt.device)
    note(f"evaluating {desc}: {model.num_params():,} parameters, context {model.config.block_size}")
    results: dict = {"model": desc, "params": model.num_params(), "context": model.config.block_size,
                     "precision": "bf16" if rt.amp_dtype else "fp32", "tasks": {}}
    tok = None
    for task in tasks:
        if task == "val":
            if not shard_dir:
                note("val: skipped (no shard folder)")
                continue
            results["tasks"]["val"] = val_loss(model, shard_dir, device=rt.device, autocast=rt.autocast, max_tokens=max_tokens)
        else:
            if not benchmarks:
                raise WebtextError(f"{task}: no benchmarks folder; set train.eval.benchmarks or pass --benchmarks")
            path = os.path.join(benchmarks, *TASK_FILES[task])
            if not os.path.isfile(path):
                raise WebtextError(f"{task}: benchmark file not found: {path}")
            tok = tok or load_tokenizer(tokenizer or found_tok)
            if task == "lambada":
                results["tasks"][task] = lambada(model, tok, path, device=rt.device, autocast=rt.autocast,
                                                 max_examples=max_examples)
            else:
                results["tasks"][task] = perplexity_task(model, tok, path, task, device=rt.device, autocast=rt.autocast,
                                                         stride=stride, max_tokens=max_tokens)
        note(f"{task}: {format_result(results['tasks'][task])}")
    return results


def format_result(r: dict) -> str:
    parts = []
    for key in ("loss", "perplexity", "accuracy", "token_perplexity", "word_perplexity"):
        if r.get(key) is not None:
            parts.append(f"{key} {r[key]:.2%}" if key == "accuracy" else f"{key} {r[key]:.3f}")
    for key in ("examples", "windows", "tokens", "words"):
        if r.get(key) is not None:
            parts.append(f"{r[key]:,} {key}")
    if r.get("truncated"):
        parts.append("truncated")
    return ", ".join(parts)
