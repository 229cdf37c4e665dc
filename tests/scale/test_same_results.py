"""The same pipelines on Dask: clean, dedupe and shard of a real crawl give the DirectRunner's bytes,
also when a Dask worker process dies in the middle of a stage.

The input: the bundled mini-web (examples/miniweb), served on 127.0.0.1 and crawled by the crawl stage
in two parts (`--part 1/2`, `2/2`), merged into one crawl of two WARC files. Canonical form of the
comparison (scale_helpers.compare_stage): every output file byte for byte (documents, rejects,
clusters, shards, .idx, tokenizer, contamination.json), except _SUCCESS.json, compared by its counts and
its statistics less the timings, and shard's manifest.json, compared without `input.upstream` (the id
of the dedupe run it read, new with every run).
"""

import json
import logging
import os
import shutil

import pytest

from scale_helpers import (KillOnce, compare_stage, crawl_miniweb, new_work_dir, run_stages, write_benchmark,
                           write_config)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def direct(tmp_path_factory):
    """The crawl, and clean/dedupe/shard on it under the DirectRunner (in_memory): the reference."""
    root = str(tmp_path_factory.mktemp("scale"))
    miniweb, crawl_dir = crawl_miniweb(root)
    work = new_work_dir(root, "direct", crawl_dir)
    config = os.path.join(root, "direct.yaml")
    run_stages(write_config(config, work, miniweb), ["clean"])
    benchmark = os.path.join(root, "planted.txt")
    planted = write_benchmark(os.path.join(work, "clean", "docs"), benchmark)
    run_stages(write_config(config, work, miniweb, benchmark=benchmark), ["dedupe", "shard"])
    return {"root": root, "miniweb": miniweb, "crawl": crawl_dir, "work": work, "benchmark": benchmark,
            "planted": planted}


def success(work, stage):
    with open(os.path.join(work, stage, "_SUCCESS.json"), encoding="utf-8") as f:
        return json.load(f)


def test_the_reference_run_exercises_every_path(direct):
    """Both WARC files, exact and near duplicates, exact Jaccard checks, cut and removed documents,
    several train shards: the comparisons below cover all of it."""
    work = direct["work"]
    assert success(work, "crawl")["counts"]["out"] > 100
    assert len(os.listdir(os.path.join(work, "crawl", "warc"))) == 2
    assert success(work, "clean")["stats"]["files"]["read"] == 2
    d = success(work, "dedupe")["stats"]
    assert d["exact_duplicates"] > 0 and d["near_duplicates"] > 0
    assert d["candidates"]["exact_checks"] > 0
    assert d["contamination"]["planted"]["docs_cut"] >= 1 and d["contamination"]["planted"]["docs_removed"] >= 1
    shards = success(work, "shard")["stats"]["shards"]
    assert sum(s["split"] == "train" for s in shards) >= 2 and any(s["split"] == "val" for s in shards)


def test_dask_with_two_workers_writes_the_same_bytes(direct):
    from webtext import beam_dask

    work = new_work_dir(direct["root"], "dask", direct["crawl"])
    config = write_config(os.path.join(direct["root"], "dask.yaml"), work, direct["miniweb"],
                          beam={"runner": "dask", "workers": 2}, benchmark=direct["benchmark"])
    try:
        run_stages(config)
        assert beam_dask.WebtextDaskRunner.last_result.timings["partitions"] == 2  # two worker processes
    finally:
        beam_dask.close_local_cluster()
    problems = []
    for stage in ("clean", "dedupe", "shard"):
        problems += compare_stage(direct["work"], work, stage)
    assert not problems, problems


@pytest.fixture
def cluster(request):
    """A cluster of the test's own (two worker processes), reached through `beam.dask_address`; the
    parameter is the scheduler's `allowed-failures` (how many lost workers a task survives). A worker
    that asks the dead one for data gives up connecting after 5 s instead of 30."""
    import dask
    import dask.distributed as ddist

    with dask.config.set({"distributed.scheduler.allowed-failures": request.param,
                          "distributed.comm.timeouts.connect": "5s"}):
        c = ddist.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
    try:
        yield c
    finally:
        c.close()


def killed_run(direct, cluster, tmp_path):
    """dedupe and shard of the reference's clean output, on `cluster`. Returns (work folder, a function
    that runs the two stages, the path of KillOnce's marker)."""
    work = new_work_dir(direct["root"], f"killed-{tmp_path.name}", direct["crawl"])
    shutil.copytree(os.path.join(direct["work"], "clean"), os.path.join(work, "clean"))
    config = write_config(str(tmp_path / "killed.yaml"), work, direct["miniweb"],
                          beam={"runner": "dask", "dask_address": cluster.scheduler_address},
                          benchmark=direct["benchmark"])
    return work, lambda: run_stages(config, ["dedupe", "shard"]), str(tmp_path / "killed.json")


@pytest.mark.parametrize("cluster", [3], indirect=True)
def test_a_worker_killed_mid_write_is_replaced_and_the_output_is_the_same(direct, cluster, tmp_path):
    """A worker process dies in the middle of writing a file of dedupe's documents (the temporary file
    written, not yet renamed). Dask runs the lost task again on the other worker and recomputes what
    the dead one held; the nanny starts a new worker in its place; the stage runner removes the dead
    writer's temporary file; the output is the reference's, byte for byte."""
    import dask.distributed as ddist

    work, run, marker = killed_run(direct, cluster, tmp_path)
    with ddist.Client(cluster, set_as_default=False) as client:
        before = set(client.scheduler_info()["workers"])
        client.register_plugin(KillOnce(os.path.join("dedupe.partial", "docs", "docs-"), marker,
                                        when="before_rename"))
        run()
        client.wait_for_workers(2, timeout=60)
        after = set(client.scheduler_info()["workers"])
    with open(marker, encoding="utf-8") as f:
        killed = json.load(f)
    assert killed["worker"] in before and killed["worker"] not in after, (killed, before, after)
    assert killed["tmp_written"] and ".tmp." in killed["tmp"]
    assert not os.path.exists(killed["tmp"].replace("dedupe.partial", "dedupe"))
    problems = compare_stage(direct["work"], work, "dedupe") + compare_stage(direct["work"], work, "shard")
    assert not problems, problems


@pytest.mark.parametrize("cluster", [0], indirect=True)
def test_a_stage_that_loses_a_worker_fails_cleanly_and_reruns_to_the_same_output(direct, cluster, tmp_path):
    """A worker dies right after it wrote a shard of dedupe's documents, before the scheduler heard of
    it. With no retries allowed the stage fails (KilledWorker): nothing is marked done, and the rerun
    (the worker replaced, the kill spent) writes the same bytes as the reference."""
    import dask.distributed as ddist

    work, run, marker = killed_run(direct, cluster, tmp_path)
    with ddist.Client(cluster, set_as_default=False) as client:
        client.register_plugin(KillOnce("WriteDocs/WriteShard", marker))
        with pytest.raises(Exception) as failed:
            run()
        assert "KilledWorker" in repr(failed.value), repr(failed.value)
        assert os.path.exists(marker)
        assert not os.path.exists(os.path.join(work, "dedupe")), "a failed stage must leave no finished folder"
        assert not os.path.exists(os.path.join(work, "dedupe.partial", "_SUCCESS.json"))
        client.wait_for_workers(2, timeout=60)
        run()
    problems = compare_stage(direct["work"], work, "dedupe") + compare_stage(direct["work"], work, "shard")
    assert not problems, problems
