"""The demo's mini-web for the tests of this folder: one generated copy, shared by them.

(A helper module with a unique name rather than a conftest.py: a second conftest.py would shadow the
top-level one for tests that `from conftest import ...`.)"""

import json
import os
import sys

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples")
if EXAMPLES not in sys.path:
    sys.path.insert(0, EXAMPLES)

GEN_PORT = 8642  # the port written into the URLs; the tests serve on a free port and route by Host


class Miniweb:
    def __init__(self, path: str, summary: dict):
        self.path, self.summary = path, summary
        with open(os.path.join(path, "manifest.json"), encoding="utf-8") as f:
            self.manifest = json.load(f)
        with open(os.path.join(path, "routes.json"), encoding="utf-8") as f:
            self.routes = json.load(f)

    def body(self, url: str) -> bytes:
        """The bytes served for a URL (read from the generated files, not over HTTP)."""
        from urllib.parse import urlsplit

        u = urlsplit(url)
        route = self.routes["hosts"][u.hostname][u.path or "/"]
        with open(os.path.join(self.path, *route["file"].split("/")), "rb") as f:
            return f.read()


_BUILT = {}


def generated_miniweb(tmp_path_factory) -> Miniweb:
    """The mini-web generated once per test session (with the default seed, URLs on port 8642)."""
    if "miniweb" not in _BUILT:
        from miniweb.generate import build_miniweb

        path = str(tmp_path_factory.mktemp("miniweb"))
        _BUILT["miniweb"] = Miniweb(path, build_miniweb(path, port=GEN_PORT))
    return _BUILT["miniweb"]
