"""Cross-entropy over the output layer in chunks of tokens, never holding all the logits.

The standard loss materialises (tokens x vocabulary) logits: for GPT-2 124M at micro-batch 32 x 1024 that
is 3.3 GB in bf16, plus its fp32 softmax and gradient. Here the output matmul, log-softmax and their
gradients are computed chunk by chunk inside the forward pass (as Liger-Kernel's fused linear
cross-entropy does); backward then only scales the stored gradients. Same matmuls, a fraction of the
memory. The trainer uses it when `loss_impl: chunked`.
"""

from __future__ import annotations

import torch

CHUNK_ELEMENTS = 1 << 28  # logits per chunk (fp32: 1 GiB)


class _LinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, targets, vocab_size):
        # x (N, D) hidden states, weight (V_padded, D), targets (N,) with -1 = ignore.
        device_type = x.device.type
        dtype = torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else x.dtype
        with torch.autocast(device_type, enabled=False):
            w = weight[:vocab_size].to(dtype)
            xs = x.to(dtype)
            n = x.shape[0]
            valid = targets != -1
            count = valid.sum().clamp(min=1).float()
            chunk = max(1, CHUNK_ELEMENTS // vocab_size)
            loss = torch.zeros((), device=x.device, dtype=torch.float32)
            grad_x = torch.empty_like(xs)
            grad_w = torch.zeros(weight.shape, device=x.device, dtype=torch.float32)
            for start in range(0, n, chunk):
                stop = min(start + chunk, n)
                xc, tc, vc = xs[start:stop], targets[start:stop], valid[start:stop]
                logits = (xc @ w.t()).float()
                lse = torch.logsumexp(logits, dim=-1)
                safe_t = tc.clamp(min=0)
                picked = logits.gather(1, safe_t[:, None]).squeeze(1)
                loss += ((lse - picked) * vc).sum()
                # d(loss)/d(logits) = softmax - one_hot(target), for valid rows, / count
                g = torch.exp(logits - lse[:, None])
                g.scatter_add_(1, safe_t[:, None], -torch.ones_like(picked)[:, None])
                g *= (vc.float() / count)[:, None]
                g = g.to(dtype)
                grad_x[start:stop] = g @ w
                grad_w[:vocab_size] += (g.t() @ xc).float()
        ctx.save_for_backward(grad_x.to(x.dtype), grad_w.to(weight.dtype))
        return loss / count

    @staticmethod
    def backward(ctx, grad_out):
        grad_x, grad_w = ctx.saved_tensors
        return grad_x * grad_out, grad_w * grad_out, None, None


def chunked_cross_entropy(x: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Mean cross-entropy of softmax(x @ weight[:vocab_size].T) against targets (-1 = ignored)."""
    return _LinearCrossEntropy.apply(x.reshape(-1, x.shape[-1]), weight, targets.reshape(-1), vocab_size)
