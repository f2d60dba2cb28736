# Two commands on a fresh machine (Python 3.11 and pip):
#   make smoke   installs into .venv and builds Table 4 at the smoke preset (CPU, minutes)
#   make test    installs into .venv and runs the test suite
# Both install tfsnn with every extra at the exact versions of constraints.txt.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install smoke test test-fast lint clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-cache-dir --upgrade pip
	$(BIN)/pip install --quiet --no-cache-dir -c constraints.txt -e '.[all]'
	touch $(STAMP)

install: $(STAMP)

smoke: $(STAMP)
	$(BIN)/snakemake --cores all table4

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/
	$(BIN)/ruff check tfsnn tests bench

clean:
	rm -rf $(VENV) .snakemake
