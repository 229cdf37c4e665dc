# Two commands for a fresh machine:
#   make demo   installs into .venv and runs examples/demo.yaml end to end (crawl -> report)
#   make test   installs into .venv and runs the test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test install clean-demo

# torch is installed first and pinned: an unpinned torch would pull a multi-GB CUDA build. Where pip's
# configuration offers no CPU wheel of it (plain PyPI on Linux has CUDA builds), add PyTorch's CPU index:
#   make test TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_PIP_ARGS ?=
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_PIP_ARGS) torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/run_demo.py

test: $(STAMP)
	$(PY) -m pytest -q tests

clean-demo:
	rm -rf work/demo work/miniweb
