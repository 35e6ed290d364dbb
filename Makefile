# One command each: `make` builds build/paper.pdf (setting everything up first), `make test` tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: all pdf lint check-reproducible setup tex test check format rehash unlock clean

all: pdf

pdf: setup
	@$(BIN)/python -m scripts.build --cores $(CORES)

# The structure lint alone (it also runs in every build, which prints its summary); fails on errors.
lint: setup
	@$(BIN)/python -m scripts.build lint --cores $(CORES)

# Build twice in two temporary folders and compare every output byte for byte.
check-reproducible: setup
	@$(BIN)/python -m scripts.reproduce --cores $(CORES)

setup: $(VENV)/.installed tex

# A virtual environment with the pinned packages; remade when requirements.txt changes.
$(VENV)/.installed: requirements.txt
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { scripts/install-python-venv.sh && $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -m pip install -qq --disable-pip-version-check -r requirements.txt
	@touch $@

tex:
	@scripts/install-tex.sh

test: check
	@$(BIN)/python -m pytest

# Static checks: ruff, snakefmt, snakemake --lint (the conda lint does not apply: pip + apt here).
check: setup
	@$(BIN)/ruff check scripts tests
	@$(BIN)/ruff format --check scripts tests
	@$(BIN)/snakefmt --check Snakefile scripts/rules
	@$(BIN)/python -m scripts.lint_workflow

format: setup
	@$(BIN)/ruff format scripts tests
	@$(BIN)/snakefmt Snakefile scripts/rules

# After editing a raw data file on purpose: record its new sha256 in data/datapackage.json.
rehash: setup
	@$(BIN)/python -m scripts.data rehash

# After a killed build: release Snakemake's lock on this folder.
unlock: setup
	@$(BIN)/python -m snakemake --unlock --cores 1 >/dev/null && echo "unlocked"

clean:
	rm -rf build .snakemake
