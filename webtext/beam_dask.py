"""Beam's Dask runner with five faults fixed, and an optional local cluster.

Beam's DaskRunner (apache_beam.runners.dask, 2.77) translates each transform into a dask.Bag. As
shipped it gets five things wrong that our pipelines depend on; this subclass keeps Beam's
translation of GroupByKey and Flatten and replaces the rest of the plumbing:

1. It computes only the bag of the *last* transform visited, so a pipeline with several sinks
   (documents, rejects, statistics) silently skips all but one. We compute every leaf.
2. Every consumer of a multi-output ParDo receives *all* its outputs: the tag of the consumed
   PCollection is ignored. We select the consumed tag.
3. Elements a DoFn emits in `finish_bundle` are lost (results are collected before it runs).
   Our bundle function collects after finish_bundle.
4. `Create` puts up to 128 elements in one partition, and Reshuffle is a no-op, so a Create of a
   few dozen file names runs as one task on one worker. Small Creates get one partition per element.
5. A side input is computed again inside every task that reads it (a nested compute of its whole
   bag per partition). Ours is one node of the graph, computed once, that the readers depend on.

Without `--dask_client_address` it starts a `dask.distributed.LocalCluster` of
`--dask_local_workers` worker processes for the pipeline and closes it when the pipeline ends.
"""

from __future__ import annotations

import math
import os

from apache_beam import DoFn, TaggedOutput, pvalue
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pipeline import PipelineVisitor
from apache_beam.runners.common import DoFnContext, DoFnInvoker, DoFnSignature, _OutputHandler
from apache_beam.runners.dask import transform_evaluator as te
from apache_beam.runners.dask.dask_runner import DaskOptions, DaskRunner, DaskRunnerResult
from apache_beam.runners.dask.overrides import _Create, dask_overrides
from apache_beam.transforms.sideinputs import SideInputMap

# Creates up to this size get one partition per element (file lists, shard ids); larger ones are
# split into about this many partitions.
SMALL_CREATE = 4096


class LocalClusterOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--dask_local_workers", type=int, default=0,
                            help="worker processes of the local Dask cluster started when no "
                                 "--dask_client_address is given (0: all cores)")


class _WindowedValues:
    """A side input's materialised elements, iterated as the windowed values SideInputMap expects."""

    def __init__(self, values, window_fn):
        self.values, self.window_fn = values, window_fn

    def __iter__(self):
        for v in self.values:
            yield te.get_windowed_value(v, self.window_fn)


def _concat(*partitions):
    return [x for part in partitions for x in part]


def _run_bundle(items, invoker_args, invoker_kwargs, receivers, side_meta, *side_values):
    """Run one DoFn over one Dask partition; return every output, finish_bundle's included.

    Side inputs arrive as whole lists computed once, upstream in the graph (Beam's runner computes
    the side input's bag again inside every task that reads it)."""
    receivers.values.clear()  # the receivers travel with the task; start each bundle empty
    if side_meta:
        maps = [SideInputMap(view, options, _WindowedValues(values, window_fn))
                for (view, options, window_fn), values in zip(side_meta, side_values)]
        invoker_kwargs = dict(invoker_kwargs, side_inputs=maps)
    invoker = DoFnInvoker.create_invoker(*invoker_args, **invoker_kwargs)
    invoker.invoke_setup()
    invoker.invoke_start_bundle()
    for item in items:
        invoker.invoke_process(item)
    invoker.invoke_finish_bundle()
    invoker.invoke_teardown()
    # Keep the tag of tagged outputs (Beam's runner drops it here), and the bare element of the rest.
    return [TaggedOutput(v.tag, te.defenestrate(v.value)) if isinstance(v, TaggedOutput) else te.defenestrate(v)
            for v in receivers.values]


def _select_tag(items, tag):
    """The elements of one output of a multi-output ParDo (tag None: the main output)."""
    out = []
    for x in items:
        if isinstance(x, TaggedOutput):
            if x.tag == tag:
                out.append(x.value)
        elif tag is None:
            out.append(x)
    return out


def _unwrap_tagged(items):
    return [x.value if isinstance(x, TaggedOutput) else x for x in items]


class _ParDoOp(te.DaskBagOp):
    def apply(self, input_bag, side_inputs=None):
        transform = self.transform
        args, kwargs = transform.raw_side_inputs
        main_input = next(iter(self.applied.main_inputs.values()))
        window_fn = main_input.windowing.windowfn if hasattr(main_input, "windowing") else None
        receivers = te.OneReceiver()
        handler = _OutputHandler(window_fn=window_fn, main_receivers=receivers[None], tagged_receivers=receivers,
                                 per_element_output_counter=None, output_batch_converter=None,
                                 process_yields_batches=False, process_batch_yields_elements=False)
        invoker_args = [DoFnSignature(transform.fn), handler]
        invoker_kwargs = dict(context=DoFnContext(transform.label, state=None), side_inputs=None,
                              input_args=list(args), input_kwargs=kwargs, user_state_context=None,
                              bundle_finalizer_param=DoFn.BundleFinalizerParam())
        side_meta = [meta for meta, _ in side_inputs or ()]
        side_values = [values for _, values in side_inputs or ()]
        return (input_bag.map(te.get_windowed_value, window_fn)
                .map_partitions(_run_bundle, invoker_args, invoker_kwargs, receivers, side_meta, *side_values))


class _CreateOp(te.DaskBagOp):
    def apply(self, input_bag, side_inputs=None):
        import dask.bag as db

        items = list(self.transform.values)
        if not items:
            return db.from_sequence([], npartitions=1)
        n = len(items) if len(items) <= SMALL_CREATE else SMALL_CREATE
        return db.from_sequence(items, partition_size=max(1, math.ceil(len(items) / n)))


TRANSLATIONS = dict(te.TRANSLATIONS)
TRANSLATIONS[te.apache_beam.ParDo] = _ParDoOp
TRANSLATIONS[_Create] = _CreateOp


class _BagBuilder(PipelineVisitor):
    """Turns each applied transform into a dask.Bag, reading the right output of its producers."""

    def __init__(self, bag_kwargs):
        self.bag_kwargs = bag_kwargs
        self.bags = {}  # AppliedPTransform -> Bag of everything it emitted

    def output_of(self, pcoll):
        producer = pcoll.producer
        bag = self.bags[producer]
        if len(producer.outputs) > 1:
            return bag.map_partitions(_select_tag, pcoll.tag)
        return bag.map_partitions(_unwrap_tagged)

    def visit_transform(self, node):
        op = TRANSLATIONS.get(node.transform.__class__, te.NoOp)(node, bag_kwargs=self.bag_kwargs)
        inputs = [i for i in node.inputs if not isinstance(i, pvalue.PBegin)]
        bags = [self.output_of(i) for i in inputs if i.producer in self.bags]
        if isinstance(op, te.Flatten):
            input_bag = bags
        else:
            input_bag = bags[0] if bags else None
        side = None
        if node.side_inputs:
            import dask

            # (view, its options, window mapping) and the side input's elements as one graph node.
            side = [((type(si), si._view_options(), si._window_mapping_fn),
                     dask.delayed(_concat)(*self.output_of(si.pvalue).to_delayed()))
                    for si in node.side_inputs]
        self.bags[node] = op.apply(input_bag=input_bag, side_inputs=side)


class _ResultClosingCluster(DaskRunnerResult):
    cluster = None

    def wait_until_finish(self, duration=None):
        try:
            return super().wait_until_finish(duration)
        finally:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()


class CompleteDaskRunner(DaskRunner):
    def run_pipeline(self, pipeline, options):
        import dask
        import dask.distributed as ddist

        dask_options = options.view_as(DaskOptions).get_all_options(drop_default=True, current_only=True)
        bag_kwargs = DaskOptions._extract_bag_kwargs(dask_options)
        cluster = None
        if not dask_options.get("address") and not dask_options.get("scheduler_file"):
            workers = options.view_as(LocalClusterOptions).dask_local_workers or os.cpu_count() or 1
            cluster = ddist.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None)
            dask_options["address"] = cluster.scheduler_address
        client = ddist.Client(**dask_options)
        pipeline.replace_all(dask_overrides())
        builder = _BagBuilder(bag_kwargs)
        pipeline.visit(builder)
        consumed = {i.producer for node in builder.bags for i in node.inputs if not isinstance(i, pvalue.PBegin)}
        consumed |= {si.pvalue.producer for node in builder.bags for si in node.side_inputs}
        leaves = [bag for node, bag in builder.bags.items() if node not in consumed]
        futures = client.compute(list(dask.optimize(*leaves)))
        result = _ResultClosingCluster(client, futures)
        result.cluster = cluster
        return result
