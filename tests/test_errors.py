"""The helpers' errors share one base: in a notebook each is one line that says what to do, not a traceback,
and code that catches their standard base (ValueError, OSError, ...) still catches them."""

import pytest

from tutorial_helpers.callback_host import CallbackHostError
from tutorial_helpers.callback_server import CallbackPortBusy
from tutorial_helpers.environment import SetupError
from tutorial_helpers.errors import TutorialError
from tutorial_helpers.pause import YourTurn
from tutorial_helpers.phone import PhoneError
from tutorial_helpers.settings import BACK_TO_LOCAL, SettingsError
from tutorial_helpers.tunnel import TunnelError
from tutorial_helpers.worker_page import SdkBundleMissing
from tutorial_helpers.workshop.cards import CardsError
from tutorial_helpers.workshop.room import RoomError

STANDARD_BASES = [
    (CallbackHostError, ValueError),
    (CardsError, ValueError),
    (PhoneError, RuntimeError),
    (RoomError, RuntimeError),
    (SdkBundleMissing, FileNotFoundError),
    (SettingsError, ValueError),
    (SetupError, RuntimeError),
    (TunnelError, RuntimeError),
    (YourTurn, Exception),
]


@pytest.mark.parametrize(("error", "standard"), STANDARD_BASES, ids=lambda c: c.__name__)
def test_each_error_is_a_tutorial_error_and_keeps_its_standard_base(error, standard):
    raised = error("Do this.")
    assert isinstance(raised, TutorialError) and isinstance(raised, standard)
    assert len(raised._render_traceback_()) == 1


def test_the_line_names_the_error_and_says_what_to_do():
    assert SettingsError("Set X.")._render_traceback_() == ["SettingsError: Set X."]
    busy = CallbackPortBusy("127.0.0.1", 8780)
    assert isinstance(busy, OSError) and busy._render_traceback_() == [f"CallbackPortBusy: {busy}"]


def test_a_class_may_add_its_way_out_or_say_it_is_no_error():
    assert TunnelError("ngrok said no.")._render_traceback_() == [f"TunnelError: ngrok said no. {BACK_TO_LOCAL}"]
    assert YourTurn("click Idle.")._render_traceback_() == ["Paused on purpose, not an error: click Idle."]
