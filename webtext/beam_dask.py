"""Beam pipelines on a Dask distributed cluster: webtext's own translation of Beam onto dask.bag.

Beam 2.77 ships a DaskRunner (apache_beam.runners.dask). Our pipelines need what it gets wrong: it
computes only the last sink, hands every output of a multi-output ParDo to every consumer, loses what
a DoFn emits in finish_bundle, runs a Create of a few dozen files as one task, and computes a side
input again inside every task that reads it. It is also slow: every Flatten adds up its inputs'
partitions, every GroupByKey keeps them and shuffles them with dask.bag's multi-stage task shuffle,
so the dedupe stage on 143 documents became 3,704 tasks and took 14 s of compute after 6 s of
start-up (3.6 s in all here, 634 tasks). This module translates the pipeline itself:

- partitions are Beam bundles; P ("shuffle partitions") is the cluster's worker threads, or
  `--dask_npartitions`.
- Create: its values in min(len, P) partitions; one partition per element when a Reshuffle follows
  (a list of files to spread: one task per file).
- Reshuffle: elements dealt round-robin over P partitions.
- GroupByKey: one hash shuffle into P partitions. Each input partition (or run of them, when there
  are more than P) is split by a stable hash of the key (blake2b, the same in every process); P join
  tasks group the pieces. Global window only: this runner runs batch pipelines.
- CombinePerKey (and so CombineGlobally): lifted, as the DirectRunner does (Beam's
  LiftedCombinePerKey): each bundle pre-combines per key, only accumulators cross the shuffle.
- Flatten: the partitions side by side, no data moved.
- ParDo: one task per partition; Dask fuses a chain of them into one task. The pickled DoFn rides in
  its tasks (a few KB; a big one becomes a graph node of its own), is unpickled and set up once per
  worker thread, reused bundle after bundle, and torn down when the pipeline ends. Outputs keep their
  tags; finish_bundle outputs are kept.
- Side inputs: one graph node per side input, computed once, pickled there and unpickled once per
  worker process.
- Partitions move between workers pickled whole (see _Part), not element by element.
- Every leaf of the pipeline is computed; results stay on the workers (only a count comes back).

Without `--dask_client_address` (or `--dask_scheduler_file`) webtext starts a
`dask.distributed.LocalCluster` of `--dask_local_workers` worker processes (one thread each), keeps it
for the later pipelines of the same process (`webtext run` runs clean, dedupe and shard on one
cluster) and closes it when the process exits, or when a pipeline fails.

Dask's own INFO logs are turned down to warnings (set DASK_LOGGING__DISTRIBUTED=info to see them).
See docs/scaling.md.
"""

from __future__ import annotations

import asyncio
import atexit
import hashlib
import logging
import operator
import os
import pickle
import re
import threading
import time
import uuid

import apache_beam as beam
from apache_beam import pvalue, typehints
from apache_beam.internal import pickler
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pipeline import PipelineVisitor, PTransformOverride
from apache_beam.runners.dask.dask_runner import DaskOptions  # the connection options' flags
from apache_beam.runners.common import DoFnRunner, Receiver
from apache_beam.runners.runner import PipelineResult, PipelineRunner, PipelineState
from apache_beam.transforms.sideinputs import SideInputMap
from apache_beam.transforms.window import GlobalWindow, GlobalWindows
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

# A Create followed by a Reshuffle gets one partition per element up to this many elements.
MAX_CREATE_PARTITIONS = 4096
# A pickled DoFn up to this size rides inside each of its tasks, so Dask can fuse a chain of ParDos
# into one task; a bigger one (none of webtext's: the largest is a few KB) becomes a graph node.
INLINE_SPEC_BYTES = 64 * 1024
_LOG_ENV = "DASK_LOGGING__DISTRIBUTED"


class WebtextDaskOptions(PipelineOptions):
    """Options of this runner; the connection options are Beam's DaskOptions (dask_client_address,
    dask_scheduler_file, dask_connection_timeout, dask_client_name, dask_connection_limit,
    dask_npartitions), read from the same flags."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--dask_local_workers", type=int, default=0,
                            help="worker processes of the local Dask cluster started when no "
                                 "--dask_client_address is given (0: all cores)")


def _dask_options(options) -> dict:
    return options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)


# ---------------------------------------------------------------------------------------------
# Primitives the pipeline is rewritten into before translation


class _Create(beam.PTransform):
    """beam.Create with its values at hand (Beam expands Create into Impulse + a decoding ParDo)."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def expand(self, pbegin):
        return pvalue.PCollection(pbegin.pipeline, is_bounded=True)

    def get_windowing(self, inputs):
        return beam.Windowing(GlobalWindows())


class _Reshuffle(beam.PTransform):
    def expand(self, pcoll):
        return pvalue.PCollection.from_(pcoll)


K = typehints.TypeVariable("K")
V = typehints.TypeVariable("V")


@typehints.with_input_types(typehints.KV[K, V])
@typehints.with_output_types(typehints.KV[K, typehints.Iterable[V]])
class _GroupByKey(beam.PTransform):
    """GroupByKey in the global window, as one shuffle (no window reification around it)."""

    def expand(self, pcoll):
        return pvalue.PCollection.from_(pcoll)

    def infer_output_type(self, input_type):
        key_type, value_type = typehints.trivial_inference.key_value_types(input_type)
        return typehints.KV[key_type, typehints.Iterable[value_type]]


class _Replace(PTransformOverride):
    """Replace every transform of exactly class `cls` by `make(applied_transform)`."""

    def __init__(self, cls, make):
        self.cls, self.make = cls, make

    def matches(self, applied):
        return applied.transform.__class__ is self.cls

    def get_replacement_transform_for_applied_ptransform(self, applied):
        return self.make(applied)


class _LiftCombine(PTransformOverride):
    """CombinePerKey -> per-bundle partial combine, shuffle of accumulators, final merge."""

    def matches(self, applied):
        return isinstance(applied.transform, beam.CombinePerKey) and applied.inputs[0].windowing.is_default()

    def get_replacement_transform_for_applied_ptransform(self, applied):
        from apache_beam.transforms.combiners import LiftedCombinePerKey

        t = applied.transform
        try:
            return LiftedCombinePerKey(t.fn, t.args, t.kwargs)
        except NotImplementedError:  # more side inputs than Beam's lifting packs: combine unlifted
            return t


def _check_global_window(applied):
    if not applied.inputs[0].windowing.is_default():
        raise NotImplementedError(
            f"{applied.full_label}: webtext's Dask runner groups in the global window only (batch "
            f"pipelines); use the DirectRunner or a portable runner for windowed pipelines")
    return _GroupByKey()


def _overrides() -> list:
    # Combine first: its lifted form contains a GroupByKey, which the later override then replaces.
    return [_LiftCombine(),
            _Replace(beam.Create, lambda a: _Create(a.transform.values)),
            _Replace(beam.Reshuffle, lambda a: _Reshuffle()),
            _Replace(beam.GroupByKey, _check_global_window)]


# ---------------------------------------------------------------------------------------------
# What runs on the workers


# Every element lives in the global window at the start of time (batch); copies of one template are
# cheaper than building each WindowedValue from a Timestamp.
_TEMPLATE = WindowedValue(None, MIN_TIMESTAMP, (GlobalWindow(),))


def _windowed(value):
    return _TEMPLATE.with_value(value)


class _Collect(Receiver):
    """Collects the outputs of a DoFn with a single output."""

    def __init__(self, owner):
        self.owner = owner

    def receive(self, windowed_value):
        self.owner.out.append(windowed_value.value)


class _CollectTagged(Receiver):
    """Collects one output of a multi-output DoFn as (tag, value)."""

    def __init__(self, owner, tag):
        self.owner, self.tag = owner, tag

    def receive(self, windowed_value):
        self.owner.out.append((self.tag, windowed_value.value))


class _Drop(Receiver):
    def receive(self, windowed_value):
        pass


class _Receivers(dict):
    """Receivers of the declared outputs; an output nobody declared is dropped (as the DirectRunner)."""

    def __missing__(self, tag):
        return _Drop()


class _SideInput:
    """A side input's elements (computed once, upstream in the graph) as the windowed values
    SideInputMap reads."""

    def __init__(self, values):
        self.values = values

    def __iter__(self):
        return (_windowed(v) for v in self.values)


def _dumps(obj) -> bytes:
    try:
        data = pickle.dumps(obj, protocol=4)
        if b"__main__" not in data:
            return data
        # pickle refers to classes and functions of a script's __main__ by name, which a worker cannot
        # import: cloudpickle sends them by value (as distributed's own serialiser does)
    except (pickle.PicklingError, TypeError, AttributeError):  # e.g. a lambda among the elements
        pass
    import cloudpickle

    return cloudpickle.dumps(obj, protocol=4)


class _Part(list):
    """A partition's elements. Not a plain list, so that Dask pickles it whole when it moves between
    workers: a plain list or dict is serialised element by element (measured: a dict of 200,000
    entries, 17 MB pickled, took 6 s to move between two local workers, against 0.6 s pickled and
    unpickled whole). Pickled with protocol 4: numpy arrays travel in band and arrive in freshly
    allocated, aligned memory."""

    def __reduce__(self):
        return (_loads_part, (_dumps(list(self)),))


class _Groups(dict):
    """One shuffle bucket, {key: [key, values]}; moves between workers as _Part does."""

    def __reduce__(self):
        return (_loads_groups, (_dumps(dict(self)),))


def _loads_part(blob: bytes) -> _Part:
    return _Part(pickle.loads(blob))


def _loads_groups(blob: bytes) -> _Groups:
    return _Groups(pickle.loads(blob))


class _Bundles:
    """One DoFn in one worker thread: unpickled and set up once, then run bundle after bundle."""

    def __init__(self, spec: bytes, side_values):
        fn, args, kwargs, windowing, side_meta, label, tags = pickler.loads(spec)
        self.out = None
        if len(tags) > 1:
            receivers = _Receivers({tag: _CollectTagged(self, tag) for tag in tags})
        else:
            receivers = _Receivers({tag: _Collect(self) for tag in tags})
        sides = [SideInputMap(view, view_options, _SideInput(values))
                 for (view, view_options), values in zip(side_meta, side_values)]
        self.runner = DoFnRunner(fn, args, kwargs, sides, windowing, receivers, step_name=label)
        self.runner.setup()

    def run(self, items) -> list:
        self.out = out = _Part()
        self.runner.start()
        for item in items:
            self.runner.process(_windowed(item))
        self.runner.finish()
        self.out = None
        return out

    def teardown(self):
        self.runner.teardown()


_BUNDLES: dict = {}  # (spec key, thread id) -> _Bundles, in each worker process
_BUNDLES_LOCK = threading.Lock()


_SIDES: dict = {}  # side input name -> its elements, unpickled once per worker process


def _side_blob(parts) -> bytes:
    """A side input's elements, pickled where they were computed. Pickle protocol 4 keeps numpy
    arrays in band, so the reader's copy is freshly allocated: arrays that Dask deserialises in place
    can sit at unaligned addresses, where numpy runs several times slower (measured: the dedupe
    contamination scan, 2.8 s against 0.8 s per task, on the worker that received the index)."""
    import cloudpickle

    return cloudpickle.dumps(_concat(parts), protocol=4)


def _side_values(name: str, blob: bytes) -> list:
    values = _SIDES.get(name)
    if values is None:
        values = pickle.loads(blob)
        with _BUNDLES_LOCK:
            values = _SIDES.setdefault(name, values)
    return values


def _run_bundle(items, cache_id: str, spec: bytes, side_names: tuple, *side_blobs) -> list:
    key = (cache_id, threading.get_ident())
    bundles = _BUNDLES.get(key)
    if bundles is None:
        bundles = _Bundles(spec, [_side_values(n, b) for n, b in zip(side_names, side_blobs)])
        with _BUNDLES_LOCK:
            _BUNDLES[key] = bundles
    try:
        return bundles.run(items)
    except BaseException:
        # A DoFn that failed mid-bundle is not reused (Beam's contract): a retry starts afresh.
        with _BUNDLES_LOCK:
            _BUNDLES.pop(key, None)
        try:
            bundles.teardown()
        except Exception:  # noqa: BLE001 - the bundle's own error is the one to report
            pass
        raise


def _teardown_run(run_id: str) -> int:
    """Tear down the DoFns of one pipeline run in this worker (called on every worker at the end)."""
    prefix = f"webtext-dofn-{run_id}-"
    with _BUNDLES_LOCK:
        keys = [k for k in _BUNDLES if k[0].startswith(prefix)]
        done = [_BUNDLES.pop(k) for k in keys]
        for name in [n for n in _SIDES if n.startswith(f"webtext-side-{run_id}-")]:
            del _SIDES[name]
    for bundles in done:
        try:
            bundles.teardown()
        except Exception:  # noqa: BLE001 - teardown is best effort, as in Beam
            logging.getLogger(__name__).warning("teardown of a DoFn failed", exc_info=True)
    return len(done)


def _select(items, tag) -> list:
    return _Part(v for t, v in items if t == tag)


def _concat(parts) -> list:
    return _Part(x for part in parts for x in part)


def _count(items) -> list:
    return [sum(1 for _ in items)]


def _total(counts) -> int:
    return sum(c for part in counts for c in part)


def stable_hash(key) -> int:
    """A hash of a key that is the same in every process (Python's hash of a str is salted)."""
    if isinstance(key, str):
        data = b"s" + key.encode("utf-8", "surrogatepass")
    elif isinstance(key, bytes):
        data = b"b" + key
    else:
        data = b"p" + pickle.dumps(key, protocol=4)
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _hashable(key):
    try:
        hash(key)
        return key
    except TypeError:  # e.g. a list: grouped by its pickle
        return ("\0unhashable", pickle.dumps(key, protocol=4))


def _split_by_key(parts, n: int) -> list:
    """Input partitions -> n buckets, each {key: [key, values]}, by a stable hash of the key."""
    buckets: list = [_Groups() for _ in range(n)]
    bucket = buckets[0]
    for part in parts:
        for key, value in part:
            if n > 1:
                bucket = buckets[stable_hash(key) % n]
            try:
                bucket[key][1].append(value)
            except KeyError:
                bucket[key] = [key, [value]]
            except TypeError:  # an unhashable key (a list...): grouped by its pickle
                hk = _hashable(key)
                if hk in bucket:
                    bucket[hk][1].append(value)
                else:
                    bucket[hk] = [key, [value]]
    return buckets


def _join_groups(pieces) -> list:
    # The pieces are other tasks' results, kept in the worker's memory and read again if this task
    # is rerun: they are copied, never extended in place.
    out: dict = {}
    for piece in pieces:
        for hk, (key, values) in piece.items():
            entry = out.get(hk)
            if entry is None:
                out[hk] = [key, list(values)]
            else:
                entry[1].extend(values)
    return _Part((key, values) for key, values in out.values())


def _split_round_robin(parts, n: int, start: int) -> list:
    buckets: list = [_Part() for _ in range(n)]
    i = start
    for part in parts:
        for x in part:
            buckets[i % n].append(x)
            i += 1
    return buckets


# ---------------------------------------------------------------------------------------------
# Translation: applied transforms -> dask bags


def _map(bag, token: str, func, *args, deps=()):
    """A task per partition: func(partition, *args). (Not Bag.map_partitions: handed a dask
    collection as an argument, it embeds a renamed copy of that collection's whole graph, so a side
    input's upstream steps would run again for every reader.)"""
    import dask.bag as db
    from dask.highlevelgraph import HighLevelGraph

    name = f"{token}-{uuid.uuid4().hex[:12]}"
    layer = {(name, i): (func, (bag.name, i), *args) for i in range(bag.npartitions)}
    return db.Bag(HighLevelGraph.from_collections(name, layer, dependencies=[bag, *deps]), name, bag.npartitions)


def _concat_bags(bags, label: str):
    import dask.bag as db
    from dask.highlevelgraph import HighLevelGraph

    name = f"{_name(label)}-{uuid.uuid4().hex[:12]}"
    parts = [(b.name, i) for b in bags for i in range(b.npartitions)]
    layer = {(name, j): (_identity, part) for j, part in enumerate(parts)}
    return db.Bag(HighLevelGraph.from_collections(name, layer, dependencies=bags), name, len(parts))


def _identity(x):
    return x


def _name(label: str) -> str:
    """A transform label as a readable part of Dask task names."""
    return re.sub(r"[^\w/.()-]+", "_", label)[:80] or "step"


class _Translator(PipelineVisitor):
    def __init__(self, partitions: int, run_id: str, partition_size=None):
        self.partitions, self.run_id, self.partition_size = max(1, partitions), run_id, partition_size
        self.bags: dict = {}  # AppliedPTransform -> Bag of everything it emitted
        self.tagged: set = set()  # transforms whose bag holds (tag, value) pairs
        self.creates: dict = {}  # _Create transforms -> their values
        self.consumed: set = set()
        self.selected: dict = {}  # (multi-output transform, tag) -> Bag of that output
        self.specs = 0
        self.side_count = 0

    # -- helpers ----------------------------------------------------------------------------

    def _uid(self, what: str) -> str:
        return f"{what}-{uuid.uuid4().hex[:12]}"

    def bag_of(self, pcoll):
        producer = pcoll.producer
        self.consumed.add(producer)
        bag = self.bags[producer]
        if producer in self.tagged:
            key = (producer, pcoll.tag)
            if key not in self.selected:  # one selection per output, however many read it
                self.selected[key] = _map(bag, f"{_name(producer.full_label)}[{pcoll.tag}]", _select, pcoll.tag)
            return self.selected[key]
        return bag

    def _literal_bag(self, chunks: list, label: str):
        import dask.bag as db
        from dask.core import quote
        from dask.highlevelgraph import HighLevelGraph

        name = self._uid(_name(label))
        chunks = chunks or [[]]
        layer = {(name, i): quote(list(chunk)) for i, chunk in enumerate(chunks)}
        return db.Bag(HighLevelGraph.from_collections(name, layer, dependencies=[]), name, len(chunks))

    def _item(self, name: str, task, deps):
        import dask.bag as db
        from dask.highlevelgraph import HighLevelGraph

        return db.Item(HighLevelGraph.from_collections(name, {name: task}, dependencies=deps), name)

    def _shuffle(self, bag, label: str, by_key: bool):
        """bag -> P partitions: grouped by key, or dealt round-robin."""
        import dask.bag as db
        from dask.highlevelgraph import HighLevelGraph

        p, n = self.partitions, bag.npartitions
        per_split = -(-n // p)  # more inputs than P: each split task takes a run of them
        groups = [list(range(i, min(n, i + per_split))) for i in range(0, n, per_split)]
        base = self._uid(_name(label))
        split, get, join = f"{base}-split", f"{base}-get", f"{base}-join"
        layer: dict = {}
        for s, group in enumerate(groups):
            inputs = [(bag.name, i) for i in group]
            layer[(split, s)] = (_split_by_key, inputs, p) if by_key else (_split_round_robin, inputs, p, s)
            for j in range(p):
                layer[(get, s, j)] = (operator.getitem, (split, s), j)
        merge = _join_groups if by_key else _concat
        for j in range(p):
            layer[(join, j)] = (merge, [(get, s, j) for s in range(len(groups))])
        return db.Bag(HighLevelGraph.from_collections(join, layer, dependencies=[bag]), join, p)

    def _create_chunks(self, values: list, per_element: bool) -> list:
        if per_element and len(values) <= MAX_CREATE_PARTITIONS:
            return [[v] for v in values]
        n = MAX_CREATE_PARTITIONS if per_element else self.partitions
        size = self.partition_size or max(1, -(-len(values) // n))
        return [values[i:i + size] for i in range(0, len(values), size)]

    # -- the visitor ------------------------------------------------------------------------

    def visit_transform(self, node):
        t = node.transform
        if not any(o.producer is node for o in node.outputs.values()):
            return  # produces nothing (a sink's PDone, a composite returning its input)
        label = node.full_label
        if isinstance(t, _Create):
            values = list(t.values)
            self.creates[node] = values
            bag = self._literal_bag(self._create_chunks(values, per_element=False), label)
        elif isinstance(t, beam.Impulse):
            bag = self._literal_bag([[b""]], label)
        elif isinstance(t, _Reshuffle):
            source = node.inputs[0].producer
            if source in self.creates and source not in self.tagged:
                # A list of work items: one partition per item (Beam's idiom for "spread these").
                self.consumed.add(source)
                bag = self._literal_bag(self._create_chunks(self.creates[source], per_element=True), label)
            else:
                bag = self._shuffle(self.bag_of(node.inputs[0]), label, by_key=False)
        elif isinstance(t, _GroupByKey):
            bag = self._shuffle(self.bag_of(node.inputs[0]), label, by_key=True)
        elif isinstance(t, beam.Flatten):
            inputs = [self.bag_of(i) for i in node.inputs]
            bag = _concat_bags(inputs, label) if inputs else self._literal_bag([[]], label)
        elif isinstance(t, beam.ParDo):
            bag = self._pardo(node)
        else:
            raise NotImplementedError(f"{label}: {type(t).__name__} is not supported by webtext's Dask runner")
        self.bags[node] = bag

    def _pardo(self, node):
        t = node.transform
        label = node.full_label
        tags = list(node.outputs)
        if len(tags) > 1:
            self.tagged.add(node)
        main = self.bag_of(node.inputs[0])
        sides = []
        side_meta = []
        for si in node.side_inputs:
            source = self.bag_of(si.pvalue)
            name = f"webtext-side-{self.run_id}-{self.side_count}"
            self.side_count += 1
            sides.append(self._item(name, (_side_blob, [(source.name, i) for i in range(source.npartitions)]),
                                    [source]))
            side_meta.append((type(si), si._view_options()))
        spec = pickler.dumps((t.fn, t.args, t.kwargs, node.inputs[0].windowing, side_meta, label, tags))
        spec_key = f"webtext-dofn-{self.run_id}-{self.specs}"
        self.specs += 1
        deps = list(sides)
        if len(spec) > INLINE_SPEC_BYTES:
            # A big DoFn travels once per worker as a graph node, at the price of no fusion
            # (Dask fuses only tasks with one dependency).
            deps.append(self._item(spec_key, spec, []))
            spec = spec_key
        # Args that name a graph key (a big spec, the side inputs) are replaced by its value in the
        # task; the ids of the caches must not be keys, hence the suffix.
        names = tuple(si.key + "#" for si in sides)
        return _map(main, _name(label), _run_bundle, spec_key + "#", spec, names, *(si.key for si in sides),
                    deps=deps)

    def leaves(self) -> list:
        return [bag for node, bag in self.bags.items() if node not in self.consumed]


def translate(pipeline, partitions: int, run_id: str, partition_size=None):
    """The pipeline as one dask Item that computes every leaf (its value: the leaves' element count)."""
    from dask.highlevelgraph import HighLevelGraph
    import dask.bag as db

    pipeline.replace_all(_overrides())
    tr = _Translator(partitions, run_id, partition_size)
    pipeline.visit(tr)
    counts = [_map(bag, "done", _count) for bag in tr.leaves()]
    name = f"webtext-pipeline-{run_id}"
    task = (_total, [(c.name, i) for c in counts for i in range(c.npartitions)])
    return db.Item(HighLevelGraph.from_collections(name, {name: task}, dependencies=counts), name), tr


# ---------------------------------------------------------------------------------------------
# The local cluster and the runner


def quiet_dask_logs() -> None:
    """Dask's INFO lines (workers starting, clients connecting, comms closing) down to warnings, here
    and in the worker processes started from here, unless DASK_LOGGING__DISTRIBUTED says otherwise."""
    if _LOG_ENV in os.environ:
        return
    os.environ[_LOG_ENV] = "warning"
    logging.getLogger("distributed").setLevel(logging.WARNING)


_LOCAL: dict = {"cluster": None, "workers": 0}
_LOCAL_LOCK = threading.Lock()


def local_cluster(workers: int):
    """The process's local Dask cluster of `workers` processes (started on first use, then reused)."""
    import dask.distributed as ddist

    with _LOCAL_LOCK:
        cluster = _LOCAL["cluster"]
        if cluster is not None and (_LOCAL["workers"] != workers or cluster.status.name != "running"):
            _close_cluster(cluster)
            cluster = _LOCAL["cluster"] = None
        if cluster is None:
            import dask

            quiet_dask_logs()
            # Dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, to hand freed memory
            # back to the OS at once. Setting it also turns off glibc's adaptive mmap threshold, so
            # every numpy temporary of more than 128 KiB (MinHash, n-gram hashing) is mmap'ed and
            # unmapped afresh: measured, the dedupe stage on one worker took 15-20% longer. A value
            # set in the environment still wins.
            # children_stderr: the workers outlive this pipeline, so they must not inherit the pipe
            # that filters its stderr (webtext/quiet.py).
            from webtext.quiet import children_stderr

            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
                    children_stderr():
                cluster = ddist.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.WARNING)
            if not _LOCAL.get("atexit"):
                atexit.register(close_local_cluster)
                _LOCAL["atexit"] = True
            _LOCAL.update(cluster=cluster, workers=workers)
        return cluster


def _close_cluster(cluster) -> None:
    try:
        cluster.close(timeout=30)
    except Exception:  # noqa: BLE001 - closing is best effort (workers may be gone already)
        logging.getLogger(__name__).debug("closing the local Dask cluster failed", exc_info=True)


def close_local_cluster() -> None:
    """Stop the local cluster this process started, if any (also done at exit)."""
    with _LOCAL_LOCK:
        cluster, _LOCAL["cluster"] = _LOCAL["cluster"], None
    if cluster is not None:
        _close_cluster(cluster)


class DaskPipelineResult(PipelineResult):
    def __init__(self, client, future, run_id: str, local: bool, timings: dict):
        super().__init__(PipelineState.RUNNING)
        self.client, self.future, self.run_id, self.local = client, future, run_id, local
        # seconds: cluster (start or connect), translate (with Dask's graph optimisation), submit,
        # compute (submission to the last task); and the partitions P and the tasks of the graph
        self.timings = timings
        self.submitted = time.perf_counter()

    def wait_until_finish(self, duration=None):
        if self._state != PipelineState.RUNNING:
            return self._state
        failed = True
        try:
            self.future.result(timeout=None if duration is None else duration / 1000)
            self._state = PipelineState.DONE
            failed = False
        except (TimeoutError, asyncio.TimeoutError):  # distinct classes before Python 3.11
            if duration is not None and not self.future.done():
                failed = None  # still running: Beam's contract is to return the state, not to stop
                return self._state
            self._state = PipelineState.FAILED
            raise
        except BaseException:
            self._state = PipelineState.FAILED
            raise
        finally:
            if failed is not None:
                self.timings["compute"] = round(time.perf_counter() - self.submitted, 3)
                self._finish(failed)
        return self._state

    def _finish(self, failed: bool) -> None:
        try:
            if failed:
                self.client.cancel([self.future], force=True)
            self.client.run(_teardown_run, self.run_id, on_error="ignore")
        except Exception:  # noqa: BLE001 - workers may be gone; the pipeline's outcome stands
            pass
        finally:
            self.client.close()
            if failed and self.local:
                close_local_cluster()  # stop tasks still running; the next pipeline starts afresh

    def cancel(self):
        self._finish(failed=True)
        self._state = PipelineState.CANCELLED
        return self._state

    def metrics(self):
        raise NotImplementedError("webtext's Dask runner collects no Beam metrics")


class WebtextDaskRunner(PipelineRunner):
    """Runs a Beam pipeline on a Dask distributed cluster (see the module docstring)."""

    last_result = None  # the latest result in this process (bench/scale.py reads its timings)

    @staticmethod
    def is_fnapi_compatible():
        return False  # translate the Python transform graph, not the portable protos

    def run_pipeline(self, pipeline, options):
        import dask
        import dask.distributed as ddist

        timings = {}
        t0 = time.perf_counter()
        dask_opts = _dask_options(options)
        partitions = dask_opts.pop("npartitions", None)
        partition_size = dask_opts.pop("partition_size", None)
        local = not dask_opts.get("address") and not dask_opts.get("scheduler_file")
        quiet_dask_logs()
        if local:
            workers = options.view_as(WebtextDaskOptions).dask_local_workers or os.cpu_count() or 1
            client = ddist.Client(local_cluster(workers), set_as_default=False)
        else:
            client = ddist.Client(set_as_default=False, **dask_opts)
        timings["cluster"] = round(time.perf_counter() - t0, 3)
        try:
            t1 = time.perf_counter()
            if not partitions:
                partitions = sum(client.nthreads().values()) or 1
            run_id = uuid.uuid4().hex[:12]
            graph, tr = translate(pipeline, partitions, run_id, partition_size)
            (graph,) = dask.optimize(graph)  # cull and fuse chains of tasks into one
            timings["translate"] = round(time.perf_counter() - t1, 3)
            timings["tasks"] = len(graph.__dask_graph__())
            t2 = time.perf_counter()
            future = client.compute(graph, optimize_graph=False)
            timings["submit"] = round(time.perf_counter() - t2, 3)
            timings["partitions"] = partitions
        except BaseException:
            client.close()
            raise
        result = DaskPipelineResult(client, future, run_id, local, timings)
        WebtextDaskRunner.last_result = result
        return result
