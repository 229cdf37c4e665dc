"""`webtext eval`: detokenisers, and the benchmarks of ../shared/data/benchmarks on a tiny model."""

import json
import math
import os

import pytest
import torch

from train.evaluate import lambada, load_tokenizer, rolling_nll, run_eval, word_count
from webtext.detokenize import ptb_detokenize, wikitext_detokenize
from train.hf import export
from train.model import GPT, GPTConfig
from train_helpers import pseudo_text
from train_helpers import bpe_tokenizer, one_torch_thread, text_shards  # noqa: F401  (fixtures)


def test_wikitext_detokenizer():
    raw = (' = = Early life = = \n In 1999 , the 1 @,@ 000 @-@ seat hall ( built in 1 @.@ 5 years ) '
           'hosted " The <unk> " ; it was n\'t Smith \'s . \n')
    assert wikitext_detokenize(raw) == ('== Early life ==\nIn 1999, the 1,000-seat hall (built in 1.5 years) '
                                        'hosted "The <unk>"; it wasn\'t Smith\'s.\n')


def test_ptb_detokenizer_and_word_count():
    raw = " no it was n't black monday \n the dow 's N points \n"
    assert ptb_detokenize(raw) == "no it wasn't black monday\nthe dow's N points\n"
    assert word_count(raw) == 6 + 1 + 5 + 1  # words plus one end-of-line per line


class _null:  # no autocast on CPU fp32
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_rolling_windows_score_every_token_once():
    torch.manual_seed(0)
    model = GPT(GPTConfig.preset("gpt2-tiny", vocab_size=50, block_size=16)).eval()
    ids = torch.randint(0, 50, (40,)).tolist()
    nll, n = rolling_nll(model, ids, stride=16, device="cpu", autocast=_null)
    assert n == 39
    # stride = context: disjoint windows, each scoring its own tokens; compare with a direct computation
    expected = 0.0
    for start in range(0, 39, 16):
        chunk = ids[start:start + 17]
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([chunk[:-1]])), -1)[0]
        expected -= logp.gather(1, torch.tensor(chunk[1:])[:, None]).sum().item()
    assert nll == pytest.approx(expected, rel=1e-5)
    overlapping, _ = rolling_nll(model, ids, stride=4, device="cpu", autocast=_null)
    assert math.isfinite(overlapping) and overlapping != pytest.approx(nll, rel=1e-9)  # more context, other values


def test_benchmarks_on_a_tiny_model(tmp_path, shared_data, bpe_tokenizer, text_shards):
    torch.manual_seed(0)
    cfg = GPTConfig.preset("gpt2-tiny", vocab_size=300, pad_to_multiple=64, block_size=64)
    folder = str(tmp_path / "hf")
    export(GPT(cfg).state_dict(), cfg, folder, tokenizer=bpe_tokenizer)
    results = run_eval(folder, tasks=["val", "lambada", "wikitext2", "ptb"], benchmarks=os.path.join(shared_data, "benchmarks"),
                       shard_dir=text_shards, device="cpu", max_examples=20, max_tokens=600, note=lambda m: None)
    tasks = results["tasks"]
    assert tasks["lambada"]["examples"] == 20 and 0 <= tasks["lambada"]["accuracy"] <= 1
    uniform = 300  # an untrained model is close to uniform over its vocabulary
    assert uniform / 3 < tasks["val"]["perplexity"] < uniform * 3
    for name in ("wikitext2", "ptb"):
        r = tasks[name]
        assert r["truncated"] and 0 < r["tokens"] <= 600 and r["words"] > 0
        assert uniform / 3 < r["token_perplexity"] < uniform * 3
        assert r["word_perplexity"] == pytest.approx(math.exp(math.log(r["token_perplexity"]) * r["tokens"] / r["words"]))
    json.dumps(results)  # what `webtext eval --out` writes


def reference_lambada(model, tok, passages):
    """LAMBADA scored one passage at a time, without padding or index arithmetic: the passage's tokens go
    through the model's own training loss with every target but the last word's masked out (-1), so the
    loss's shift of one position aligns each target token with the logits that predict it."""
    C = model.config.block_size
    correct, nll = 0, 0.0
    for text in passages:
        context, word = text.rsplit(" ", 1)
        ctx = tok.encode(context, add_special_tokens=False).ids
        tgt = tok.encode(" " + word, add_special_tokens=False).ids
        seq = torch.tensor((ctx + tgt)[-(C + 1):])  # at most the model's context of inputs, as evaluate.py reads
        x, y = seq[None, :-1], seq[None, 1:].clone()
        y[0, :len(y[0]) - len(tgt)] = -1  # score exactly the target word's tokens
        with torch.no_grad():
            nll += model(x, y).item() * len(tgt)  # the mean over the target tokens, times their count
            scored = y[0] != -1
            assert int(scored.sum()) == len(tgt) and y[0, scored].tolist() == tgt
            correct += bool((model(x)[0, scored].argmax(-1) == y[0, scored]).all())
    return correct / len(passages), math.exp(nll / len(passages))


def test_lambada_scores_exactly_the_last_words_tokens(tmp_path, bpe_tokenizer):
    tok = load_tokenizer(bpe_tokenizer)
    words = pseudo_text(400, seed=7).replace(".", "").split()
    passages = [" ".join(words[i * 12:i * 12 + 6 + i]) for i in range(8)]  # 6 to 13 words, last word the target
    # learned passages with another last word: some of its tokens are the greedy choice, not all
    # (with these weights: " xin" the first, " sin" all but the first, " whip" the last)
    passages += [passages[2].rsplit(" ", 1)[0] + " xin", passages[2].rsplit(" ", 1)[0] + " sin",
                 passages[3].rsplit(" ", 1)[0] + " whip"]
    passages.append(" ".join(words[100:160]))  # longer than the context: its start is cut off
    assert any(len(tok.encode(" " + p.rsplit(" ", 1)[1]).ids) > 1 for p in passages)  # multi-token targets too
    assert len(tok.encode(passages[-1]).ids) > 33
    path = tmp_path / "lambada_test.jsonl"
    path.write_text("".join(json.dumps({"text": p}) + "\n" for p in passages) + "\n")

    torch.manual_seed(0)
    cfg = GPTConfig.preset("gpt2-tiny", vocab_size=tok.get_vocab_size(), pad_to_multiple=64, block_size=32)
    model = GPT(cfg)
    # Memorise some passages so that accuracy is neither 0 nor 1 and the greedy check is tested both ways.
    learned = [tok.encode(p).ids for p in passages[:4]]
    width = max(len(ids) for ids in learned)
    assert width <= 33
    batch = torch.tensor([ids + [-1] * (width - len(ids)) for ids in learned])  # -1: no target there
    opt = torch.optim.AdamW(model.parameters(), lr=2e-2)
    for _ in range(150):
        loss = model(batch[:, :-1].clamp(min=0), batch[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()

    acc, ppl = reference_lambada(model, tok, passages)
    assert 0.2 < acc < 0.8, acc
    result = lambada(model, tok, str(path), device="cpu", autocast=_null, batch_size=4)
    assert result["examples"] == len(passages)
    assert result["accuracy"] == acc
    assert result["perplexity"] == pytest.approx(ppl, rel=1e-5)
    first = lambada(model, tok, str(path), device="cpu", autocast=_null, max_examples=3)
    acc3, ppl3 = reference_lambada(model, tok, passages[:3])
    assert first["examples"] == 3 and first["accuracy"] == acc3 and first["perplexity"] == pytest.approx(ppl3, rel=1e-5)
