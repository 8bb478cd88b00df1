# Two commands do everything on a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCAL_TASKROUTER_PORT ?= 8765
LAB_PORT ?= 8888

.PHONY: install lab test lint bench browser clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml scripts/lab_overrides.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# The pinned, tested set, and this project as a package (editable: the notebooks import it from here).
	@# setuptools warns that an editable install can be shadowed by a same-named folder: not a problem here.
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -r requirements.txt -e .
	$(BIN)/python scripts/lab_overrides.py
	touch $(STAMP)

# Debian's chromium for the JupyterLab browser tests; nothing downloads a browser.
browser:
	@bash scripts/ensure_chromium.sh

lint: install
	$(BIN)/ruff check .

test: install browser lint
	$(BIN)/python -m pytest

lab: install
	$(BIN)/python -m tutorial_helpers.local_taskrouter.ensure --port $(LOCAL_TASKROUTER_PORT)
	$(BIN)/jupyter lab --no-browser --port $(LAB_PORT) --ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
