"""bench/train_gpu.py --quick runs the trainer's step on CPU and writes its JSON (the GPU run is the lead's)."""

import importlib.util
import json
import os
from train_helpers import one_torch_thread  # noqa: F401  (fixtures)

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


def test_combined_variant_merges_the_winners():
    spec = importlib.util.spec_from_file_location("train_gpu", os.path.join(REPO, "bench", "train_gpu.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    ok = lambda tps: {"status": "ok", "tokens_per_s": tps}  # noqa: E731
    results = {"variants": {"trainer-default": ok(500), "eager": ok(200), "cudnn-attention": ok(540),
                            "reduce-overhead": ok(520), "chunked-loss": ok(502), "max-autotune": ok(530),
                            "coordinate-descent": ok(510), "no-vocab-pad": {"status": "failed"}}}
    merged = bench.combine(results)
    assert merged["from"] == ["cudnn-attention", "max-autotune", "reduce-overhead", "coordinate-descent"]
    # max-autotune (530) beat reduce-overhead (520): its compile mode wins; options merge
    assert merged["attention"] == "cudnn" and merged["compile_mode"] == "max-autotune-no-cudagraphs"
    assert merged["compile_options"] == {"coordinate_descent_tuning": True}
    results["variants"]["cudnn-attention"] = ok(501)
    results["variants"]["max-autotune"] = ok(499)
    results["variants"]["coordinate-descent"] = ok(499)
    assert bench.combine(results) is None  # one winner only: nothing to combine
