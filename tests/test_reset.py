from quickstart_support import make_tutorial

from tutorial_helpers.callback_server import CallbackServer
from tutorial_helpers.reset import main, reset_tutorial, start_over
from tutorial_helpers.workspace import find_quickstart


def test_reset_deletes_only_the_tutorial_workspace_and_stops_the_server(taskrouter):
    tutorial = make_tutorial(taskrouter)
    tutorial.spanish_task()
    other = tutorial.client.taskrouter.v1.workspaces.create(friendly_name="Someone else's")
    assert reset_tutorial(tutorial.client) == [tutorial.quickstart.workspace_sid]
    assert [w.sid for w in tutorial.client.taskrouter.v1.workspaces.list()] == [other.sid]
    assert CallbackServer.current() is None and not tutorial.server.running
    assert reset_tutorial(tutorial.client) == []  # running it again is harmless
    assert find_quickstart(tutorial.client) is None


def test_command_line_reset_in_local_mode(taskrouter, monkeypatch, capsys):
    for name in ("TUTORIAL_MODE", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOCAL_TASKROUTER_URL", taskrouter.base_url)
    tutorial = make_tutorial(taskrouter)
    tutorial.server.stop()
    monkeypatch.setattr("sys.stdin", None)  # a script: nobody to ask
    assert main(["--mode", "local"]) == 1
    out = capsys.readouterr().out
    assert "this deletes:" in out and "the workers Alice, Bob" in out and "Nothing deleted" in out
    assert find_quickstart(tutorial.client) is not None
    assert main(["--mode", "local", "--yes"]) == 0
    assert "Deleted 1 workspace(s)" in capsys.readouterr().out
    assert main(["--mode", "local"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_start_over_button_says_what_goes_and_deletes_only_on_the_second_click(taskrouter):
    tutorial = make_tutorial(taskrouter)
    button = start_over(tutorial.client)
    button.ask.click()
    assert "This deletes" in button.message.value and "TaskRouter Quickstart" in button.message.value
    assert "the workers Alice, Bob" in button.message.value
    assert find_quickstart(tutorial.client) is not None  # asking deletes nothing
    button.cancel.click()
    assert "Nothing deleted" in button.message.value and find_quickstart(tutorial.client) is not None
    button.ask.click()
    button.confirm.click()
    assert find_quickstart(tutorial.client) is None
    assert "Deleted 1 workspace(s)" in button.message.value and "01_workspace.ipynb" in button.message.value
    button.ask.click()
    assert "nothing to delete" in button.message.value
