"""Several accounts in one local TaskRouter, made by a facilitator through /_local/Accounts (issue 16).

Each account is driven as an attendee would drive it, through the official SDK with its own SID and token;
the facilitator's endpoints through raw HTTP with the facilitator's bearer token. The restart and the
replaced room key run the CLI as a real process.
"""

import hashlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from cli_support import ACCOUNT, MODULE, ROOT
from polling import wait_until
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from voice_app import VoiceApp

from tutorial_helpers.local_twilio import LocalTaskRouter, make_local_client
from tutorial_helpers.local_twilio.accounts import facilitator_token
from tutorial_helpers.workspace import WORKSPACE_NAME, build_quickstart

ACCOUNTS = "/_local/Accounts"


class Facilitator:
    """The facilitator's side: /_local/Accounts with the bearer token computed from the data dir."""

    def __init__(self, base_url: str, data_dir: Path) -> None:
        self.base_url = base_url
        self.token = facilitator_token(data_dir)
        self.session = requests.Session()

    def request(self, method: str, path: str, token: str | None = ..., **kwargs) -> requests.Response:
        token = self.token if token is ... else token
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.session.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def create(self, name: str) -> dict:
        response = self.request("POST", ACCOUNTS, data={"FriendlyName": name})
        assert response.status_code == 201, response.text
        return response.json()

    def listed(self) -> list[dict]:
        response = self.request("GET", ACCOUNTS)
        assert response.status_code == 200, response.text
        return response.json()["accounts"]

    def delete(self, sid: str) -> None:
        response = self.request("DELETE", f"{ACCOUNTS}/{sid}")
        assert response.status_code == 204, response.text


def client_of(base_url: str, account: dict):
    return make_local_client(base_url, account["sid"], account["auth_token"])


def refused(call) -> int:
    """The HTTP status the SDK call was refused with (a list's page fetch raises TwilioException, not
    TwilioRestException, and carries the response)."""
    with pytest.raises(TwilioException) as caught:
        call()
    error = caught.value
    return error.status if isinstance(error, TwilioRestException) else error.args[1].status_code


def error_body(response: requests.Response, status: int, code: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    return body


@pytest.fixture
def facilitator(taskrouter) -> Facilitator:
    f = Facilitator(taskrouter.base_url, taskrouter.data_dir)
    yield f
    f.session.close()


# ------------------------------------------------------------------------------------ isolation


def test_each_account_builds_the_quickstart_and_sees_only_its_own(taskrouter, facilitator):
    made = [facilitator.create(name) for name in ("Ana", "Ben", "Chloé")]
    assert all(a["sid"].startswith("AC") and len(a["sid"]) == 34 and a["sid"][2:] == a["sid"][2:].lower()
               for a in made)
    assert len({a["sid"] for a in made}) == len({a["auth_token"] for a in made}) == 3
    clients = [client_of(taskrouter.base_url, a) for a in made]
    with ThreadPoolExecutor(3) as pool:  # a room builds at the same time
        built = list(pool.map(build_quickstart, clients))

    for client, mine in zip(clients, built, strict=True):
        assert [w.sid for w in client.taskrouter.v1.workspaces.list()] == [mine.workspace_sid]
    # The account given on the command line sees none of theirs.
    assert taskrouter.client().taskrouter.v1.workspaces.list() == []

    ana, ben = clients[0].taskrouter.v1, built[1]
    theirs = ana.workspaces(ben.workspace_sid)
    for attempt in (
        theirs.fetch,
        lambda: theirs.update(friendly_name="Taken over"),
        theirs.delete,
        lambda: theirs.workers.list(),
        lambda: theirs.workers(ben.workers["Alice"]).fetch(),
        lambda: theirs.tasks.create(attributes=json.dumps({"selected_language": "es"}),
                                    workflow_sid=ben.workflow_sid),
    ):
        assert refused(attempt) == 404
    # Ben's workflow from Ana's own workspace is not hers either (a 400 naming it, as for any foreign SID).
    with pytest.raises(TwilioRestException) as caught:
        ana.workspaces(built[0].workspace_sid).tasks.create(attributes="{}", workflow_sid=ben.workflow_sid)
    assert caught.value.status == 400 and ben.workflow_sid in caught.value.msg
    # Nothing of Ben's changed, and Ana made no task anywhere.
    ben_ws = clients[1].taskrouter.v1.workspaces(ben.workspace_sid)
    assert ben_ws.fetch().friendly_name == WORKSPACE_NAME
    assert ben_ws.tasks.list() == [] and ana.workspaces(built[0].workspace_sid).tasks.list() == []

    # The 2010-04-01 API too: each account has its own numbers and keys, and another's path is a 404.
    for client in clients:
        numbers = client.incoming_phone_numbers.list()
        assert {n.phone_number for n in numbers} == {"+12025550100", "+12025550101", "+12025550102"}
        assert {n.account_sid for n in numbers} == {client.account_sid}
    key = clients[1].new_keys.create(friendly_name="Ben's key")
    assert [k.sid for k in clients[1].keys.list()] == [key.sid] and clients[0].keys.list() == []
    assert refused(lambda: clients[0].api.v2010.accounts(made[1]["sid"]).keys.list()) == 404


def test_accounts_are_listed_oldest_first_without_their_tokens(taskrouter, facilitator):
    assert facilitator.listed() == []
    made = [facilitator.create(name) for name in ("Zoe", "Adam", "Maya")]
    listed = facilitator.listed()
    assert listed == [{"sid": a["sid"], "friendly_name": a["friendly_name"], "date_created": a["date_created"]}
                      for a in made]
    assert list(made[0]) == ["sid", "friendly_name", "auth_token", "date_created"]


def test_a_created_accounts_calls_reach_its_own_numbers_signed_with_its_token(taskrouter, facilitator):
    """Every account has +12025550100: a call from an account reaches that account's number, not the first one
    made, and the webhook is signed with that account's token."""
    made = [facilitator.create(name) for name in ("Ana", "Ben")]
    clients = [client_of(taskrouter.base_url, a) for a in made]
    apps = [VoiceApp(a["auth_token"]) for a in made]
    try:
        for client, app, name in zip(clients, apps, ("ana", "ben"), strict=True):
            number = client.incoming_phone_numbers.list(phone_number="+12025550100")[0]
            number.update(voice_url=app.url(f"/incoming_{name}"))
        for client in reversed(clients):
            client.calls.create(to="+12025550100", from_="+15551230000", twiml="<Response><Hangup/></Response>")
        for app, name, account in zip(apps, ("ana", "ben"), made, strict=True):
            (request,) = wait_until(lambda app=app: app.requests, what=f"{name}'s webhook")
            assert request["path"] == f"/incoming_{name}" and request["signed"]
            assert request["values"]["AccountSid"] == account["sid"]
    finally:
        for app in apps:
            app.close()


# ------------------------------------------------------------------------------------ callbacks


def test_an_assignment_callback_is_signed_with_the_created_accounts_token(taskrouter, facilitator, callbacks):
    account = facilitator.create("Ana")
    client = client_of(taskrouter.base_url, account)
    quickstart = build_quickstart(client, callbacks.url())
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    ws.workers(quickstart.workers["Alice"]).update(activity_sid=quickstart.activities["Idle"])
    task = ws.tasks.create(attributes=json.dumps({"selected_language": "es"}), workflow_sid=quickstart.workflow_sid)

    (request,) = callbacks.wait_for(1)
    form = request["form"]
    assert (form["AccountSid"], form["TaskSid"]) == (account["sid"], task.sid)
    assert RequestValidator(account["auth_token"]).validate(request["url"], form, request["signature"])
    assert not RequestValidator(taskrouter.auth_token).validate(request["url"], form, request["signature"])


# ------------------------------------------------------------------------------------ the control endpoints


@pytest.mark.parametrize("how", ["none", "wrong", "basic", "attendee"])
def test_the_control_endpoints_need_the_facilitators_token(taskrouter, facilitator, how):
    attendee = facilitator.create("Ana")
    requests_to_try = [("GET", ACCOUNTS, None), ("POST", ACCOUNTS, {"FriendlyName": "Mallory"}),
                       ("DELETE", f"{ACCOUNTS}/{attendee['sid']}", None)]
    for method, path, data in requests_to_try:
        if how == "basic":  # an account's Basic auth is not the facilitator's
            response = facilitator.session.request(method, taskrouter.base_url + path, data=data, timeout=10,
                                                   auth=(taskrouter.account_sid, taskrouter.auth_token))
        else:
            token = {"none": None, "wrong": "0" * 32, "attendee": attendee["auth_token"]}[how]
            response = facilitator.request(method, path, token=token, data=data)
        body = error_body(response, 401, 20003)
        assert "facilitator" in body["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # Nothing was made or deleted.
    assert [a["friendly_name"] for a in facilitator.listed()] == ["Ana"]


@pytest.mark.parametrize("data", [
    {}, {"FriendlyName": ""}, {"FriendlyName": "   "}, {"FriendlyName": "x" * 65},
    {"FriendlyName": "tab\there"}, {"FriendlyName": "new\nline"}, {"FriendlyName": "nul\x00"},
], ids=["missing", "empty", "blank", "too-long", "tab", "newline", "nul"])
def test_a_bad_friendly_name_is_a_400_naming_it(facilitator, data):
    body = error_body(facilitator.request("POST", ACCOUNTS, data=data), 400, 20001)
    assert "FriendlyName" in body["message"]
    assert facilitator.listed() == []


def test_a_friendly_name_in_use_is_a_400_naming_it(facilitator):
    first = facilitator.create("Room 1 Ana")
    assert len(facilitator.create("x" * 64)["friendly_name"]) == 64
    for taken in ("Room 1 Ana", "room 1 ana", " Room 1 Ana "):
        body = error_body(facilitator.request("POST", ACCOUNTS, data={"FriendlyName": taken}), 400, 20001)
        assert f"named {taken.strip()} already exists" in body["message"]
    assert [a["sid"] for a in facilitator.listed()][0] == first["sid"]
    assert len(facilitator.listed()) == 2


def test_deleting_an_account_deletes_what_it_owns_and_its_token_fails_at_once(taskrouter, facilitator):
    ana, ben = facilitator.create("Ana"), facilitator.create("Ben")
    ana_client, ben_client = client_of(taskrouter.base_url, ana), client_of(taskrouter.base_url, ben)
    ana_ws = build_quickstart(ana_client)
    ana_client.taskrouter.v1.workspaces.create(friendly_name="Second")
    ana_ws_ctx = ana_client.taskrouter.v1.workspaces(ana_ws.workspace_sid)
    ana_ws_ctx.tasks.create(attributes=json.dumps({"selected_language": "es"}), workflow_sid=ana_ws.workflow_sid)
    ana_client.new_keys.create(friendly_name="page key")
    ben_ws = build_quickstart(ben_client)
    assert taskrouter.store.events(ana_ws.workspace_sid)

    facilitator.delete(ana["sid"])

    assert [a["sid"] for a in facilitator.listed()] == [ben["sid"]]
    assert refused(ana_client.taskrouter.v1.workspaces.list) == 401
    assert refused(ana_client.incoming_phone_numbers.list) == 401
    left = [r for r in taskrouter.backend.state.rows.values() if r.get("account_sid") == ana["sid"]]
    assert left == []  # workspaces and all in them, numbers, keys
    assert taskrouter.store.events(ana_ws.workspace_sid) == []
    stored = sqlite3.connect(taskrouter.store.path)
    try:
        assert stored.execute("SELECT sid FROM accounts").fetchall() == [(ben["sid"],)]
        assert stored.execute("SELECT COUNT(*) FROM resources WHERE data LIKE ?", (f"%{ana['sid']}%",)).fetchone() \
            == (0,)
    finally:
        stored.close()
    # Ben goes on as before; a second delete, or an unknown sid, is a 404.
    assert [w.sid for w in ben_client.taskrouter.v1.workspaces.list()] == [ben_ws.workspace_sid]
    error_body(facilitator.request("DELETE", f"{ACCOUNTS}/{ana['sid']}"), 404, 20404)
    error_body(facilitator.request("DELETE", f"{ACCOUNTS}/AC" + "0" * 32), 404, 20404)
    # The account given on the command line is not the facilitator's to delete.
    error_body(facilitator.request("DELETE", f"{ACCOUNTS}/{taskrouter.account_sid}"), 404, 20404)
    assert taskrouter.client().taskrouter.v1.workspaces.list() == []


CREATES = {
    "create_workspace": lambda c: c.taskrouter.v1.workspaces.create(friendly_name="Orphan"),
    "create_key": lambda c: c.new_keys.create(friendly_name="orphan key"),
    "create_number": lambda c: c.incoming_phone_numbers.create(phone_number="+12025550177"),
    "create_queue": lambda c: c.queues.create(friendly_name="orphan queue"),
    "create_call": lambda c: c.calls.create(to="+12025550100", from_="+12025550100", twiml="<Response/>"),
}


@pytest.mark.parametrize("operation", CREATES)
def test_a_create_authenticated_before_its_account_was_deleted_is_refused_and_leaves_nothing(
        taskrouter, facilitator, monkeypatch, operation):
    """The request passed authentication, then the facilitator deleted the account before it was served: it
    used to leave a row behind (a workspace, a key, ...) owned by an account that was gone."""
    ana = facilitator.create("Ana")
    ana_client = client_of(taskrouter.base_url, ana)
    owner = taskrouter.backend if operation == "create_workspace" else taskrouter.voice
    create = getattr(owner, operation)

    def after_the_delete(*args, **kwargs):
        facilitator.delete(ana["sid"])  # another request, on another server thread
        return create(*args, **kwargs)

    monkeypatch.setattr(owner, operation, after_the_delete)
    assert refused(lambda: CREATES[operation](ana_client)) == 401
    assert [r for r in taskrouter.backend.state.rows.values() if r.get("account_sid") == ana["sid"]] == []
    stored = sqlite3.connect(taskrouter.store.path)
    try:
        assert stored.execute("SELECT COUNT(*) FROM resources WHERE data LIKE ?", (f"%{ana['sid']}%",)).fetchone() \
            == (0,)
    finally:
        stored.close()


def test_deleting_an_account_with_calls_going_ends_them_quietly(taskrouter, facilitator, caplog):
    ana, ben = facilitator.create("Ana"), facilitator.create("Ben")
    ana_client, ben_client = client_of(taskrouter.base_url, ana), client_of(taskrouter.base_url, ben)
    app = VoiceApp(ana["auth_token"])
    try:
        app.pages["/incoming"] = "<Response><Pause length='600'/></Response>"
        ana_client.incoming_phone_numbers.list(phone_number="+12025550100")[0].update(voice_url=app.url("/incoming"))
        hold = "<Response><Pause length='600'/></Response>"
        ana_client.calls.create(to="+12025550100", from_="+15551230000", twiml=hold)  # answered, on hold
        ana_client.calls.create(to="+15559990000", from_="+15551230000", twiml=hold)  # rings, unanswered
        wait_until(lambda: app.requests, what="the Voice URL's request")
        facilitator.delete(ana["sid"])
        taskrouter.advance_clock(700)  # every timer the calls left fires, and finds nothing to do
    finally:
        app.close()
    assert [r for r in taskrouter.backend.state.rows.values() if r.get("account_sid") == ana["sid"]] == []
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert len(ben_client.incoming_phone_numbers.list()) == 3


def test_a_delete_that_fails_halfway_leaves_the_account_whole(taskrouter, facilitator, monkeypatch):
    """One unit of work: when the second workspace cannot be deleted, the first one comes back too."""
    ana = facilitator.create("Ana")
    client = client_of(taskrouter.base_url, ana)
    made = [client.taskrouter.v1.workspaces.create(friendly_name=name).sid for name in ("One", "Two")]
    backend, real = taskrouter.backend, taskrouter.backend.delete_workspace
    deleted = []

    def fails_on_the_second(account_sid: str, sid: str) -> None:
        if deleted:
            raise RuntimeError("disk full")
        real(account_sid, sid)
        deleted.append(sid)

    monkeypatch.setattr(backend, "delete_workspace", fails_on_the_second)
    error_body(facilitator.request("DELETE", f"{ACCOUNTS}/{ana['sid']}"), 500, 20500)
    monkeypatch.undo()

    assert deleted == made[:1]
    assert [a["sid"] for a in facilitator.listed()] == [ana["sid"]]
    assert [w.sid for w in client.taskrouter.v1.workspaces.list()] == made  # the token still works
    assert len(client.incoming_phone_numbers.list()) == 3
    facilitator.delete(ana["sid"])
    assert refused(client.taskrouter.v1.workspaces.list) == 401


def test_accounts_and_their_tokens_survive_an_in_process_restart(facilitator, taskrouter):
    """The same data dir, a new server object: the tokens are derived again, no key is made anew."""
    made = facilitator.create("Ana")
    key = (taskrouter.data_dir / "room.key").read_bytes()
    taskrouter.stop()
    with LocalTaskRouter(data_dir=taskrouter.data_dir) as again:
        client = client_of(again.base_url, made)
        assert client.taskrouter.v1.workspaces.list() == []
        assert again.backend.accounts[made["sid"]] == made["auth_token"]
    assert (taskrouter.data_dir / "room.key").read_bytes() == key


# ------------------------------------------------------------------------------------ the CLI, restarted


def stored_bytes(data_dir: Path) -> bytes:
    """Every byte SQLite keeps: the database, its write-ahead log, its shared memory."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("taskrouter.sqlite3*")))


def test_a_sigkill_and_restart_keep_the_accounts_and_no_plain_token_is_stored(cli, tmp_path):
    data_dir = tmp_path / "data"
    first = cli()
    facilitator = Facilitator(first.base_url, data_dir)
    made = [facilitator.create(name) for name in ("Ana", "Ben")]
    built = {a["sid"]: build_quickstart(client_of(first.base_url, a)).workspace_sid for a in made}
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL

    key_file = data_dir / "room.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_bytes()) == 32
    assert not list(data_dir.glob(".room.key.*"))  # no temporary file left behind
    stored = stored_bytes(data_dir)
    for account in made:
        assert account["auth_token"].encode() not in stored
        assert hashlib.sha256(account["auth_token"].encode()).hexdigest().encode() in stored  # what is kept
    assert facilitator.token.encode() not in stored and key_file.read_bytes() not in stored

    second = cli()
    facilitator.base_url = second.base_url
    assert [a["friendly_name"] for a in facilitator.listed()] == ["Ana", "Ben"]
    for account in made:
        client = client_of(second.base_url, account)
        assert [w.sid for w in client.taskrouter.v1.workspaces.list()] == [built[account["sid"]]]
        assert len(client.incoming_phone_numbers.list()) == 3
    # The command line's account is still served, alongside, and still sees nothing of theirs.
    assert second.client().taskrouter.v1.workspaces.list() == []
    # A deletion survives the next restart too.
    facilitator.delete(made[0]["sid"])
    assert second.stop(signal.SIGKILL) == -signal.SIGKILL
    third = cli()
    facilitator.base_url = third.base_url
    assert [a["sid"] for a in facilitator.listed()] == [made[1]["sid"]]
    assert refused(client_of(third.base_url, made[0]).taskrouter.v1.workspaces.list) == 401
    assert third.stop(signal.SIGTERM) == 0
    facilitator.session.close()


def dump(database: Path) -> list[str]:
    db = sqlite3.connect(database)
    try:
        return list(db.iterdump())
    finally:
        db.close()


@pytest.mark.parametrize("change", ["replaced", "missing"])
def test_a_replaced_or_missing_room_key_stops_the_start_and_changes_nothing(cli, tmp_path, change):
    data_dir = tmp_path / "data"
    first = cli()
    facilitator = Facilitator(first.base_url, data_dir)
    account = facilitator.create("Ana")
    build_quickstart(client_of(first.base_url, account))
    assert first.stop(signal.SIGTERM) == 0
    facilitator.session.close()

    key_file = data_dir / "room.key"
    if change == "replaced":
        key_file.unlink()
        key_file.write_bytes(os.urandom(32))
        key_file.chmod(0o600)
    else:
        key_file.unlink()
    key_before = key_file.read_bytes() if key_file.exists() else None
    before = dump(data_dir / "taskrouter.sqlite3")

    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    ended = subprocess.run([*MODULE, "--port", "0", "--data-dir", str(data_dir), "--account-sid", ACCOUNT[0],
                            "--auth-token", ACCOUNT[1]], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60)
    assert ended.returncode == 1, (ended.stdout, ended.stderr)
    assert "ready" not in ended.stdout
    assert str(key_file) in ended.stderr, ended.stderr
    assert ("is missing" if change == "missing" else "is not the room key") in ended.stderr
    assert "Traceback" not in ended.stderr
    assert (key_file.read_bytes() if key_file.exists() else None) == key_before  # not made, not overwritten
    assert dump(data_dir / "taskrouter.sqlite3") == before


def test_the_facilitator_token_is_the_same_from_any_process(tmp_path):
    """The key is made once: a second call, or a server on the same data dir, finds the same one."""
    data_dir = tmp_path / "room"
    token = facilitator_token(data_dir)
    assert token == facilitator_token(data_dir) and len(token) == 32 and int(token, 16) >= 0
    with LocalTaskRouter(data_dir=data_dir) as tr:
        response = requests.get(tr.base_url + ACCOUNTS, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200, response.text
