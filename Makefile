# Two commands do everything on a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCAL_TASKROUTER_PORT ?= 8765
LAB_PORT ?= 8888

.PHONY: install lab test lint bench browser clean

install: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@# Make tutorial_helpers importable from any working directory (kernels start in notebooks/).
	$(BIN)/python -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 'taskrouter-notebooks.pth').write_text(str(pathlib.Path.cwd()) + '\n')"
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
