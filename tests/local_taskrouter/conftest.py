"""Fixtures for the local TaskRouter tests (the shared ones live in tests/conftest.py)."""

from collections.abc import Iterator

import pytest
from taskrouter_support import Http


@pytest.fixture
def http(taskrouter) -> Iterator[Http]:
    h = Http(taskrouter)
    yield h
    h.session.close()


