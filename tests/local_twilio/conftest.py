"""Fixtures for the local server's tests, in every folder below this one (the shared ones live in tests/conftest.py).

Being a conftest, this also puts tests/local_twilio/ on sys.path, so the support modules here
(taskrouter_support.py, cli_support.py, invariants.py, number_edges.py, api_2010_contract.py) import by name from
every folder below.
"""

import pytest
from cli_support import Cli
from werkzeug.serving import BaseWSGIServer


@pytest.fixture
def _quick_recorder_shutdown(monkeypatch):
    """Make werkzeug servers started during the test poll for shutdown every 50 ms, not 0.5 s.

    The shared callback recorder (tests/conftest.py) serves with werkzeug's default poll
    interval, so stopping it costs half a second per test; these folders start one for
    most tests.
    """
    original = BaseWSGIServer.serve_forever
    monkeypatch.setattr(BaseWSGIServer, "serve_forever",
                        lambda self, poll_interval=0.05: original(self, poll_interval=poll_interval))


@pytest.fixture
def callbacks(_quick_recorder_shutdown, callbacks):
    """The shared recorder, created while the quick shutdown is in place."""
    return callbacks


@pytest.fixture
def cli(tmp_path):
    """Starts CLI processes on one data dir; whatever is still running at the end is killed."""
    started: list[Cli] = []

    def start(*extra: str, **how) -> Cli:
        started.append(Cli(tmp_path / "data", *extra, **how))
        return started[-1]

    yield start
    for process in started:
        process.kill_if_running()
