"""pipeline.yaml's `beam:` block -> Beam pipeline options, for each runner (no pipeline runs here)."""

import types

import pytest

from webtext.beam import pipeline_options
from webtext.errors import ConfigError


def beam_block(runner, **kw):
    base = dict(runner=runner, workers=0, direct_running_mode="multi_processing", dask_address=None, options={})
    base.update(kw)
    return types.SimpleNamespace(**base)


def test_dask_address_and_pass_through_options_reach_the_runner_under_their_flag_names():
    from apache_beam.runners.dask.dask_runner import DaskOptions

    from webtext.beam_dask import WebtextDaskOptions

    opts = pipeline_options(beam_block("dask", dask_address="tcp://head:8786",
                                       options={"dask_npartitions": 64, "dask_connection_timeout": 30}))
    dask = opts.view_as(DaskOptions)
    assert (dask.address, dask.npartitions, dask.timeout) == ("tcp://head:8786", 64, 30)
    assert opts.get_all_options()["runner"] == "webtext.beam_dask.WebtextDaskRunner"
    local = pipeline_options(beam_block("dask", workers=3))
    assert local.view_as(WebtextDaskOptions).dask_local_workers == 3
    assert local.view_as(DaskOptions).address is None


IMAGE = "registry.example.org/webtext-beam:0.1"


@pytest.mark.parametrize("runner, options, expected", [
    # the blocks of docs/scaling.md
    ("flink", {"flink_master": "flink-jm:8081", "parallelism": 64, "environment_type": "DOCKER",
               "sdk_container_image": IMAGE},
     {"runner": "FlinkRunner", "flink_master": "flink-jm:8081", "parallelism": 64, "environment_type": "DOCKER",
      "sdk_container_image": IMAGE}),
    ("spark", {"spark_master_url": "spark://spark-master:7077", "environment_type": "DOCKER",
               "sdk_container_image": IMAGE},
     {"runner": "SparkRunner", "spark_master_url": "spark://spark-master:7077", "sdk_container_image": IMAGE}),
    ("dataflow", {"project": "my-project", "region": "europe-west4", "temp_location": "gs://my-bucket/tmp",
                  "sdk_container_image": IMAGE},
     {"runner": "DataflowRunner", "project": "my-project", "region": "europe-west4",
      "temp_location": "gs://my-bucket/tmp", "sdk_container_image": IMAGE}),
    ("direct", {}, {"runner": "DirectRunner", "direct_running_mode": "multi_processing"}),
])
def test_pass_through_options_for_the_other_runners(runner, options, expected):
    got = pipeline_options(beam_block(runner, options=options)).get_all_options(drop_default=True)
    assert {k: got.get(k) for k in expected} == expected


def test_an_option_no_runner_knows_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match=r"beam.options.flink_mastr: not a pipeline option"):
        pipeline_options(beam_block("flink", options={"flink_mastr": "jm:8081"}))


def test_dask_options_are_valid_under_another_runner_in_a_fresh_process(repo_root):
    # The Dask options are registered when webtext.beam_dask is imported; a process that never ran a Dask
    # pipeline must still accept them (switching beam.runner to direct keeps the options block valid).
    import subprocess
    import sys

    code = ("import types\nfrom webtext.beam import pipeline_options\n"
            "b = types.SimpleNamespace(runner='direct', workers=1, direct_running_mode='in_memory', dask_address=None,"
            " options={'dask_npartitions': 64})\n"
            "print(pipeline_options(b).get_all_options()['npartitions'])\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": repo_root, "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "64"
