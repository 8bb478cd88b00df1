# Two commands do everything on a fresh machine: `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCAL_TASKROUTER_PORT ?= 8765
LAB_PORT ?= 8888
# The learner's own copy of notebooks/ (git-ignored): JupyterLab saves outputs there, never into the tracked files.
MY_NOTEBOOKS := my-notebooks

.PHONY: install lab stop reset fresh-notebooks test lint bench fuzz browser clean worker-sdk

install: $(STAMP) worker-sdk

$(STAMP): requirements.txt pyproject.toml scripts/venv_defaults.py
	@echo "Installing the pinned packages and this project into $(VENV) (about a minute the first time)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools warns that an editable install can be shadowed by a same-named folder: not a problem here.
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -r requirements.txt -e .
	$(BIN)/python scripts/venv_defaults.py
	touch $(STAMP)

# The worker page's twilio-taskrouter SDK: npm ci from package-lock.json, then one esbuild bundle (skipped when current).
worker-sdk:
	@bash scripts/build_worker_sdk.sh

# Debian's chromium for the JupyterLab browser tests; nothing downloads a browser.
browser:
	@bash scripts/ensure_chromium.sh

# ruff everywhere; mypy over the local server's core/, its ports and both models/ packages (pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Three test processes (pytest-xdist) on the 2-core machines this runs on: the notebook and browser tests spend
# much of their time waiting for a kernel or a page, so a third keeps both cores busy (4:48 against 6:00 with two).
# TEST_PROCESSES=0 runs them all in this one.
TEST_PROCESSES ?= 3
test: install browser lint
	@echo "Running every test: the local TaskRouter, the helpers, the notebooks, JupyterLab and the worker page in chromium, the worker SDK under Node (about five minutes)."
	$(BIN)/python -m pytest -n $(TEST_PROCESSES)

# With a workshop room's card (LOCAL_TASKROUTER_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN in .env or the environment)
# the room's TaskRouter is used and nothing is started; else your own is found or started on LOCAL_TASKROUTER_PORT and
# the notebooks get its URL (or your LOCAL_TASKROUTER_URL) and the port. tutorial_helpers/lab_target.py decides.
lab: install
	@$(BIN)/python -m tutorial_helpers.working_copy sync notebooks $(MY_NOTEBOOKS)
	$(BIN)/python -m tutorial_helpers.lab_target --port $(LOCAL_TASKROUTER_PORT) -- \
		$(BIN)/jupyter lab --no-browser --port $(LAB_PORT) --ServerApp.root_dir=$(MY_NOTEBOOKS) $(if $(filter 0,$(shell id -u)),--allow-root,)

# A workshop's room (docs/workshops.md): one local TaskRouter, an account and a printable card per attendee.
# ATTENDEES=N, or NAMES=file (one name per line); HOST=0.0.0.0 for attendees on other machines (it says what that
# exposes); PORT=...; ADVERTISE=address for the cards. HOST and PORT only count when given on make's command line,
# not from the environment (zsh and others set HOST to the machine's name).
ATTENDEES ?= 30
.PHONY: workshop
workshop: install
	$(BIN)/python -m tutorial_helpers.workshop start $(if $(NAMES),--names $(NAMES),--attendees $(ATTENDEES)) \
		$(if $(filter command line,$(origin HOST)),--host $(HOST),) \
		$(if $(filter command line,$(origin PORT)),--port $(PORT),) $(if $(ADVERTISE),--advertise $(ADVERTISE),)

# Stop the local TaskRouter that `make lab` started; its data stays for next time.
stop: install
	$(BIN)/local-taskrouter --stop --port $(LOCAL_TASKROUTER_PORT)

# Start over: delete the tutorial's Workspace (asks first; YES=1 does not).
reset: install
	$(BIN)/python -m tutorial_helpers.reset $(if $(YES),--yes,)

# Start over with the notebooks: fresh copies in my-notebooks/, yours moved aside (asks first; YES=1 does not).
fresh-notebooks: install
	$(BIN)/python -m tutorial_helpers.working_copy fresh notebooks $(MY_NOTEBOOKS) $(if $(YES),--yes,)

bench: install
	$(BIN)/python -m bench

# The long runs of what `make test` runs bounded (about an hour): the lifecycle state machine, the schema
# fuzzer on every operation, the crowd of concurrent clients and the kill -9 soak, repeated. FUZZ_EXAMPLES
# scales them.
FUZZ_EXAMPLES ?= 3000
fuzz: install
	STATE_MACHINE_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_EXAMPLES=$$(( $(FUZZ_EXAMPLES) / 10 )) \
		CONCURRENCY_ROUNDS=$$(( $(FUZZ_EXAMPLES) / 100 )) KILL_SOAK_ROUNDS=$$(( $(FUZZ_EXAMPLES) / 100 )) \
		$(BIN)/python -m pytest -q tests/local_twilio/taskrouter/test_state_machine.py \
		tests/local_twilio/taskrouter/test_schema_fuzz.py \
		tests/local_twilio/taskrouter/test_concurrency.py \
		tests/local_twilio/core/test_kill_soak.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
