"""Fixtures for TaskRouter's tests (the local server's live in tests/local_twilio/conftest.py, the shared ones in
tests/conftest.py)."""

import pytest
import taskrouter_support


@pytest.fixture
def wait_until():
    """tests/polling.py's wait_until, as a fixture for the tests that take it as one."""
    return taskrouter_support.wait_until
