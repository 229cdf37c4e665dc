"""bench/train_gpu.py --quick runs the trainer's step on CPU and writes its JSON (the GPU run is the lead's)."""

import importlib.util
import json
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_quick_benchmark_on_cpu(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("train_gpu", os.path.join(REPO, "bench", "train_gpu.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = str(tmp_path / "bench.json")
    assert bench.main(["--quick", "--variants", "trainer-default,chunked-loss,cudnn-attention", "--out", out]) == 0
    with open(out) as f:
        results = json.load(f)
    assert results["matmul"]["status"] == "ok" and results["matmul"]["tflops"] > 0
    for name in ("trainer-default", "chunked-loss"):
        r = results["variants"][name]
        assert r["status"] == "ok", r
        assert r["tokens_per_s"] > 0 and 0 < r["mfu"] and r["finite"]
    assert results["variants"]["cudnn-attention"]["status"] == "skipped"  # needs CUDA
    assert results["variants"]["chunked-loss"]["settings"]["loss_impl"] == "chunked"
    assert results["best"]["variant"] in ("trainer-default", "chunked-loss")
    assert "tokens/s" in capsys.readouterr().out
