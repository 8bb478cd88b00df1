import os
import re
import socket
import threading
from collections.abc import Iterator

import pytest
import requests
from werkzeug.serving import make_server

from tutorial_helpers import environment
from tutorial_helpers.environment import SetupError, ensure_local_taskrouter, prepare, verify_credentials
from tutorial_helpers.local_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, LocalTaskRouter
from tutorial_helpers.local_twilio.defaults import default_data_dir
from tutorial_helpers.local_twilio.ensure import Answer
from tutorial_helpers.settings import Settings, SettingsError

SID = "AC" + "0123456789abcdef" * 2
VARIABLES = ("TUTORIAL_MODE", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN", "LOCAL_TASKROUTER_URL",
             "LOCAL_TASKROUTER_PORT")
# A workshop card: an account of the attendee's own on the room's server.
CARD = ("AC" + "c" * 32, "card-token")


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
    monkeypatch.setattr(environment, "probe", lambda url: Answer())
    with pytest.raises(SetupError, match="only one on this machine"):
        ensure_local_taskrouter(Settings("local", SID, "t", None, "http://192.0.2.1:8765"))


@pytest.fixture
def other_program() -> Iterator[int]:
    """A web server that is not a local TaskRouter, on a free port."""
    server = make_server("127.0.0.1", 0, lambda environ, start: start("404 Not Found", []) or [b"no"])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_a_port_taken_by_another_program_is_explained(other_program):
    with pytest.raises(SetupError) as err:
        ensure_local_taskrouter(Settings("local", SID, "t", None, f"http://127.0.0.1:{other_program}"))
    assert f"Another program (not a local TaskRouter) answers at http://127.0.0.1:{other_program}" in str(err.value)
    assert "`make lab LOCAL_TASKROUTER_PORT=" in str(err.value) and "LOCAL_TASKROUTER_URL=" in str(err.value)


# Shared machines (issue 16): this test's XDG_DATA_HOME is the learner's; another data dir is someone else's.


@pytest.fixture
def strangers(tmp_path) -> Iterator[LocalTaskRouter]:
    """Another data dir's local TaskRouter (another user's `make lab`), which also has a workshop card's account."""
    with LocalTaskRouter(data_dir=tmp_path / "someone-else", account_sid=DEFAULT_ACCOUNT_SID,
                         auth_token=DEFAULT_AUTH_TOKEN, extra_accounts=dict([CARD])) as tr:
        yield tr


def test_a_strangers_server_at_the_learners_own_address_is_not_used(strangers, monkeypatch):
    # Notebooks under `make lab LOCAL_TASKROUTER_PORT=N` (the Makefile passes both variables), or with only the port.
    monkeypatch.setenv("LOCAL_TASKROUTER_PORT", str(strangers.port))
    before = requests.get(f"{strangers.base_url}/_local/health", timeout=5).json()
    for url in (None, strangers.base_url):
        if url:
            monkeypatch.setenv("LOCAL_TASKROUTER_URL", url)
        with pytest.raises(SetupError) as err:
            prepare()
        message = str(err.value)
        assert message.startswith(f"The local TaskRouter at {strangers.base_url} is not yours: it keeps its data in "
                                  f"another data dir than yours ({default_data_dir()}; another XDG_DATA_HOME or "
                                  "--data-dir); it was neither used nor stopped.")
        other = re.search(r"`make lab LOCAL_TASKROUTER_PORT=(\d+)`", message).group(1)
        assert f"LOCAL_TASKROUTER_URL=http://127.0.0.1:{other}" in message and int(other) != strangers.port
        assert err.value._render_traceback_() == [f"SetupError: {message}"]  # one line in the notebook, no trace
    assert requests.get(f"{strangers.base_url}/_local/health", timeout=5).json() == before


def test_the_learners_own_server_is_used(monkeypatch, capsys):
    with LocalTaskRouter(data_dir=default_data_dir()) as own:  # what their `make lab` started, on their data dir
        monkeypatch.setenv("LOCAL_TASKROUTER_PORT", str(own.port))
        prepare()
    assert "it was already running; credentials accepted" in capsys.readouterr().out


def test_a_room_on_this_machine_that_has_an_account_for_the_learner_is_used(strangers, monkeypatch, capsys):
    monkeypatch.setenv("LOCAL_TASKROUTER_URL", strangers.base_url)
    monkeypatch.setenv("LOCAL_TASKROUTER_PORT", str(strangers.port))  # even at the learner's own address
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", CARD[0])
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", CARD[1])
    prepare()
    assert "it was already running; credentials accepted" in capsys.readouterr().out
    # A card the server does not know is no account there: someone else's server, not used.
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-card-token")
    with pytest.raises(SetupError, match="neither used nor stopped"):
        prepare()


def test_another_users_server_is_not_used_even_at_a_url_set_on_purpose(monkeypatch):
    """Only the uid differs from the case above (a second server of the learner's, a test's): one we cannot start
    as a test, so /_local/health's answer is made up here."""
    url = "http://127.0.0.1:8799"
    theirs = {"status": "ok", "service": "local-taskrouter", "instance": "f" * 32, "owner_uid": os.getuid() + 1}
    monkeypatch.setattr(environment, "probe", lambda u: Answer(health=theirs))
    monkeypatch.setattr(environment, "ensure_running", lambda *a: pytest.fail("started"))
    settings = Settings("local", DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, None, url)
    assert not settings.own_local_server
    refusal = rf"at {url} is another user's \(.*uid {os.getuid() + 1}\), not yours; it was neither used nor stopped"
    with pytest.raises(SetupError, match=refusal):
        ensure_local_taskrouter(settings)
    # The same server run by this learner for another data dir, at a URL they set on purpose, is theirs to use.
    monkeypatch.setattr(environment, "probe", lambda u: Answer(health={**theirs, "owner_uid": os.getuid()}))
    assert ensure_local_taskrouter(settings) is False


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
