# One command each: `make` builds build/paper.pdf (setting everything up first), `make test` tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CLUSTER := $(VENV)/cluster
CORES ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: all pdf watch diff submission lint verify archive verify-archive report slurm cluster-setup validators-setup check-reproducible setup tex test check format rehash unlock clean

all: pdf

pdf: setup
	@$(BIN)/python -m scripts.commands.build --cores $(CORES)

# Rebuild on every save until Ctrl-C: section text in one pdflatex pass, anything else through the workflow.
watch: setup
	@$(BIN)/python -m scripts.commands.watch --cores $(CORES)

# For reviewers: what changed since a git revision, marked up by latexdiff: build/diff/paper-diff.pdf.
diff: setup
	@$(BIN)/python -m scripts.commands.paper_diff "$(REV)"

# For the journal: one flattened .tex with its files, zipped, compiled with plain pdflatex and preflighted.
submission: pdf
	@$(BIN)/python -m scripts.commands.submission

# The structure lint alone (it also runs in every build, which prints its summary); fails on errors.
lint: setup
	@$(BIN)/python -m scripts.commands.build lint --cores $(CORES)

# For editors: redraw every figure from the raw data in a clean temporary folder and compare it with
# figures/ and with the manifest of build/paper.pdf (or PDF=path); report in build/verify/report.html.
# With PDF=path the report goes to build/verify/given/, apart from the one `make archive` packs.
verify: setup
ifeq ($(PDF),)
	@$(BIN)/python -m scripts.commands.build verify_report --forcerun=verify_report --cores $(CORES)
	@$(BIN)/python -m scripts.commands.verify verdict build/verify/report.json
else
	@$(BIN)/python -m scripts.commands.verify --cores $(CORES) --pdf "$(PDF)" \
		--html build/verify/given/report.html --json build/verify/given/report.json
endif

# For archivists: one .tar.gz in build/archive/ that rebuilds to the same PDF (checked by verify-archive).
archive: setup
	@$(BIN)/python -m scripts.commands.build archive --cores $(CORES)

verify-archive: setup
	@$(if $(ARCHIVE),,echo "error: no archive given" >&2; echo "  hint: make verify-archive ARCHIVE=build/archive/<name>.tar.gz" >&2; exit 2)
	@$(BIN)/python -m scripts.commands.archive verify "$(ARCHIVE)" --cores $(CORES)

# Snakemake's own HTML report of the workflow, with the figures and the PDF: build/report.html.
report: pdf
	@$(BIN)/python -m scripts.commands.build --quiet --report=build/report.html --cores $(CORES)

# Build twice in two temporary folders and compare every output byte for byte.
check-reproducible: setup
	@$(BIN)/python -m scripts.devtools.reproduce --cores $(CORES)

setup: $(VENV)/.installed tex

# A virtual environment with the pinned packages; remade when requirements.txt changes.
$(VENV)/.installed: requirements.txt
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { scripts/setup/install-python-venv.sh && $(PYTHON) -m venv $(VENV); }
	@$(BIN)/python -m pip install -qq --disable-pip-version-check -r requirements.txt
	@touch $@

# The SLURM executor plugin, kept out of .venv proper (see requirements-cluster.txt for why).
cluster-setup: $(CLUSTER)/.installed

$(CLUSTER)/.installed: requirements-cluster.txt $(VENV)/.installed
	@$(BIN)/python -m pip install -qq --disable-pip-version-check --no-deps --target $(CLUSTER) -r requirements-cluster.txt
	@touch $@

# cffconvert for the tests, kept out of .venv proper (see requirements-validators.txt for why).
VALIDATORS := $(VENV)/validators
validators-setup: $(VALIDATORS)/.installed

$(VALIDATORS)/.installed: requirements-validators.txt $(VENV)/.installed
	@$(BIN)/python -m pip install -qq --disable-pip-version-check --no-deps --target $(VALIDATORS) -r requirements-validators.txt
	@touch $@

# Run workflow targets on a SLURM cluster: make slurm TARGETS="verify_report archive" (profile: scripts/workflow/profiles/slurm).
# The launcher gives the jobs .venv/bin and the plugin, picks sacct or squeue, and bounds the run.
slurm: cluster-setup
	@$(BIN)/python -m scripts.commands.slurm $(TARGETS)

tex:
	@scripts/setup/install-tex.sh

test: check cluster-setup validators-setup
	@$(BIN)/python -m pytest

# Static checks: ruff, snakefmt, snakemake --lint (the conda lint does not apply: pip + apt here).
check: setup
	@$(BIN)/ruff check scripts tests
	@$(BIN)/ruff format --check scripts tests
	@$(BIN)/snakefmt --check Snakefile scripts/workflow/rules
	@$(BIN)/python -m scripts.devtools.check_workflow

format: setup
	@$(BIN)/ruff format scripts tests
	@$(BIN)/snakefmt Snakefile scripts/workflow/rules

# After editing a raw data file on purpose: record its new sha256 in data/datapackage.json.
rehash: setup
	@$(BIN)/python -m scripts.stages.data rehash

# Release a Snakemake lock left in this folder (builds here run without one; `make slurm` takes one).
unlock: setup
	@$(BIN)/python -m scripts.commands.build --quiet --unlock --cores 1

clean:
	rm -rf build .snakemake
