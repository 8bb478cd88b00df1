import os

from twilio.rest import Client

from tutorial_helpers.client import clone_client, export_shell_variables, make_client, mode_of
from tutorial_helpers.settings import Settings
from tutorial_helpers.workspace import QuickstartWorkspace

SID = "AC" + "ab" * 16


def test_local_mode_aims_the_official_client_at_the_local_taskrouter(taskrouter):
    client = make_client(Settings("local", taskrouter.account_sid, taskrouter.auth_token, None, taskrouter.base_url))
    assert type(client) is Client
    assert client.taskrouter.base_url == taskrouter.base_url
    assert client.taskrouter.v1.workspaces.list() == []


def test_twilio_mode_is_the_plain_client():
    client = make_client(Settings("twilio", SID, "token", "ngrok"))
    assert type(client) is Client
    assert client.taskrouter.base_url == "https://taskrouter.twilio.com"
    assert (client.username, client.password) == (SID, "token")


def test_twilio_mode_with_a_stand_in_aims_the_plain_client_there(taskrouter, monkeypatch):
    monkeypatch.setenv("TWILIO_REGION", "au1")  # would rewrite a custom host into a made-up one
    settings = Settings("twilio", taskrouter.account_sid, taskrouter.auth_token, "ngrok",
                        twilio_base_url=taskrouter.base_url)
    client = make_client(settings)
    assert type(client) is Client
    assert client.taskrouter.base_url == client.api.base_url == settings.taskrouter_url == taskrouter.base_url
    assert client.taskrouter.v1.workspaces.list() == []
    assert clone_client(client).taskrouter.v1.workspaces.list() == []


def test_clone_keeps_credentials_and_url(taskrouter):
    original = taskrouter.client()
    copy = clone_client(original)
    assert copy is not original and copy.http_client is not original.http_client
    assert copy.taskrouter.base_url == taskrouter.base_url
    assert copy.taskrouter.v1.workspaces.list() == []


def test_a_stand_in_for_twilio_is_mistaken_for_local_mode(taskrouter):
    """The widgets and the checks ask the client's mode: the settings' mode, not whether the URL says twilio.com."""
    local = make_client(Settings("local", taskrouter.account_sid, taskrouter.auth_token, None, taskrouter.base_url))
    stand_in = make_client(Settings("twilio", taskrouter.account_sid, taskrouter.auth_token, "ngrok",
                                    twilio_base_url=taskrouter.base_url))
    assert local.taskrouter.base_url == stand_in.taskrouter.base_url
    assert (mode_of(local), mode_of(clone_client(local))) == ("local", "local")
    assert (mode_of(stand_in), mode_of(clone_client(stand_in))) == ("twilio", "twilio")
    assert mode_of(make_client(Settings("twilio", SID, "token", "ngrok"))) == "twilio"
    # A client made without settings: its URL is all there is to go by.
    assert (mode_of(taskrouter.client()), mode_of(Client(SID, "token"))) == ("local", "twilio")


def test_export_shell_variables(monkeypatch):
    for name in ("TASKROUTER_URL", "WORKSPACE_SID", "WORKFLOW_SID", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.setenv(name, "before")  # so that monkeypatch restores (or removes) each one afterwards
    settings = Settings("local", SID, "token", None, "http://127.0.0.1:9999")
    names = export_shell_variables(settings, QuickstartWorkspace("WS1", "WW1"))
    assert "token" not in names
    assert os.environ["TASKROUTER_URL"] == "http://127.0.0.1:9999"
    assert (os.environ["WORKSPACE_SID"], os.environ["WORKFLOW_SID"]) == ("WS1", "WW1")
    assert (os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"]) == (SID, "token")
