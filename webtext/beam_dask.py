"""Beam's Dask runner, made to run every branch of a pipeline, with an optional local cluster.

Beam's DaskRunner (apache_beam.runners.dask) translates each transform into a dask.Bag and then
computes only the bag of the *last* transform visited, assuming it depends on all the others. In a
pipeline with several sinks (documents, rejects, statistics) that assumption is wrong: the other
sinks silently never run. `CompleteDaskRunner` computes every leaf bag (a transform whose output no
other transform reads), so all sinks run; the translation itself is Beam's.

Without `--dask_client_address` it starts a `dask.distributed.LocalCluster` of
`--dask_local_workers` worker processes for the pipeline and closes it when the pipeline ends.
"""

from __future__ import annotations

import os

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.dask.dask_runner import DaskOptions, DaskRunner, DaskRunnerResult
from apache_beam.runners.dask.overrides import dask_overrides


class LocalClusterOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--dask_local_workers", type=int, default=0,
                            help="worker processes of the local Dask cluster started when no "
                                 "--dask_client_address is given (0: all cores)")


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
        visitor = self.to_dask_bag_visitor(bag_kwargs)
        pipeline.visit(visitor)
        consumed = set()
        for node in visitor.bags:
            for pcoll in list(node.inputs) + [si.pvalue for si in node.side_inputs]:
                consumed.add(pcoll.producer)
        leaves = [bag for node, bag in visitor.bags.items() if node not in consumed]
        futures = client.compute(list(dask.optimize(*leaves)))
        result = _ResultClosingCluster(client, futures)
        result.cluster = cluster
        return result
