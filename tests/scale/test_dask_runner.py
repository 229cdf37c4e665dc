"""webtext's Dask runner (webtext/beam_dask.py) on small pipelines: Beam's semantics (grouping, lifted
combines, side inputs, tagged outputs, errors) as the DirectRunner gives them, and the shape of the
Dask graph (partitions, fusion) that makes it fast."""

import glob
import json
import os
import subprocess
import sys
import types
import uuid

import apache_beam as beam
import pytest
from apache_beam import pvalue

from webtext import beam_dask
from webtext.beam import pipeline_options, run_pipeline


def options(runner):
    return pipeline_options(types.SimpleNamespace(runner=runner, workers=2, direct_running_mode="in_memory",
                                                  dask_address=None, options={}))


@pytest.fixture(scope="module", autouse=True)
def close_cluster():
    yield
    beam_dask.close_local_cluster()


class Sink(beam.DoFn):
    """Writes what it receives, one JSON file per bundle (results stay on the workers under Dask)."""

    def __init__(self, folder):
        self.folder = folder

    def start_bundle(self):
        self.items = []

    def process(self, x):
        self.items.append(x)

    def finish_bundle(self):
        if self.items:
            with open(os.path.join(self.folder, f"{uuid.uuid4().hex}.json"), "w") as f:
                json.dump(self.items, f)


def collected(folder):
    out = []
    for path in glob.glob(os.path.join(folder, "*.json")):
        with open(path) as f:
            out += json.load(f)
    return canon(out)


def canon(items):
    return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))


def on_both(tmp_path, build):
    """Run build(p, sink) on the DirectRunner and on Dask; {name: sorted elements} for each runner."""
    results = {}
    for runner in ("direct", "dask"):
        root = tmp_path / runner
        names = []

        def sink(pcoll, name, root=root, names=names):
            folder = root / name
            folder.mkdir(parents=True)
            names.append(name)
            pcoll | f"Sink{name}" >> beam.ParDo(Sink(str(folder)))

        run_pipeline(lambda p: build(p, sink), options(runner))
        results[runner] = {n: collected(str(root / n)) for n in names}
    assert results["dask"] == results["direct"]
    return results["dask"]


def test_grouping_and_lifted_combines_match_the_direct_runner(tmp_path):
    def build(p, sink):
        kv = p | "Pairs" >> beam.Create([(k % 7, k) for k in range(200)] + [(f"s{k % 3}", k) for k in range(30)]
                                        + [((1, "t"), 5), ((1, "t"), 6), (b"b", 1)])
        kv = kv | "Printable" >> beam.MapTuple(lambda k, v: (k.decode() + "!" if isinstance(k, bytes) else k, v))
        sink(kv | beam.GroupByKey() | beam.MapTuple(lambda k, vs: [k, sorted(vs)]), "groups")
        sink(kv | beam.CombinePerKey(sum), "sums")
        values = kv | beam.Values()
        sink(values | beam.CombineGlobally(sum), "total")
        sink(kv | beam.Keys() | beam.combiners.Count.PerElement(), "counts")
        sink(values | beam.Distinct() | beam.combiners.Count.Globally(), "distinct")
        empty = p | "Empty" >> beam.Create([])
        sink(empty | "EmptySum" >> beam.CombineGlobally(sum), "empty_sum")  # the default: one 0
        sink(empty | "EmptyList" >> beam.combiners.ToList(), "empty_list")

    out = on_both(tmp_path, build)
    assert out["total"] == [sum(range(200)) + sum(range(30)) + 12]
    assert out["empty_sum"] == [0] and out["empty_list"] == [[]]
    assert [6, list(range(6, 200, 7))] in out["groups"] and [[1, "t"], [5, 6]] in out["groups"]
    assert ["b!", 1] in out["sums"] and ["s1", sum(range(1, 30, 3))] in out["sums"]


def test_side_inputs_of_every_kind_are_computed_once(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()

    def counted(x, folder=str(calls)):
        open(os.path.join(folder, uuid.uuid4().hex), "w").close()  # one file per call, from any process
        return x

    def build(p, sink):
        nums = p | "Nums" >> beam.Create(list(range(20)))
        side = nums | "Counted" >> beam.Map(counted)
        pairs = side | "AsPairs" >> beam.Map(lambda x: (x, x * x))
        total = side | "Total" >> beam.CombineGlobally(sum)
        main = p | "Main" >> beam.Create(list(range(5)))
        sink(main | "Use" >> beam.Map(
            lambda x, t, l, d, it: [x, t, len(l), d[x], sum(it)],
            pvalue.AsSingleton(total), pvalue.AsList(side), pvalue.AsDict(pairs), pvalue.AsIter(side)), "used")

    out = on_both(tmp_path, build)
    assert out["used"] == [[x, 190, 20, x * x, 190] for x in range(5)]
    # Counted ran once per element on each runner, whatever the number of readers and tasks.
    assert len(os.listdir(calls)) == 2 * 20


def test_flatten_reshuffle_and_tagged_outputs(tmp_path):
    def split(x):
        yield beam.pvalue.TaggedOutput("odd" if x % 2 else "even", x)
        yield x

    def build(p, sink):
        nums = p | beam.Create(list(range(50)))
        parts = nums | beam.FlatMap(split).with_outputs("odd", "even", main="all")
        sink((parts.odd, parts.even, parts.odd) | beam.Flatten() | beam.Reshuffle(), "flat")
        sink(parts.all | "Spread" >> beam.Reshuffle(), "all")

    out = on_both(tmp_path, build)
    assert out["all"] == canon(range(50))
    assert out["flat"] == canon(list(range(50)) + list(range(1, 50, 2)))


def test_a_failing_dofn_names_its_step_and_the_next_pipeline_runs(tmp_path):
    def boom(x):
        if x == 3:
            raise ValueError("bad element 3")
        return x

    with pytest.raises(Exception, match=r"bad element 3 \[while running 'Boom'\]"):
        run_pipeline(lambda p: p | beam.Create(list(range(10))) | "Boom" >> beam.Map(boom), options("dask"))
    folder = tmp_path / "after"
    folder.mkdir()
    run_pipeline(lambda p: p | beam.Create([1, 2]) | beam.ParDo(Sink(str(folder))), options("dask"))
    assert collected(str(folder)) == [1, 2]


def test_windowed_grouping_is_refused_clearly():
    from apache_beam.transforms import window

    def build(p):
        (p | beam.Create([1, 2]) | beam.Map(lambda x: window.TimestampedValue((x, x), x))
         | beam.WindowInto(window.FixedWindows(10)) | beam.GroupByKey())

    with pytest.raises(NotImplementedError, match="global window only"):
        run_pipeline(build, options("dask"))


def graph_of(build, partitions):
    p = beam.Pipeline(options=options("dask"))
    build(p)
    graph, translator = beam_dask.translate(p, partitions, "test")
    return graph, translator


def test_partitions_follow_the_cluster_not_the_data():
    """Create: P partitions, or one per element before a Reshuffle (a list of files: a task each);
    GroupByKey: P; Flatten: its inputs side by side; Reshuffle of a computed collection: P."""
    def build(p):
        files = p | "Files" >> beam.Create([f"f{i}" for i in range(10)]) | "Spread" >> beam.Reshuffle()
        many = p | "Many" >> beam.Create(list(range(1000)))
        both = (files | "Len" >> beam.Map(len), many) | beam.Flatten()
        (both | "Key" >> beam.Map(lambda x: (x % 3, x)) | beam.GroupByKey()
         | "Plan" >> beam.FlatMap(lambda kv: kv[1]) | "SpreadWork" >> beam.Reshuffle())

    _, tr = graph_of(build, partitions=4)
    parts = {node.full_label: bag.npartitions for node, bag in tr.bags.items()}
    assert parts["Spread"] == 10 and parts["Many"] == 4 and parts["Flatten"] == 14
    assert parts["GroupByKey"] == 4 and parts["SpreadWork"] == 4


def test_chained_pardos_fuse_into_one_task_per_partition():
    import dask

    def build(p):
        x = p | beam.Create(list(range(100)))
        for i in range(6):
            x = x | f"Step{i}" >> beam.Map(lambda v, i=i: v + i)

    graph, _ = graph_of(build, partitions=4)
    (optimized,) = dask.optimize(graph)
    # 4 partitions x (create, 6 steps, count) fused into 4 tasks (Dask keeps an alias of each under
    # the chain's last name), and the final sum.
    tasks = [k for k, v in optimized.__dask_graph__().items() if type(v).__name__ != "Alias"]
    fused = [k for k in tasks if isinstance(k, tuple) and all(f"Step{i}" in k[0] for i in range(6))]
    assert len(fused) == 4 and len(tasks) == 5, tasks


def test_stable_hash_is_the_same_in_every_process():
    keys = ["abc", b"abc", 12345, ("train", 3), "é"]
    here = [beam_dask.stable_hash(k) for k in keys]
    code = ("import sys, json; sys.path.insert(0, %r); from webtext.beam_dask import stable_hash; "
            "print(json.dumps([stable_hash(k) for k in %r]))") % (os.getcwd(), keys)
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONHASHSEED=seed),
                             capture_output=True, text=True, check=True).stdout
        assert json.loads(out.strip().splitlines()[-1]) == here


def test_the_shuffle_groups_every_key_once_whatever_the_split():
    """Pieces split by a stable hash, joined per output partition: each key lands in exactly one
    output partition, with all its values, in input order; unhashable keys (a list; the DirectRunner
    refuses them) are grouped by their pickle."""
    parts = [[("a", 1), ("b", 2), ([1, "l"], 3)], [("a", 4), (("t", 1), 5), ([1, "l"], 6)], []]
    for n in (1, 3):
        pieces = [beam_dask._split_by_key([p], n) for p in parts]
        joined = [beam_dask._join_groups([piece[j] for piece in pieces]) for j in range(n)]
        groups = [g for out in joined for g in out]
        assert sorted(map(repr, groups)) == sorted(map(repr, [("a", [1, 4]), ("b", [2]), ([1, "l"], [3, 6]),
                                                              (("t", 1), [5])]))
        again = [beam_dask._join_groups([piece[j] for piece in pieces]) for j in range(n)]
        assert again == joined  # a rerun of a join reads the same pieces: they were not changed
