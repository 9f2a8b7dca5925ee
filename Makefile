# Two commands for a fresh clone: `make demo` and `make test`.
# torch is installed first, on its own: a bare `pip install lightning` would pull a multi-GB CUDA
# build. Pick another build with e.g. `make test TORCH_SPEC="torch==2.13.0"` or a CUDA index.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
READY := $(VENV)/.ready
DEMO_DIR := build/demo

.PHONY: venv demo test test-slow lint bench bench-quality bench-tables clean

venv: $(READY)

$(READY): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Bake the default project, install it, train it on the embedded heart data.
demo: $(READY)
	rm -rf $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	$(BIN)/python -m pip install --quiet --no-build-isolation -e $(DEMO_DIR)/tabular-mlp
	cd $(DEMO_DIR)/tabular-mlp && $(abspath $(BIN))/tabular-mlp-train

# The template's tests: bake every answer, lint and hygiene-check what it writes, run the generated
# project's fast tier (its README: `pytest`), and apply the generated README's "Change the code"
# examples and train with them. The generated project's slow tier is `make test-slow`.
test: $(READY)
	$(BIN)/python -m pytest tests

# The generated project's slow tier too (DDP, sweeps, tune, the quality and 1M-row checks).
test-slow: $(READY)
	$(BIN)/python -m pytest tests --slow

# The template's own Python (tests, benchmarks): ruff's lint and format check. The generated
# project's code is linted and format-checked by the tests, once baked (its sources are Jinja).
lint: $(READY)
	$(BIN)/ruff check tests benchmarks
	$(BIN)/ruff format --check tests benchmarks

# Training speed against a plain PyTorch loop (benchmarks/run.py; e.g. BENCH_ARGS="--million").
bench: $(READY)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# The default project's 5-fold CV on real tables shipped inside packages, against
# HistGradientBoosting, a linear model and RealMLP-TD on the same folds (benchmarks/quality.py;
# e.g. QUALITY_ARGS="--quick", "--tables penguins,churn --max-rows 50000", or "--held-out": tables
# no default was chosen on). Its packages go into the venv only here:
# benchmarks/requirements-quality.txt.
bench-quality: $(READY)
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements-quality.txt
	$(BIN)/python benchmarks/quality.py $(QUALITY_ARGS)

# Does every table train? train, predict and export of the default project on R tables it was
# never tried on, each written as some export would write it (benchmarks/many_tables.py; e.g.
# TABLES_ARGS="--count 80 --seed 2"). Exits 1 if any command crashed rather than refused.
bench-tables: $(READY)
	$(BIN)/python -m pip install --quiet -r benchmarks/requirements-quality.txt
	$(BIN)/python benchmarks/many_tables.py $(TABLES_ARGS)

clean:
	rm -rf $(VENV) build
