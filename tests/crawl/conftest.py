"""Crawl test fixtures. Helpers live in crawl_helpers.py and the test servers in crawl_servers.py
(names unique across the suite's test folders)."""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture
def make_config(tmp_path):
    from crawl_helpers import write_config

    def make(crawl, work_dir=None, name="pipeline.yaml"):
        return write_config(tmp_path, crawl, work_dir or tmp_path / "work", name)
    return make
