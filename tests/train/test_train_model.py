"""GPT-2 exactly: sizes, initialisation, causality, vocabulary padding, the chunked loss."""

import math

import pytest
import torch

from train import losses
from train.model import GPT, GPTConfig, flops_per_token
from train_helpers import one_torch_thread  # noqa: F401  (fixtures)

GPT2_SIZES = {"gpt2": 124_439_808, "gpt2-medium": 354_823_168, "gpt2-large": 774_030_080, "gpt2-xl": 1_557_611_200}


@pytest.mark.parametrize("name", sorted(GPT2_SIZES))
def test_presets_have_gpt2s_parameter_counts(name):
    with torch.device("meta"):  # no memory: shapes only
        model = GPT(GPTConfig.preset(name, vocab_size=50257, pad_to_multiple=64))
    assert model.config.padded_vocab_size == 50304
    assert model.num_params() == GPT2_SIZES[name]
    assert model.lm_head.weight is model.transformer.wte.weight


def test_initialisation_follows_gpt2():
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=500, padded_vocab_size=512, n_layer=4, n_head=4, n_embd=128, block_size=64)
    m = GPT(cfg)
    block = m.transformer.h[0]
    assert m.transformer.wte.weight[:500].std().item() == pytest.approx(0.02, rel=0.05)
    assert block.attn.c_attn.weight.std().item() == pytest.approx(0.02, rel=0.05)
    residual = 0.02 / math.sqrt(2 * 4)
    for w in (block.attn.c_proj.weight, block.mlp.c_fc.weight, block.mlp.c_proj.weight):
        expected = residual if w is not block.mlp.c_fc.weight else 0.02
        assert w.std().item() == pytest.approx(expected, rel=0.05)
    assert block.attn.c_attn.bias.abs().sum() == 0 and block.ln_1.weight.eq(1).all() and block.ln_1.eps == 1e-5
    assert m.transformer.wte.weight[500:].abs().sum() == 0  # padding rows start at zero
    assert isinstance(m.transformer.ln_f, torch.nn.LayerNorm)


def test_attention_is_causal():
    torch.manual_seed(0)
    m = GPT(GPTConfig.preset("gpt2-tiny", vocab_size=50, block_size=16)).eval()
    x = torch.randint(0, 50, (1, 16))
    y = x.clone()
    y[0, 10:] = (y[0, 10:] + 1) % 50
    with torch.no_grad():
        a, b = m(x), m(y)
    assert torch.equal(a[0, :10], b[0, :10]) and not torch.allclose(a[0, 10:], b[0, 10:])


def test_padded_vocabulary_is_exactly_the_unpadded_model():
    torch.manual_seed(0)
    padded = GPT(GPTConfig.preset("gpt2-tiny", vocab_size=100, pad_to_multiple=64, block_size=16))
    plain = GPT(GPTConfig.preset("gpt2-tiny", vocab_size=100, block_size=16))
    state = {k: (v[:100] if k in ("transformer.wte.weight", "lm_head.weight") else v) for k, v in padded.state_dict().items()}
    plain.load_state_dict(state)
    with torch.no_grad():
        padded.transformer.wte.weight[100:] = 5.0  # even trained padding rows must not matter
    x, y = torch.randint(0, 100, (2, 16)), torch.randint(0, 100, (2, 16))
    assert padded(x).shape[-1] == 100
    assert torch.allclose(padded(x), plain(x), atol=1e-6)
    assert padded(x, y).item() == pytest.approx(plain(x, y).item(), abs=1e-6)


def test_chunked_loss_equals_standard_loss_and_gradients(monkeypatch):
    torch.manual_seed(0)
    m = GPT(GPTConfig.preset("gpt2-tiny", vocab_size=100, pad_to_multiple=64, block_size=16))
    x, y = torch.randint(0, 100, (3, 16)), torch.randint(0, 100, (3, 16))
    y[0, :5] = -1  # ignored targets
    loss = m(x, y)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in m.named_parameters()}
    m.zero_grad()
    monkeypatch.setattr(losses, "CHUNK_ELEMENTS", 100 * 7)  # 7 tokens per chunk: several chunks
    m.loss_impl = "chunked"
    chunked = m(x, y)
    chunked.backward()
    assert chunked.item() == pytest.approx(loss.item(), abs=1e-6)
    for n, p in m.named_parameters():
        assert torch.allclose(p.grad, grads[n], atol=1e-6), n


def test_flops_per_token_counts_the_weights_and_attention():
    cfg = GPTConfig.preset("gpt2", vocab_size=50257, pad_to_multiple=64)
    # nanoGPT's estimate for GPT-2 124M at T=1024: 6 * N + 12 * L * D * T, N without position embeddings
    n = 124_475_904 - 1024 * 768
    assert flops_per_token(cfg) == 6 * n + 12 * 12 * 768 * 1024
