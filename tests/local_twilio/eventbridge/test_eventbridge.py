"""EventBridge as the worker SDK uses it, spoken from Python over a real socket and real HTTP: the init
frame, the tunnel's answers and refusals, events pushed in commit order, token expiry, closeExistingSessions.
(tests/node/ runs the real twilio-taskrouter SDK against the same server.)"""

import json
import threading

import requests
from eventbridge_support import frames


def test_the_first_frame_is_init_with_the_worker_and_the_token_lifetime(bridge):
    sock = bridge.connect(bridge.token(ttl=600))
    [init] = frames(sock, 1)
    assert init["event_type"] == "init"
    payload = init["payload"]
    assert payload["channel_id"] == bridge.qs.workers["Alice"]
    assert (payload["account_sid"], payload["workspace_sid"]) == (bridge.taskrouter.account_sid,
                                                                  bridge.qs.workspace_sid)
    assert 590_000 < payload["token_lifetime"] <= 600_000  # milliseconds


def test_the_tunnel_answers_in_the_sdks_shapes(bridge):
    worker = bridge.tunnel(bridge.alice_path()).json()["payload"]
    assert worker["friendly_name"] == "Alice" and worker["activity_name"] == "Offline"
    assert isinstance(worker["date_created"], int) and isinstance(worker["attributes"], str)
    for key in ("account_sid", "activity_name", "activity_sid", "attributes", "available", "date_created",
                "date_status_changed", "date_updated", "friendly_name", "sid", "workspace_sid", "version"):
        assert key in worker, key
    activities = bridge.tunnel(f"Workspaces/{bridge.qs.workspace_sid}/Activities", PageSize=1000).json()["payload"]
    assert activities["after_sid"] is None
    assert {"Offline", "Idle", "Busy", "Reserved"} <= {a["friendly_name"] for a in activities["contents"]}
    channels = bridge.tunnel(bridge.alice_path("/WorkerChannels"), PageSize=1000).json()["payload"]["contents"]
    assert {c["task_channel_unique_name"] for c in channels} >= {"default", "voice"}
    assert all("last_reserved_time" in c and "available_capacity_percentage" in c for c in channels)
    assert bridge.tunnel(bridge.alice_path("/Reservations"), Active="true").json()["payload"]["contents"] == []


def test_activity_change_reservation_and_accept_arrive_on_the_socket_in_order(bridge):
    sock = bridge.connect()
    frames(sock, 1)
    answer = bridge.tunnel(bridge.alice_path(), "POST", ActivitySid=bridge.qs.activities["Idle"])
    assert answer.status_code == 200 and answer.json()["payload"]["activity_name"] == "Idle"
    task = bridge.ws.tasks.create(attributes=json.dumps({"selected_language": "es"}),
                                  workflow_sid=bridge.qs.workflow_sid)
    got = frames(sock, 3)
    assert [f["event_type"] for f in got] == ["worker.activity.update", "reservation.created",
                                              "worker.activity.update"]
    assert [got[0]["payload"]["activity_name"], got[2]["payload"]["activity_name"]] == ["Idle", "Reserved"]
    reservation = got[1]["payload"]
    assert reservation["reservation_status"] == "pending" and reservation["task"]["sid"] == task.sid
    assert json.loads(reservation["task"]["attributes"]) == {"selected_language": "es"}
    assert reservation["task"]["queue_name"] == "Customer Care Requests - Spanish"
    accepted = bridge.tunnel(bridge.alice_path(f"/Reservations/{reservation['sid']}"), "POST",
                             ReservationStatus="accepted").json()["payload"]
    assert accepted["reservation_status"] == "accepted" and "task" not in accepted
    got = frames(sock, 2)
    assert [f["event_type"] for f in got] == ["reservation.accepted", "worker.activity.update"]
    assert got[1]["payload"]["activity_name"] == "Busy"
    assert bridge.ws.tasks(task.sid).fetch().assignment_status == "assigned"
    done = bridge.tunnel(f"Workspaces/{bridge.qs.workspace_sid}/Tasks/{task.sid}", "POST",
                         AssignmentStatus="completed", Reason="handled").json()["payload"]
    assert done["assignment_status"] == "completed"
    assert [f["event_type"] for f in frames(sock, 2)] == ["reservation.completed", "task.completed"]


def test_a_reservation_that_times_out_is_announced(bridge):
    sock = bridge.connect()
    frames(sock, 1)
    bridge.ws.workers(bridge.qs.workers["Alice"]).update(activity_sid=bridge.qs.activities["Idle"])
    bridge.ws.tasks.create(attributes=json.dumps({"selected_language": "es"}), workflow_sid=bridge.qs.workflow_sid)
    frames(sock, 3)
    bridge.taskrouter.advance_clock(1200)  # the quickstart workflow's TaskReservationTimeout
    got = frames(sock, 2)
    assert [f["event_type"] for f in got] == ["reservation.timeout", "worker.activity.update"]
    assert got[1]["payload"]["activity_name"] == "Offline"


def test_refusals_are_json_with_twilios_codes(bridge):
    assert bridge.tunnel(bridge.alice_path(), token="not-a-jwt").json()["code"] == 20101
    wrong_secret = bridge.token(secret="x" * 32)
    refused = bridge.tunnel(bridge.alice_path(), token=wrong_secret)
    assert (refused.status_code, refused.json()["code"]) == (401, 20107)
    bob = bridge.tunnel(f"Workspaces/{bridge.qs.workspace_sid}/Workers/{bridge.qs.workers['Bob']}", "POST",
                        ActivitySid=bridge.qs.activities["Idle"])
    assert (bob.status_code, bob.json()["code"]) == (403, 20403)
    assert bridge.ws.workers(bridge.qs.workers["Bob"]).fetch().activity_name == "Offline"
    bad = bridge.tunnel(bridge.alice_path(), "POST", ActivitySid="WA" + "0" * 32)
    assert bad.status_code == 400 and "ActivitySid" in bad.json()["message"]
    assert bridge.tunnel(bridge.alice_path("/Nothing")).status_code == 404
    raw = requests.post(bridge.taskrouter.base_url + "/v1/wschannels", data="{", timeout=5)
    assert raw.status_code == 400 and raw.json()["code"] == 20001


def test_a_bad_token_is_refused_before_the_handshake(bridge):
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    refused = requests.get(bridge.taskrouter.base_url + "/v1/wschannels?token=nope", headers=upgrade, timeout=5)
    assert (refused.status_code, refused.json()["code"]) == (401, 20101)
    expired = requests.get(bridge.taskrouter.base_url + f"/v1/wschannels?token={bridge.token(ttl=-10)}",
                           headers=upgrade, timeout=5)
    assert (expired.status_code, expired.json()["code"]) == (401, 20104)


def test_an_expired_token_closes_the_socket_and_is_refused_after(bridge):
    token = bridge.token(ttl=60)
    sock = bridge.connect(token)
    frames(sock, 1)
    bridge.taskrouter.advance_clock(61)
    closed = threading.Event()

    def drain():
        try:
            while sock.receive(timeout=5) is not None:
                pass
        except Exception:
            closed.set()

    threading.Thread(target=drain, daemon=True).start()
    assert closed.wait(5), "the server closes the socket of an expired token"
    refused = bridge.tunnel(bridge.alice_path(), token=token)
    assert (refused.status_code, refused.json()["code"]) == (401, 20104)


def test_close_existing_sessions_closes_the_older_socket(bridge):
    first = bridge.connect(close_existing=False)
    frames(first, 1)
    second = bridge.connect(close_existing=False)
    frames(second, 1)
    bridge.ws.workers(bridge.qs.workers["Alice"]).update(activity_sid=bridge.qs.activities["Idle"])
    assert frames(first, 1)[0]["event_type"] == frames(second, 1)[0]["event_type"] == "worker.activity.update"
    third = bridge.connect(close_existing=True)
    frames(third, 1)
    gone = threading.Event()

    def drain():
        try:
            while first.receive(timeout=5) is not None:
                pass
        except Exception:
            gone.set()

    threading.Thread(target=drain, daemon=True).start()
    assert gone.wait(5)
    assert len(bridge.taskrouter.app.config["HUB"].connections(bridge.qs.workers["Alice"])) == 1


def test_the_preflight_allows_the_sdks_headers(bridge):
    answer = requests.options(bridge.taskrouter.base_url + "/v1/wschannels",
                              headers={"Origin": "http://127.0.0.1:5000", "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "clientversion,apiversion"}, timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5000"
    assert "clientversion" in answer.headers["Access-Control-Allow-Headers"]


def closed_with(sock, timeout: float = 5.0) -> str | None:
    """Wait for the server to close `sock`; the close message it gave (None if it stayed open)."""
    done = threading.Event()

    def drain():
        try:
            while sock.receive(timeout=timeout) is not None:
                pass
        except Exception:
            done.set()

    threading.Thread(target=drain, daemon=True).start()
    return sock.close_message if done.wait(timeout) else None


def test_a_deleted_workers_socket_gets_the_event_then_closes_and_her_token_opens_no_other(bridge):
    """It stayed open, silent, until the token expired; a deleted account's pages too (its workspaces go)."""
    token = bridge.token("Bob")
    bob = bridge.connect(token)
    frames(bob, 1)
    alice = bridge.connect()
    frames(alice, 1)
    bridge.ws.workers(bridge.qs.workers["Bob"]).delete()
    assert frames(bob, 1)[0]["event_type"] == "worker.deleted"
    assert closed_with(bob) == "closed: the worker was deleted"
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    again = requests.get(bridge.taskrouter.base_url + f"/v1/wschannels?token={token}", headers=upgrade, timeout=5)
    assert (again.status_code, again.json()["code"]) == (404, 20404)
    bob_path = f"Workspaces/{bridge.qs.workspace_sid}/Workers/{bridge.qs.workers['Bob']}"
    assert bridge.tunnel(bob_path, token=token).status_code == 404  # as the tunnel already answered
    hub = bridge.taskrouter.app.config["HUB"]
    assert len(hub.connections(bridge.qs.workers["Alice"])) == 1  # Alice's page was not touched

    bridge.client.taskrouter.v1.workspaces(bridge.qs.workspace_sid).delete()
    assert closed_with(alice) == "closed: the workspace was deleted"
    assert hub.connections(bridge.qs.workers["Alice"]) == []
