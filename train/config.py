"""The `train:` block of pipeline.yaml: which GPT-2, how long, how fast, where to stop.

Defaults are the GPT-2 124M recipe on one GPU: 0.5M-token batches (GPT-2's 512 x 1024), AdamW
(0.9, 0.95), peak lr 6e-4 with warm-up and cosine decay to 10%, weight decay 0.1 on matrices, clip 1.0,
bf16 autocast and torch.compile on GPU. Only the standard library and webtext.schema are imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional

from webtext.schema import path_field

# name -> (n_layer, n_head, n_embd). The four GPT-2 sizes and two small ones for CPUs and tests.
PRESETS = {
    "gpt2": (12, 12, 768),          # 124,439,808 parameters at vocabulary 50,257
    "gpt2-medium": (24, 16, 1024),  # 354,823,168
    "gpt2-large": (36, 20, 1280),   # 774,030,080
    "gpt2-xl": (48, 25, 1600),      # 1,557,611,200
    "gpt2-mini": (4, 4, 128),       # 0.8M + 128 per vocabulary entry: the CPU demo
    "gpt2-tiny": (2, 2, 32),        # 26K + 32 per vocabulary entry: tests
}


@dataclass
class EvalConfig:
    """`webtext eval`: zero-shot benchmarks as in GPT-2's Table 3."""

    # Folder holding lambada/lambada_test.jsonl, wikitext2/wiki.test.tokens, ptb/ptb.test.txt.
    benchmarks: Optional[str] = path_field(None, kind="any")
    # Which evaluations `webtext eval` runs by default (val = the shards' validation split).
    tasks: list[str] = field(default_factory=lambda: ["val", "lambada", "wikitext2", "ptb"])
    # Sliding-window perplexity: each window advances by this many tokens (0 = half the context).
    stride: int = 0
    # Cap per task (0 = the whole set): LAMBADA examples, perplexity tokens, validation windows.
    max_examples: int = 0
    max_tokens: int = 0

    def check(self):
        known = {"val", "lambada", "wikitext2", "ptb"}
        for t in self.tasks:
            if t not in known:
                yield "tasks", f"unknown task '{t}' (known: {', '.join(sorted(known))})"
        for key in ("stride", "max_examples", "max_tokens"):
            if getattr(self, key) < 0:
                yield key, "must be >= 0"


@dataclass
class Config:
    # -- the model ------------------------------------------------------------------------------
    # GPT-2 size: gpt2 (124M), gpt2-medium (350M), gpt2-large (774M), gpt2-xl (1.5B); gpt2-mini/-tiny for CPUs.
    model: Literal["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt2-mini", "gpt2-tiny"] = "gpt2"
    # Override the preset's shape (null = the preset's).
    n_layer: Optional[int] = None
    n_head: Optional[int] = None
    n_embd: Optional[int] = None
    # Context length in tokens (GPT-2: 1024); also the number of learned positions.
    context: int = 1024
    # Vocabulary size; null = the shards' tokenizer's (50,257 for GPT-2's BPE).
    vocab_size: Optional[int] = None
    # Round the embedding table up to a multiple of this for faster matmuls (50,257 -> 50,304); the extra
    # rows never enter the loss and are cut off on export, so the model stays exactly GPT-2. 1 = no padding.
    pad_vocab_multiple: int = 64
    # Dropout on embeddings, attention and residuals (GPT-2 used 0.1; 0 is usual when pretraining on
    # more data than the model can memorise).
    dropout: float = 0.0
    # Start from these weights instead of a random initialisation: a Hugging Face GPT2LMHeadModel folder
    # (config.json + model.safetensors or pytorch_model.bin) or a webtext checkpoint (.pt). Its shape wins
    # over model/n_layer/n_head/n_embd.
    init_from: Optional[str] = path_field(None, kind="any")

    # -- batch and schedule -----------------------------------------------------------------------
    # Sequences per forward pass on each device.
    micro_batch: int = 32
    # Tokens per optimiser step across all devices; gradient accumulation fills the gap
    # (524,288 = 512 x 1024 as GPT-2 used; 1 GPU at micro_batch 32 -> 16 accumulation steps).
    batch_tokens: int = 524288
    # Optimiser steps. 19,073 x 0.5M tokens = 10B tokens, about one pass over WebText's ~9B tokens.
    max_steps: int = 19073
    # Peak learning rate, reached after warmup_steps of linear warm-up, then cosine decay to
    # lr * min_lr_ratio at decay_steps (null = max_steps), constant after.
    lr: float = 6.0e-4
    warmup_steps: int = 715
    min_lr_ratio: float = 0.1
    decay_steps: Optional[int] = None
    # AdamW; weight decay applies to matrices (linear weights, embeddings), not to biases or LayerNorms.
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1.0e-8
    # Clip the global gradient norm to this (0 = no clipping; the norm is still logged).
    grad_clip: float = 1.0

    # -- evaluation and logs ----------------------------------------------------------------------
    # Write a line to log.jsonl every this many steps.
    log_every: int = 1
    # Validation loss every this many steps (and at the start and the end; 0 = only at the end), on
    # eval_batches x micro_batch windows of the val shards shared out across devices.
    eval_every: int = 250
    eval_batches: int = 20
    # A text sample at each evaluation: this many tokens after sample_prompt ("" = after <|endoftext|>).
    sample_tokens: int = 64
    sample_prompt: str = ""
    # Also write TensorBoard events under tensorboard/ when the tensorboard package is installed.
    tensorboard: bool = True
    # Zero-shot benchmarks for `webtext eval`.
    eval: EvalConfig = field(default_factory=EvalConfig)

    # -- checkpoints ------------------------------------------------------------------------------
    # Save every this many steps (and at the end, and when stopped by SIGTERM/SIGINT); keep the last K.
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    # Write hf/: a Hugging Face GPT2LMHeadModel folder with the tokenizer, at the end.
    export_hf: bool = True

    # -- engine -----------------------------------------------------------------------------------
    # auto: CUDA when available, else CPU.
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # auto: bf16 autocast on GPUs that support it, fp32 on CPU.
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    # torch.compile the model: auto = on GPU, off on CPU (where compiling costs more than it saves).
    compile: bool | Literal["auto"] = "auto"
    # torch.compile mode (see bench/train_gpu.py for what each gives on an H200).
    compile_mode: Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"] = "default"
    # Extra Inductor options for torch.compile(options=...), e.g. {coordinate_descent_tuning: true}; a
    # compile_mode other than default is then passed as its options (CUDA graphs, max-autotune) too.
    compile_options: dict[str, Any] = field(default_factory=dict)
    # scaled_dot_product_attention kernel on GPU: auto = PyTorch's choice (flash attention on H100/H200).
    attention: Literal["auto", "flash", "cudnn", "efficient", "math"] = "auto"
    # Cross-entropy: standard (full logits; torch.compile fuses it) or chunked (lm_head + loss per chunk
    # of tokens, never holding all logits: less memory for big vocabularies and batches).
    loss_impl: Literal["standard", "chunked"] = "standard"
    # Several processes (torchrun): ddp replicates the model; fsdp shards parameters, gradients and
    # optimiser state (for sizes that do not fit one GPU); auto = fsdp for gpt2-large and gpt2-xl.
    parallel: Literal["auto", "ddp", "fsdp"] = "auto"
    # Micro-batches the background loader keeps ready.
    prefetch: int = 4
    # On CPU: PyTorch's intra-op threads (0 = its default, one per core). 1 suits small models on a
    # shared machine, where spinning OpenMP threads slow each other down several times over.
    cpu_threads: int = 0
    # A NaN or infinite loss or gradient: stop (the default; the error names the step) or skip that
    # step's update, as llm.c does, at most max_skips times in a row.
    on_nonfinite: Literal["stop", "skip"] = "stop"
    max_skips: int = 10
    # bf16 dense peak of one device in TFLOP/s, for MFU; null = known GPUs (H100/H200 989, A100 312).
    peak_tflops: Optional[float] = None

    def check(self):
        for key in ("context", "micro_batch", "batch_tokens", "max_steps", "pad_vocab_multiple",
                    "log_every", "eval_batches", "keep_checkpoints", "prefetch", "checkpoint_every"):
            if getattr(self, key) < 1:
                yield key, "must be >= 1"
        for key in ("warmup_steps", "eval_every", "sample_tokens", "max_skips", "cpu_threads"):
            if getattr(self, key) < 0:
                yield key, "must be >= 0"
        for key in ("n_layer", "n_head", "n_embd", "vocab_size"):
            value = getattr(self, key)
            if value is not None and value < 1:
                yield key, "must be >= 1 (or null for the preset's)"
        n_head = self.n_head or PRESETS[self.model][1]
        n_embd = self.n_embd or PRESETS[self.model][2]
        if self.init_from is None and n_embd % n_head:
            yield "n_embd", f"{n_embd} is not divisible by n_head {n_head}"
        if self.batch_tokens % (self.micro_batch * self.context):
            yield "batch_tokens", (f"{self.batch_tokens} is not a multiple of micro_batch x context "
                                   f"= {self.micro_batch * self.context}")
        if not 0 <= self.dropout < 1:
            yield "dropout", "must be in [0, 1)"
        if self.lr <= 0:
            yield "lr", "must be > 0"
        if not 0 <= self.min_lr_ratio <= 1:
            yield "min_lr_ratio", "must be in [0, 1]"
        if self.decay_steps is not None and self.decay_steps < 1:
            yield "decay_steps", "must be >= 1 (or null for max_steps)"
        if self.weight_decay < 0 or self.grad_clip < 0:
            yield "weight_decay" if self.weight_decay < 0 else "grad_clip", "must be >= 0"
        for key in ("beta1", "beta2"):
            if not 0 <= getattr(self, key) < 1:
                yield key, "must be in [0, 1)"
        if self.peak_tflops is not None and self.peak_tflops <= 0:
            yield "peak_tflops", "must be > 0"
