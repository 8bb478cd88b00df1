"""Fixtures for the local EventBridge: the quickstart, an API key, and Alice's worker token."""

from collections.abc import Iterator

import pytest
from eventbridge_support import Bridge


@pytest.fixture
def bridge(taskrouter) -> Iterator[Bridge]:
    b = Bridge(taskrouter)
    yield b
    b.close()
