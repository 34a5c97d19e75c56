# Latent Explorer: `make run` starts the app, `make test` lints and runs every test, `make bench` prints figures.
# Each target creates .venv when missing and (re)installs requirements.txt only when it changed.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements.installed
PORT   ?= 8501
# TORCH=cpu installs PyTorch's CPU-only wheels (no NVIDIA libraries) from PyTorch's own index; the default keeps
# PyPI's build (what CI installs). The choice is remembered in the stamp, so switching reinstalls.
TORCH  ?=
TORCH_INDEX_cpu := https://download.pytorch.org/whl/cpu
TORCH_REQ := "torch>=2.4,!=2.13.0" torchvision
PIP_TORCH := $(if $(filter cpu,$(TORCH)),--extra-index-url $(TORCH_INDEX_cpu),)
STAMP_EXTRA := $(if $(TORCH),echo "# torch=$(TORCH)";,)

.PHONY: run test test-fast lint bench fuzz venv default-model clean

venv: $(STAMP)

$(STAMP): requirements.txt FORCE_STAMP_CHECK
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@{ cat requirements.txt; $(STAMP_EXTRA) } > $(STAMP).want
	@if cmp -s $(STAMP).want $(STAMP); then rm -f $(STAMP).want; else \
		$(PY) -m pip install --upgrade pip >/dev/null && \
		$(if $(filter cpu,$(TORCH)),$(PY) -m pip install --index-url $(TORCH_INDEX_cpu) $(TORCH_REQ) &&) \
		$(PY) -m pip install $(PIP_TORCH) -r requirements.txt && \
		mv $(STAMP).want $(STAMP); fi

.PHONY: FORCE_STAMP_CHECK
FORCE_STAMP_CHECK:

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
	OMP_NUM_THREADS=1 $(PY) -m vae_core train --dataset shapes --arch mlp --hidden 256,128 --latent-dim 10 --beta 1 --epochs 30 --patience 30 --augment-shift 0 --seed 0 --quiet --out assets/models/shapes_beta1.safetensors
	OMP_NUM_THREADS=1 $(PY) -m vae_core train --dataset shapes --arch mlp --hidden 256,128 --latent-dim 10 --beta 8 --epochs 30 --patience 30 --augment-shift 0 --seed 0 --quiet --out assets/models/shapes_betavae.safetensors

clean:
	rm -rf $(VENV) .pytest_cache
