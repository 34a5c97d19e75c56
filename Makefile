# Latent Explorer: `make run` starts the app, `make test` lints and runs every test, `make bench` prints figures.
# Each target creates .venv when missing and (re)installs requirements.txt only when it changed.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements.installed
PORT   ?= 8501

.PHONY: run test test-fast lint bench fuzz venv default-model clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if cmp -s requirements.txt $(STAMP); then touch $(STAMP); else \
		$(PY) -m pip install --upgrade pip >/dev/null && \
		$(PY) -m pip install -r requirements.txt && \
		cp requirements.txt $(STAMP); fi

run: $(STAMP)
	$(PY) -m streamlit run explorer_app.py --server.port $(PORT)

# ruff: the rules and line length are in pyproject.toml; `make test` lints first.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test: $(STAMP) lint
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser"

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# Property-based fuzzing of every loader (checkpoints, .npz, IDX, zips), longer than make test's short run.
# FUZZ_EXAMPLES cases per target; FUZZ_SEED=0 repeats the same cases, any other seed explores new ones.
FUZZ_EXAMPLES ?= 1500
FUZZ_SEED ?= 1
fuzz: $(STAMP)
	$(PY) -m tests.fuzz_inputs --examples $(FUZZ_EXAMPLES) --seed $(FUZZ_SEED)

# Rebuild the shipped default model exactly as the README says.
default-model: $(STAMP)
	$(PY) -m vae_core train --dataset digits --arch mlp --latent-dim 8 --epochs 300 --patience 40 --seed 0 --quiet --out assets/models/digits_default.safetensors
	$(PY) -m vae_core train --dataset digits --arch mlp --latent-dim 8 --beta 0 --epochs 300 --patience 40 --seed 0 --quiet --out assets/models/digits_ae.safetensors

clean:
	rm -rf $(VENV) .pytest_cache
