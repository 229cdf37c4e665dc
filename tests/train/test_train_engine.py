"""The optimiser and schedule pieces of train/engine.py: GPT-2's recipe, checked number by number."""

import math

import pytest
import torch

from train.engine import Prepared, lr_at, make_optimizer, setup_runtime, train_step
from train.model import GPT, GPTConfig
from train_helpers import one_torch_thread  # noqa: F401  (fixtures)


def test_schedule_warms_up_linearly_then_follows_a_cosine_to_its_floor():
    kw = dict(lr=6e-4, warmup=10, decay_steps=110, min_ratio=0.1)
    assert [lr_at(s, **kw) for s in (0, 4, 9)] == pytest.approx([6e-5, 3e-4, 6e-4])
    assert lr_at(10, **kw) == pytest.approx(6e-4)  # the peak, at the start of the decay
    assert lr_at(60, **kw) == pytest.approx(6e-4 * (0.1 + 0.9 * 0.5))  # half way: the mean of peak and floor
    assert lr_at(35, **kw) == pytest.approx(6e-4 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4))))
    assert lr_at(110, **kw) == lr_at(5000, **kw) == pytest.approx(6e-5)  # then flat
    lrs = [lr_at(s, **kw) for s in range(200)]
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))  # never rises after the warm-up


def test_weight_decay_on_matrices_only():
    model = GPT(GPTConfig(vocab_size=100, padded_vocab_size=128, n_layer=2, n_head=2, n_embd=32, block_size=16))
    opt = make_optimizer(model, lr=1e-3, weight_decay=0.1, device=torch.device("cpu"))
    decayed, plain = opt.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    assert {names[id(p)] for p in decayed["params"]} == {n for n, p in model.named_parameters() if p.dim() == 2}
    assert {names[id(p)] for p in plain["params"]} == {n for n, p in model.named_parameters() if p.dim() < 2}
    assert any("ln_" in names[id(p)] for p in plain["params"]) and any(".bias" in names[id(p)] for p in plain["params"])
    # the tied embedding / output matrix is one parameter, decayed once
    assert sum(p is model.transformer.wte.weight for p in decayed["params"]) == 1


def test_gradient_clipping_bounds_the_update_and_reports_the_norm_before_it():
    torch.manual_seed(0)
    rt = setup_runtime("cpu", "fp32")
    model = GPT(GPTConfig(vocab_size=64, padded_vocab_size=64, n_layer=1, n_head=2, n_embd=16, block_size=8))
    prep = Prepared(raw=model, model=model)
    x = torch.randint(0, 64, (4, 8))
    batch = lambda: (x, torch.roll(x, 1, dims=1))  # noqa: E731

    _, free = train_step(prep, batch, 1, rt, grad_clip=0.0)  # no clipping: the true norm
    true_norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters())).item()
    assert free.item() == pytest.approx(true_norm, rel=1e-5)
    model.zero_grad()
    _, reported = train_step(prep, batch, 1, rt, grad_clip=0.01)
    clipped = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters())).item()
    assert reported.item() == pytest.approx(true_norm, rel=1e-5)  # the norm before clipping is logged
    assert clipped == pytest.approx(0.01, rel=1e-3)  # the gradients used are scaled to the limit
