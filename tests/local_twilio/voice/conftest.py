"""Fixtures for the voice side's tests."""

from collections.abc import Iterator

import pytest
from voice_app import VoiceApp


@pytest.fixture
def voice_app(taskrouter) -> Iterator[VoiceApp]:
    app = VoiceApp(taskrouter.auth_token)
    yield app
    app.close()
