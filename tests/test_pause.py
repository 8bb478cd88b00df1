"""Run All stops where the learner must click, and says so as a pause."""

import pytest
from quickstart_support import make_tutorial

from tutorial_helpers import pause
from tutorial_helpers.pause import YourTurn, pause_for_click
from tutorial_helpers.widgets import WorkerActivityControls


def test_run_all_stops_until_alice_has_left_offline(taskrouter, capsys, monkeypatch):
    tutorial = make_tutorial(taskrouter)
    controls = WorkerActivityControls(tutorial.client, tutorial.quickstart, poll=False)
    shown = []
    monkeypatch.setattr(pause, "display", lambda *objects: shown.extend(objects))
    with pytest.raises(YourTurn) as paused:
        pause_for_click(controls, "Alice", "Idle")
    box, buttons = shown
    assert "Your turn." in box.data and "Run Selected Cell and All Below" in box.data
    assert buttons is controls  # the same buttons again, where JupyterLab scrolled
    assert paused.value._render_traceback_() == [
        "Paused on purpose, not an error: click Idle for Alice, then Run > Run Selected Cell and All Below."]
    tutorial.set_activity("Alice", "Idle")  # the learner's click, by any route
    pause_for_click(controls, "Alice", "Idle")
    assert "you clicked. On to the next cell." in capsys.readouterr().out
    assert controls.buttons["Alice"].value == "Idle"  # the buttons follow what TaskRouter says
