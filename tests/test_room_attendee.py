"""The attendee's side of a workshop room (issue 16): a card in .env, `make lab`, CALLBACK_HOST, reachability.

The room is the local TaskRouter's CLI as a real process with an account a facilitator created through
/_local/Accounts, as in a workshop; the attendee is this test process with the card's three values in a
`.env` in tmp_path (the cwd). Everything between them is real HTTP: the reachability test, the callbacks
and their signatures.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask, Response, redirect
from twilio.request_validator import RequestValidator

from tutorial_helpers import settings as settings_module
from tutorial_helpers.callback_host import lan_address
from tutorial_helpers.callback_server import CallbackPortBusy, CallbackServer, start_callback_server
from tutorial_helpers.checks import _callback_host_advice, check_environment
from tutorial_helpers.lab_target import plan
from tutorial_helpers.local_twilio import DEFAULT_ACCOUNT_SID, make_local_client
from tutorial_helpers.local_twilio.accounts import facilitator_token
from tutorial_helpers.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]
READY = re.compile(r"Local TaskRouter ready at (http://\S+)/v1")
VARIABLES = ("TUTORIAL_MODE", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN", "LOCAL_TASKROUTER_URL",
             "LOCAL_TASKROUTER_PORT", "CALLBACK_HOST", "CALLBACK_PORT", "TWILIO_API_BASE_URL", "NGROK_PATH")


@dataclass
class Room:
    """A room's TaskRouter (the CLI, its own process and data dir) and the facilitator's token for it."""

    url: str
    data_dir: Path
    process: subprocess.Popen

    def create_account(self, name: str) -> dict:
        answer = requests.post(f"{self.url}/_local/Accounts", data={"FriendlyName": name}, timeout=10,
                               headers={"Authorization": f"Bearer {facilitator_token(self.data_dir)}"})
        assert answer.status_code == 201, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Room]:
    # One process for the module: starting the CLI is the slow part, and each test uses accounts of its own.
    data_dir = tmp_path_factory.mktemp("room")
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    process = subprocess.Popen(
        [sys.executable, "-m", "tutorial_helpers.local_twilio", "--port", "0", "--data-dir", str(data_dir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()  # the ready line, or the reason it did not start
    found = READY.search(line)
    if not found:
        process.kill()
        raise AssertionError(f"the room's TaskRouter did not start: {line}{process.stdout.read()}")
    threading.Thread(target=process.stdout.read, daemon=True).start()  # never let its pipe fill up
    yield Room(found.group(1), data_dir, process)
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(autouse=True)
def attendee(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean attendee: no ambient settings, no .env but the one a test writes in the cwd, a data dir of
    their own (so nothing here can find or start the user's real local TaskRouter)."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings_module, "REPO_ROOT", tmp_path / "no-repo")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path


@pytest.fixture(autouse=True)
def no_server_left() -> Iterator[None]:
    yield
    server = CallbackServer.current()
    if server is not None:
        server.stop()


def write_card(where: Path, url: str, account: dict, **more: str) -> Path:
    """The card's three values in `.env`, as an attendee copies them (plus any other settings)."""
    values = {"LOCAL_TASKROUTER_URL": url, "TWILIO_ACCOUNT_SID": account["sid"],
              "TWILIO_AUTH_TOKEN": account["auth_token"], **more}
    path = where / ".env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def lab_target(port: int, cwd: Path, *command: str) -> subprocess.CompletedProcess:
    """What `make lab` runs, with `command` in place of JupyterLab."""
    return subprocess.run([sys.executable, "-m", "tutorial_helpers.lab_target", "--port", str(port), "--", *command],
                          cwd=cwd, env=dict(os.environ), capture_output=True, text=True, timeout=60)


# ------------------------------------------------------------------------------------------- the card


def test_the_card_in_dot_env_is_the_notebooks_room_and_account(room: Room, attendee: Path) -> None:
    account = room.create_account("Card in dotenv")
    write_card(attendee, room.url, account)
    s = load_settings()
    assert (s.mode, s.local_base_url, s.account_sid, s.auth_token) == ("local", room.url, account["sid"],
                                                                       account["auth_token"])
    assert s.room and s.callback_host == "127.0.0.1"
    assert "workshop room" in s.describe() and account["auth_token"] not in s.describe() + repr(s)


def test_half_a_card_is_no_card(room: Room, attendee: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The URL alone (a test's server, a second server of one's own) keeps the local account, and credentials
    in .env are not mixed with a URL from the environment: a card is the three values from one place."""
    account = room.create_account("Half a card")
    (attendee / ".env").write_text(f"LOCAL_TASKROUTER_URL={room.url}\n")
    s = load_settings()
    assert s.local_base_url == room.url and s.account_sid == DEFAULT_ACCOUNT_SID and not s.room
    write_card(attendee, room.url, account)
    monkeypatch.setenv("LOCAL_TASKROUTER_URL", "http://127.0.0.1:9")
    s = load_settings()
    assert s.account_sid == DEFAULT_ACCOUNT_SID and not s.room


def test_the_card_in_the_environment_works_the_same(room: Room, monkeypatch: pytest.MonkeyPatch) -> None:
    account = room.create_account("Card in env")
    monkeypatch.setenv("LOCAL_TASKROUTER_URL", room.url)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", account["sid"])
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", account["auth_token"])
    s = load_settings()
    assert s.room and s.account_sid == account["sid"] and s.local_base_url == room.url


# ------------------------------------------------------------------------------------------- make lab


def test_make_lab_picks_the_room_and_starts_nothing(room: Room, attendee: Path) -> None:
    account = room.create_account("Lab with a card")
    write_card(attendee, room.url, account)
    port = free_port()
    chosen = plan(port)
    assert chosen.card is not None and chosen.url == room.url and not chosen.starts_own
    # The kernels read the whole card where it is; only the port of their own server is passed on.
    assert chosen.environment == {"LOCAL_TASKROUTER_PORT": str(port)}

    shown = "import os; print('URL=' + os.environ.get('LOCAL_TASKROUTER_URL', '-')); " \
            "print('PORT=' + os.environ['LOCAL_TASKROUTER_PORT'])"
    result = lab_target(port, attendee, sys.executable, "-c", shown)
    assert result.returncode == 0, result.stderr
    assert f"Using the workshop room's TaskRouter at {room.url}" in result.stdout
    assert "nothing started on this machine" in result.stdout
    assert "URL=-" in result.stdout and f"PORT={port}" in result.stdout  # what JupyterLab would get
    assert not listening(port)
    assert not (attendee / "xdg").exists()  # no data dir, no instance id: nothing of our own was started


def test_without_a_card_make_lab_does_what_it_always_did(attendee: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = plan(8799)
    assert chosen.starts_own and chosen.card is None
    assert chosen.environment == {"LOCAL_TASKROUTER_URL": "http://127.0.0.1:8799", "LOCAL_TASKROUTER_PORT": "8799"}
    # A LOCAL_TASKROUTER_URL in the environment still wins, as make's `?=` let it; one in .env alone does not.
    (attendee / ".env").write_text("LOCAL_TASKROUTER_URL=http://127.0.0.1:8800\n")
    assert plan(8799).url == "http://127.0.0.1:8799"
    monkeypatch.setenv("LOCAL_TASKROUTER_URL", "http://127.0.0.1:8801")
    assert plan(8799).environment["LOCAL_TASKROUTER_URL"] == "http://127.0.0.1:8801"


def test_make_lab_with_a_card_whose_room_is_not_there_says_so(attendee: Path) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    write_card(attendee, gone, {"sid": "AC" + "e" * 32, "auth_token": "t" * 32})
    port = free_port()
    result = lab_target(port, attendee, sys.executable, "-c", "print('JUPYTER RAN')")
    assert result.returncode == 1 and "JUPYTER RAN" not in result.stdout
    assert f"No local TaskRouter answers at {gone}" in result.stderr
    assert "nothing was started on this machine" in result.stderr and "Traceback" not in result.stderr
    assert not listening(port)


def test_make_lab_with_a_mistyped_token_says_which_file_to_fix(room: Room, attendee: Path) -> None:
    account = room.create_account("Typo")
    env = write_card(attendee, room.url, {**account, "auth_token": account["auth_token"][:-1] + "x"})
    result = lab_target(free_port(), attendee, sys.executable, "-c", "print('JUPYTER RAN')")
    assert result.returncode == 1 and "JUPYTER RAN" not in result.stdout
    assert "refused the account on your card" in result.stderr and str(env) in result.stderr
    assert account["auth_token"][:-1] not in result.stderr


def test_make_lab_refuses_a_bad_callback_host_before_jupyter_starts(room: Room, attendee: Path) -> None:
    write_card(attendee, room.url, room.create_account("Bad host"), CALLBACK_HOST="http://192.168.1.5")
    result = lab_target(free_port(), attendee, sys.executable, "-c", "print('JUPYTER RAN')")
    assert result.returncode == 1 and "CALLBACK_HOST" in result.stderr and "JUPYTER RAN" not in result.stdout


# ------------------------------------------------------------------------------------------- CALLBACK_HOST


def ok_app() -> Flask:
    app = Flask("attendee")

    @app.post("/assignment_callback")
    def assignment() -> Response:
        return Response("{}", mimetype="application/json")

    @app.post("/events")
    def events() -> Response:
        return Response("", status=204)

    return app


def test_local_mode_without_a_card_keeps_loopback(attendee: Path) -> None:
    s = load_settings()
    server = start_callback_server(ok_app(), s)
    assert server.host == "127.0.0.1" and server.url_for("/a") == f"http://127.0.0.1:{server.port}/a"


def test_all_addresses_bind_everywhere_and_advertise_the_lan_address(attendee: Path, monkeypatch) -> None:
    monkeypatch.setenv("CALLBACK_HOST", "0.0.0.0")
    s = load_settings()
    server = start_callback_server(ok_app(), s)
    assert server.host == "0.0.0.0"
    assert server.url_for("/assignment_callback") == f"http://{lan_address()}:{server.port}/assignment_callback"
    assert requests.get(server.url_for("/_health"), timeout=10).status_code == 200  # by the advertised address


def test_an_address_of_this_machine_is_bound_and_advertised_as_is(attendee: Path, monkeypatch) -> None:
    address = lan_address()
    if address == "127.0.0.1":
        pytest.skip("this machine has no network address but loopback")
    monkeypatch.setenv("CALLBACK_HOST", address)
    server = start_callback_server(ok_app(), load_settings())
    assert server.host == address and server.local_url == f"http://{address}:{server.port}"
    with pytest.raises(requests.ConnectionError):  # bound there only: loopback is not listening
        requests.get(f"http://127.0.0.1:{server.port}/_health", timeout=5)


@pytest.mark.parametrize("value, words", [
    ("http://192.168.1.5", "without scheme, port or brackets"),
    ("192.168.1.5:8000", "without scheme, port or brackets"),
    ("my laptop", "an IP address or a host name"),
    ("198.51.100.77", "is not an address of this machine"),  # TEST-NET-2: nobody's
    ("no-such-host.invalid", "does not resolve"),
    ("224.0.0.1", "multicast"),
])
def test_a_bad_callback_host_is_refused_with_what_to_set(monkeypatch, value: str, words: str) -> None:
    monkeypatch.setenv("CALLBACK_HOST", value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    message = str(refused.value)
    assert words in message and "CALLBACK_HOST" in message and "0.0.0.0" in message


# ------------------------------------------------------------------------------------------- CALLBACK_PORT


def test_callback_port_fixes_the_port_and_a_rerun_keeps_it(attendee: Path, monkeypatch) -> None:
    port = free_port()
    monkeypatch.setenv("CALLBACK_PORT", str(port))
    first = start_callback_server(ok_app(), load_settings())
    assert first.port == port and first.url_for("/a") == f"http://127.0.0.1:{port}/a"
    again = start_callback_server(ok_app(), load_settings())  # the notebook's cell run again
    assert again is first and again.port == port
    assert requests.get(f"http://127.0.0.1:{port}/_health", timeout=10).status_code == 200


@pytest.mark.parametrize("value", ["80", "70000", "eighty", "８７８０", "8780.0", "-1"])
def test_a_bad_callback_port_is_refused_with_what_to_set(attendee: Path, monkeypatch, value: str) -> None:
    monkeypatch.setenv("CALLBACK_PORT", value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "CALLBACK_PORT must be a port number from 1024 to 65535" in str(refused.value)
    assert repr(value) in str(refused.value)


def test_a_taken_callback_port_names_the_setting_and_what_to_do(attendee: Path, monkeypatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("CALLBACK_PORT", str(port))
        with pytest.raises(CallbackPortBusy) as busy:
            start_callback_server(ok_app(), load_settings())
    message = str(busy.value)
    assert f"CALLBACK_PORT={port}" in message and "another notebook's kernel" in message
    assert "Shut Down Kernel" in message and "unset CALLBACK_PORT" in message
    assert busy.value._render_traceback_() == [f"CallbackPortBusy: {message}"]


def test_notebook_00s_check_tests_the_callback_port(room: Room, attendee: Path) -> None:
    port = free_port()
    write_card(attendee, room.url, room.create_account("Fixed port"), CALLBACK_PORT=str(port))
    result = check_environment(load_settings())
    assert result.ok, str(result)
    assert any(f"reaches this kernel's callback server at http://127.0.0.1:{port}/" in line for line in result.seen)
    assert CallbackServer.current() is None
    # Later, with the notebook's own server already on that port, the check tests that server.
    server = start_callback_server(ok_app(), load_settings())
    result = check_environment(load_settings())
    assert result.ok, str(result)
    assert CallbackServer.current() is server and server.running and server.port == port


def test_the_firewall_advice_names_the_callback_port() -> None:
    far = Settings("local", "AC" + "a" * 32, "t", local_base_url="http://192.0.2.77:8765", room=True)
    assert "set CALLBACK_PORT (say 8780) and allow that" in _callback_host_advice(far)
    fixed = Settings("local", "AC" + "a" * 32, "t", local_base_url="http://192.0.2.77:8765", room=True,
                     callback_port=8780)
    assert "or port 8780 (CALLBACK_PORT)" in _callback_host_advice(fixed)


# ------------------------------------------------------------------------------------------- reachability


def test_the_room_reaches_the_attendees_callback_server(room: Room, attendee: Path) -> None:
    account = room.create_account("Reachable")
    write_card(attendee, room.url, account)
    server = start_callback_server(ok_app(), load_settings())
    answer = requests.post(f"{room.url}/_local/Reachability", data={"Url": server.url_for("/_health")},
                           auth=(account["sid"], account["auth_token"]), timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"url": server.url_for("/_health"), "reached": True, "status": 200, "reason": None}
    assert len(server.log) == 0  # a test, not a callback: the widgets show nothing


def test_a_url_nothing_listens_on_is_unreachable_with_why(room: Room) -> None:
    account = room.create_account("Nobody home")
    url = f"http://127.0.0.1:{free_port()}/_health"
    answer = requests.post(f"{room.url}/_local/Reachability", data={"Url": url},
                           auth=(account["sid"], account["auth_token"]), timeout=30).json()
    assert answer["reached"] is False and answer["status"] is None and "connection refused" in answer["reason"]


def test_reachability_is_not_a_proxy(room: Room) -> None:
    """Only the status comes back: no body, no headers, and a redirect is reported, not followed."""
    account = room.create_account("No proxy")
    auth = (account["sid"], account["auth_token"])
    site = Flask("site")
    site.add_url_rule("/secret", "secret", lambda: Response("TOP-SECRET", headers={"X-Secret": "TOP-SECRET"}))
    site.add_url_rule("/moved", "moved", lambda: redirect("/secret"))
    server = CallbackServer(site, "unused")  # any web server; this one is at hand and real
    server._check.browser_paths = ("/",)
    try:
        for path, status in (("/secret", 200), ("/moved", 302)):
            answer = requests.post(f"{room.url}/_local/Reachability", data={"Url": server.url_for(path)}, auth=auth,
                                   timeout=30)
            assert "TOP-SECRET" not in answer.text and answer.json()["status"] == status
    finally:
        server.stop()
    unsigned = requests.post(f"{room.url}/_local/Reachability", data={"Url": "http://127.0.0.1:9/"}, timeout=30)
    assert unsigned.status_code == 401  # an account's Basic auth, like the API
    for bad in ("ftp://127.0.0.1/", "file:///etc/passwd", ""):
        refused = requests.post(f"{room.url}/_local/Reachability", data={"Url": bad}, auth=auth, timeout=30)
        assert refused.status_code == 400 and refused.json()["code"] == 20001


# ------------------------------------------------------------------------------------------- notebook 00's check


def test_notebook_00s_check_in_a_room_tests_reachability(room: Room, attendee: Path) -> None:
    write_card(attendee, room.url, room.create_account("Check ok"))
    result = check_environment(load_settings())
    assert result.ok, str(result)
    assert any("reaches this kernel's callback server" in line for line in result.seen)
    assert "workshop room's TaskRouter" in result.message
    assert CallbackServer.current() is None  # the test's server is gone; notebook 01 starts its own


def test_notebook_00s_check_says_what_to_change_when_the_room_cannot_reach_this_kernel(
        room: Room, attendee: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_card(attendee, room.url, room.create_account("Check fails"))
    # One machine cannot be two: listening on 127.0.0.2 while the URL says 127.0.0.1 is what the room sees
    # when CALLBACK_HOST is an address it cannot reach (a real connection, really refused).
    monkeypatch.setattr("tutorial_helpers.checks.setup.callback_address", lambda settings: ("127.0.0.2", "127.0.0.1"))
    result = check_environment(load_settings())
    assert not result.ok
    text = str(result)
    assert "cannot reach this kernel's callback server" in text and "connection refused" in text
    assert "CALLBACK_HOST" in text and "firewall" in text and "same network" in text


def test_the_advice_names_an_address_to_set_when_the_room_is_elsewhere() -> None:
    far = Settings("local", "AC" + "a" * 32, "t", local_base_url="http://192.0.2.77:8765", room=True)
    assert not far.taskrouter_on_this_machine
    advice = _callback_host_advice(far)
    assert "CALLBACK_HOST is 127.0.0.1, which only this machine can reach" in advice
    assert f"CALLBACK_HOST={lan_address('192.0.2.77')}" in advice and "CALLBACK_HOST=0.0.0.0" in advice


# ------------------------------------------------------------------------------------------- signatures


def test_an_attendees_callbacks_are_signed_with_their_own_token(room: Room, attendee: Path) -> None:
    account = room.create_account("Signed")
    other = room.create_account("Someone else")
    write_card(attendee, room.url, account)
    settings = load_settings()
    server = start_callback_server(ok_app(), settings)
    client = make_local_client(room.url, account["sid"], account["auth_token"])
    ws = client.taskrouter.v1.workspaces.create(friendly_name="Signed", event_callback_url=server.url_for("/events"))
    # worker.created goes to the event callback, signed by the room with this account's token.
    client.taskrouter.v1.workspaces(ws.sid).workers.create(friendly_name="Alice")
    deadline = time.monotonic() + 15
    while not [e for e in server.log.entries() if e.path == "/events"] and time.monotonic() < deadline:
        time.sleep(0.05)
    events = [e for e in server.log.entries() if e.path == "/events"]
    assert events and all(e.signature_valid and e.status == 204 for e in events)

    unsigned = requests.post(server.url_for("/events"), data={"EventType": "worker.created"}, timeout=10)
    assert unsigned.status_code == 403
    url = server.url_for("/events")
    params = {"EventType": "worker.created"}
    by_other = RequestValidator(other["auth_token"]).compute_signature(url, params)
    assert requests.post(url, data=params, headers={"X-Twilio-Signature": by_other}, timeout=10).status_code == 403
    client.taskrouter.v1.workspaces(ws.sid).delete()


def test_notebook_00_in_a_room_checks_that_the_room_reaches_the_kernel(room: Room, monkeypatch) -> None:
    """Notebook 00 as an attendee runs it, the card in the environment (the kernel inherits it)."""
    from test_notebooks import execute, output_text

    account = room.create_account("Notebook 00")
    for name, value in (("LOCAL_TASKROUTER_URL", room.url), ("TWILIO_ACCOUNT_SID", account["sid"]),
                        ("TWILIO_AUTH_TOKEN", account["auth_token"])):
        monkeypatch.setenv(name, value)
    text = output_text(execute("00_setup.ipynb"))
    assert "local mode in a workshop room" in text and "Correct (environment)" in text
    assert "reaches this kernel's callback server" in text and account["auth_token"] not in text
