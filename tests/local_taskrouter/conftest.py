"""Fixtures for the local TaskRouter tests (the shared ones live in tests/conftest.py)."""

from collections.abc import Iterator

import pytest
import taskrouter_support
from taskrouter_support import Http


@pytest.fixture
def http(taskrouter) -> Iterator[Http]:
    h = Http(taskrouter)
    yield h
    h.session.close()




@pytest.fixture
def wait_until():
    """tests/conftest.py's wait_until is a plain function; here it is a fixture."""
    return taskrouter_support.wait_until
