"""`webtext eval`: detokenisers, and the benchmarks of ../shared/data/benchmarks on a tiny model."""

import json
import math
import os

import pytest
import torch

from train.evaluate import rolling_nll, run_eval, word_count
from webtext.detokenize import ptb_detokenize, wikitext_detokenize
from train.hf import export
from train.model import GPT, GPTConfig
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
