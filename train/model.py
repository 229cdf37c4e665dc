"""GPT-2, the whole model in one file.

The architecture of Radford et al. (2019), as OpenAI's released weights implement it:
- token embeddings plus learned position embeddings, then n_layer pre-LayerNorm blocks
  (x + attn(ln_1(x)), then x + mlp(ln_2(x))), then a final LayerNorm;
- causal multi-head self-attention with one fused q/k/v projection (c_attn) and an output projection
  (c_proj), computed by scaled_dot_product_attention (flash attention on GPUs);
- an MLP of width 4 * n_embd with the tanh approximation of GELU;
- biases on every linear layer, LayerNorm epsilon 1e-5;
- the output layer shares its weight with the token embedding (tied);
- weights drawn from N(0, 0.02), the two residual projections of each block from N(0, 0.02/sqrt(2 n_layer)),
  biases zero, LayerNorms (1, 0).

Parameter names follow Hugging Face's GPT2LMHeadModel (transformer.h.0.attn.c_attn.weight ...), except
that linear weights are stored (out, in) as torch.nn.Linear does, where Hugging Face's Conv1D stores
(in, out): train/hf.py transposes them.

The embedding table may hold more rows than the vocabulary (padded_vocab_size, e.g. 50,304 for 50,257)
because matmuls with a multiple of 64 columns run faster. The extra rows start at zero and never appear
as inputs, and their logits never reach a softmax: the training loss adds a mask of -inf to their columns
(exactly zero probability, and the logits stay contiguous for the fused loss kernel), the chunked loss
(train/losses.py) multiplies by the vocabulary rows only, and forward() without targets returns the
vocab_size columns only. So the model computes exactly the distribution of an unpadded GPT-2; export drops
the rows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from train.config import PRESETS  # name -> (n_layer, n_head, n_embd): gpt2 ... gpt2-xl, gpt2-mini, gpt2-tiny
from train.losses import chunked_cross_entropy


@dataclass
class GPTConfig:
    vocab_size: int = 50257
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    block_size: int = 1024  # number of learned positions = the longest context
    padded_vocab_size: int = 0  # rows of the embedding table; 0 = vocab_size
    dropout: float = 0.0
    layer_norm_epsilon: float = 1e-5

    def __post_init__(self):
        if self.padded_vocab_size == 0:
            self.padded_vocab_size = self.vocab_size
        if self.padded_vocab_size < self.vocab_size:
            raise ValueError(f"padded_vocab_size {self.padded_vocab_size} < vocab_size {self.vocab_size}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} is not divisible by n_head {self.n_head}")

    @classmethod
    def preset(cls, name: str, *, vocab_size: int = 50257, pad_to_multiple: int = 1, **overrides) -> "GPTConfig":
        n_layer, n_head, n_embd = PRESETS[name]
        shape = {"n_layer": n_layer, "n_head": n_head, "n_embd": n_embd}
        shape.update({k: v for k, v in overrides.items() if v is not None})
        return cls(vocab_size=vocab_size, padded_vocab_size=pad_vocab(vocab_size, pad_to_multiple), **shape)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "GPTConfig":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


def pad_vocab(vocab_size: int, multiple: int) -> int:
    multiple = max(1, multiple)
    return -(-vocab_size // multiple) * multiple


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.dropout = cfg.dropout
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.c_proj.residual_projection = True  # initialised smaller: see GPT._init_weights
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        # (B, T, C) -> (B, heads, T, head_dim)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)
        self.c_proj.residual_projection = True
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.config = cfg
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg.padded_vocab_size, cfg.n_embd),
            wpe=nn.Embedding(cfg.block_size, cfg.n_embd),
            drop=nn.Dropout(cfg.dropout),
            h=nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer)),
            ln_f=nn.LayerNorm(cfg.n_embd, eps=cfg.layer_norm_epsilon),
        ))
        self.lm_head = nn.Linear(cfg.n_embd, cfg.padded_vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied input and output embeddings
        # A chunked cross-entropy (train/losses.py) can replace the full-logits loss; set by the trainer.
        self.loss_impl = "standard"
        mask = torch.zeros(cfg.padded_vocab_size)
        mask[cfg.vocab_size:] = float("-inf")
        self.register_buffer("vocab_mask", mask, persistent=False)  # 0 for the vocabulary, -inf for padding
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        std = 0.02
        if isinstance(module, nn.Linear):
            if getattr(module, "residual_projection", False):
                std = 0.02 / math.sqrt(2 * self.config.n_layer)
            if module is not self.lm_head:  # tied: initialised as the embedding below
                nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module is self.transformer.wte and self.config.padded_vocab_size > self.config.vocab_size:
                with torch.no_grad():
                    module.weight[self.config.vocab_size:].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def num_params(self, include_positions: bool = True, padded: bool = False) -> int:
        """Parameters counted once (the tied head is the embedding); without padding rows unless asked."""
        n = sum(p.numel() for p in self.parameters())
        if not padded:
            n -= (self.config.padded_vocab_size - self.config.vocab_size) * self.config.n_embd
        if not include_positions:
            n -= self.transformer.wpe.weight.numel()
        return n

    def hidden_states(self, idx: torch.Tensor) -> torch.Tensor:
        """The final LayerNorm's output, (B, T, n_embd)."""
        T = idx.size(1)
        if T > self.config.block_size:
            raise ValueError(f"sequence of {T} tokens is longer than the context of {self.config.block_size}")
        pos = torch.arange(T, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        return self.transformer.ln_f(x)

    def forward(self, idx: torch.Tensor, targets: Optional[torch.Tensor] = None):
        """idx (B, T) token ids. Without targets: logits (B, T, vocab_size). With targets (B, T): the
        mean cross-entropy over targets != -1, and no logits (so the trainer never keeps them)."""
        x = self.hidden_states(idx)
        V = self.config.vocab_size
        if targets is None:
            return self.lm_head(x)[..., :V]
        if self.loss_impl == "chunked":
            return chunked_cross_entropy(x, self.lm_head.weight, targets, V)
        logits = self.lm_head(x)
        if self.config.padded_vocab_size != V:
            # Padding rows are not in the vocabulary: a -inf logit gives them exactly zero probability.
            # Adding a mask keeps the logits contiguous and 64-aligned for the fused loss kernel, where
            # slicing them to V columns makes an odd-strided copy.
            logits = logits + self.vocab_mask.to(logits.dtype)
        # Under autocast, cross_entropy computes in float32 whatever the logits' dtype.
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, *, temperature: float = 1.0,
                 top_k: Optional[int] = 200, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Sample max_new_tokens after idx (B, T), feeding back at most block_size tokens of context."""
        for _ in range(max_new_tokens):
            context = idx[:, -self.config.block_size:]
            logits = self(context)[:, -1, :].float() / max(temperature, 1e-6)
            if top_k is not None and top_k < logits.size(-1):
                kth = torch.topk(logits, top_k).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = F.softmax(logits, dim=-1)
            nxt = torch.multinomial(probs.cpu(), 1, generator=generator).to(idx.device)
            idx = torch.cat([idx, nxt], dim=1)
        return idx


def flops_per_token(cfg: GPTConfig, context: Optional[int] = None) -> float:
    """Training FLOPs per token (forward + backward): 6 per weight it passes through (the token
    embedding counts once, as the output layer's matmul) plus attention's 12 * n_layer * n_embd * T
    (PaLM's appendix B; as nanoGPT counts it)."""
    T = context or cfg.block_size
    D, L = cfg.n_embd, cfg.n_layer
    weights = L * (12 * D * D + 13 * D) + 2 * D + cfg.padded_vocab_size * D
    return 6 * weights + 12 * L * D * T
