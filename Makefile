# Latent Explorer: `make run` starts the app, `make test` runs every test, `make bench` prints figures.
# Each target creates .venv when missing and (re)installs requirements.txt only when it changed.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements.installed
PORT   ?= 8501

.PHONY: run test test-fast bench venv default-model clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if cmp -s requirements.txt $(STAMP); then touch $(STAMP); else \
		$(PY) -m pip install --upgrade pip >/dev/null && \
		$(PY) -m pip install -r requirements.txt && \
		cp requirements.txt $(STAMP); fi

run: $(STAMP)
	$(PY) -m streamlit run explorer_app.py --server.port $(PORT)

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser"

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# Rebuild the shipped default model exactly as the README says.
default-model: $(STAMP)
	$(PY) -m vae_core train --dataset digits --arch mlp --latent-dim 8 --epochs 300 --patience 40 --seed 0 --quiet --out assets/models/digits_default.safetensors
	$(PY) -m vae_core train --dataset digits --arch mlp --latent-dim 8 --beta 0 --epochs 300 --patience 40 --seed 0 --quiet --out assets/models/digits_ae.safetensors
	OMP_NUM_THREADS=1 $(PY) -m vae_core train --dataset shapes --arch mlp --hidden 256,128 --latent-dim 10 --beta 1 --epochs 30 --patience 30 --augment-shift 0 --seed 0 --quiet --out assets/models/shapes_beta1.safetensors
	OMP_NUM_THREADS=1 $(PY) -m vae_core train --dataset shapes --arch mlp --hidden 256,128 --latent-dim 10 --beta 8 --epochs 30 --patience 30 --augment-shift 0 --seed 0 --quiet --out assets/models/shapes_betavae.safetensors

clean:
	rm -rf $(VENV) .pytest_cache
