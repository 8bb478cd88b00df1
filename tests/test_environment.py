import socket

import pytest

from tutorial_helpers import environment
from tutorial_helpers.environment import SetupError, ensure_local_taskrouter, prepare, verify_credentials
from tutorial_helpers.settings import Settings, SettingsError

SID = "AC" + "0123456789abcdef" * 2
VARIABLES = ("TUTORIAL_MODE", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN", "LOCAL_TASKROUTER_URL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the working directory
    monkeypatch.setattr("tutorial_helpers.settings.REPO_ROOT", tmp_path / "no-repo")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_prepare_finds_the_local_taskrouter(taskrouter, monkeypatch, capsys):
    monkeypatch.setenv("LOCAL_TASKROUTER_URL", taskrouter.base_url)
    started = []
    monkeypatch.setattr(environment, "ensure_running", lambda *a: started.append(a))
    settings = prepare()
    assert settings.mode == "local" and settings.local_base_url == taskrouter.base_url
    assert started == []  # it answered, nothing was started
    out = capsys.readouterr().out
    assert f"local mode: TaskRouter at {taskrouter.base_url}" in out and "it was already running" in out
    assert settings.auth_token not in out


def test_prepare_starts_the_local_taskrouter_when_none_answers(monkeypatch):
    monkeypatch.setenv("LOCAL_TASKROUTER_URL", "http://127.0.0.1:1")
    started = []
    monkeypatch.setattr(environment, "ensure_running", lambda host, port: started.append((host, port)))
    settings = Settings("local", SID, "t", None, "http://127.0.0.1:1")
    assert ensure_local_taskrouter(settings) is True
    assert started == [("127.0.0.1", 1)]


def test_a_remote_url_is_never_started(monkeypatch):
    monkeypatch.setattr(environment, "ensure_running", lambda *a: pytest.fail("started"))
    monkeypatch.setattr(environment, "is_running", lambda url: False)
    with pytest.raises(SetupError, match="only one on this machine"):
        ensure_local_taskrouter(Settings("local", SID, "t", None, "http://192.0.2.1:8765"))


def test_a_port_taken_by_something_else_is_explained(monkeypatch):
    def fail(host, port):
        raise environment.LocalTaskRouterUnavailable("could not start on 127.0.0.1:1")

    monkeypatch.setattr(environment, "ensure_running", fail)
    with pytest.raises(SetupError, match="LOCAL_TASKROUTER_PORT=8766"):
        ensure_local_taskrouter(Settings("local", SID, "t", None, "http://127.0.0.1:1"))


def test_refused_local_credentials_are_explained(taskrouter):
    settings = Settings("local", taskrouter.account_sid, "not-the-token", None, taskrouter.base_url)
    with pytest.raises(SetupError) as err:
        verify_credentials(settings)
    assert "other TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN" in str(err.value)
    assert "not-the-token" not in str(err.value)
    assert err.value._render_traceback_() == [f"SetupError: {err.value}"]


@pytest.mark.parametrize(
    ("present", "needs"),
    [
        ({}, "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and NGROK_AUTHTOKEN. Enter them"),
        ({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "secret-token"}, "NGROK_AUTHTOKEN. Enter it"),
    ],
    ids=["nothing", "no-ngrok-token"],
)
def test_twilio_misconfiguration_fails_before_the_network(monkeypatch, no_network, present, needs):
    for name, value in present.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        prepare("twilio", prompt=False)
    message = str(err.value)
    assert f"Twilio mode needs {needs} in notebook 00's settings form" in message
    assert "To go back to local mode" in message and "TUTORIAL_MODE=local" in message
    assert "secret-token" not in message


def test_twilio_mode_without_verification_touches_nothing(monkeypatch, no_network, capsys):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret-token")
    monkeypatch.setenv("NGROK_AUTHTOKEN", "secret-ngrok")
    settings = prepare("twilio", prompt=False, verify=False)
    assert settings.taskrouter_url == "https://taskrouter.twilio.com"
    out = capsys.readouterr().out
    assert "twilio" in out and "secret" not in out
