"""The shared Beam IO: sharded record output is byte-identical whatever the runner's parallelism."""

import json
import os
import types

import apache_beam as beam

from webtext import jsonl
from webtext.beam import ReadRecords, WriteRecords, WriteStats, pipeline_options, read_sharded, run_pipeline


def _write_inputs(folder, n_files=3, per_file=200):
    paths = []
    for f in range(n_files):
        path = os.path.join(folder, f"in-{f}.jsonl.zst")
        with jsonl.JsonlWriter(path) as w:
            for i in range(per_file):
                w.write({"id": f"{f:02d}{i:04d}", "text": "x" * (i % 17)})
        paths.append(path)
    return paths


def _run(files, out, mode, workers):
    cfg = types.SimpleNamespace(runner="direct", workers=workers, direct_running_mode=mode, dask_address=None, options={})

    def build(p):
        recs = p | ReadRecords(files)
        recs | WriteRecords(out, "docs", num_shards=4)
        (recs | beam.Map(lambda r: {"docs": 1, "chars": len(r["text"]), "max_chars": len(r["text"])})
         | WriteStats(os.path.join(out, "_stats.json")))

    run_pipeline(build, pipeline_options(cfg))


def test_sharded_output_is_deterministic_across_runners(tmp_path):
    files = _write_inputs(str(tmp_path))
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    _run(files, a, "in_memory", 1)
    _run(files, b, "multi_processing", 2)
    names = sorted(n for n in os.listdir(a) if n.endswith(".zst"))
    assert names == [f"docs-{i:05d}-of-00004.jsonl.zst" for i in range(4)]
    for n in names:
        assert open(os.path.join(a, n), "rb").read() == open(os.path.join(b, n), "rb").read()
    recs = list(read_sharded(a, "docs"))
    assert len(recs) == 600 and len({r["id"] for r in recs}) == 600
    stats = json.load(open(os.path.join(a, "_stats.json")))
    assert stats == {"docs": 600, "chars": sum(i % 17 for i in range(200)) * 3, "max_chars": 16}


def test_dask_runner_runs_every_sink_and_matches_direct(tmp_path):
    """Beam's own DaskRunner computes only the last sink; ours must write docs *and* stats, identically."""
    files = _write_inputs(str(tmp_path))
    a, d = str(tmp_path / "direct"), str(tmp_path / "dask")
    _run(files, a, "in_memory", 1)
    cfg = types.SimpleNamespace(runner="dask", workers=2, direct_running_mode="in_memory", dask_address=None, options={})

    def build(p):
        recs = p | ReadRecords(files)
        recs | WriteRecords(d, "docs", num_shards=4)
        (recs | beam.Map(lambda r: {"docs": 1, "chars": len(r["text"]), "max_chars": len(r["text"])})
         | WriteStats(os.path.join(d, "_stats.json")))

    run_pipeline(build, pipeline_options(cfg))
    for n in sorted(os.listdir(a)):
        assert open(os.path.join(a, n), "rb").read() == open(os.path.join(d, n), "rb").read(), n


class _SplitAndBuffer(beam.DoFn):
    """Tagged outputs plus elements emitted from finish_bundle: both are lost by Beam's own Dask runner."""

    def start_bundle(self):
        self.buffer = []

    def process(self, x):
        if x % 3 == 0:
            yield beam.pvalue.TaggedOutput("threes", x)
        else:
            yield x
        self.buffer.append(x)

    def finish_bundle(self):
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        for x in self.buffer:
            yield WindowedValue(x * 1000, 0, [GlobalWindow()])


def test_dask_runner_keeps_tags_and_finish_bundle_outputs(tmp_path):
    out = {}
    for runner in ("direct", "dask"):
        cfg = types.SimpleNamespace(runner=runner, workers=2, direct_running_mode="in_memory", dask_address=None, options={})
        folder = str(tmp_path / runner)

        def build(p):
            parts = (p | beam.Create(list(range(30)))
                     | beam.ParDo(_SplitAndBuffer()).with_outputs("threes", main="rest"))
            for name in ("rest", "threes"):
                (parts[name] | f"Wrap{name}" >> beam.Map(lambda x: {"id": f"{x:08d}"})
                 | f"Write{name}" >> WriteRecords(folder, name, num_shards=1))

        run_pipeline(build, pipeline_options(cfg))
        out[runner] = {name: sorted(int(r["id"]) for r in read_sharded(folder, name)) for name in ("rest", "threes")}
    assert out["dask"] == out["direct"]
    assert out["direct"]["threes"] == list(range(0, 30, 3))
    assert sorted(out["direct"]["rest"]) == sorted([x for x in range(30) if x % 3] + [x * 1000 for x in range(30)])
