"""What the engine does with each kind of assignment callback answer, and where problems are recorded."""

import json
import threading

import pytest
from flask import Response, request
from taskrouter_support import Http, alerts, small_workspace

from tutorial_helpers.local_twilio.taskrouter import callbacks as callbacks_module


def json_response(body, status: int = 200, mimetype: str = "application/json"):
    return lambda: Response(body if isinstance(body, str) else json.dumps(body), status=status, mimetype=mimetype)


ANSWERS = [
    # (id, answer, reservation status afterwards, alert code or None, words the alert text must contain)
    ("empty 200", lambda: Response("", status=200), "pending", None, ""),
    ("empty 200 as html", lambda: Response("", status=200, mimetype="text/html"), "pending", None, ""),
    ("empty JSON object", json_response({}), "pending", None, ""),
    ("text/plain body", json_response({"instruction": "accept"}, mimetype="text/plain"), "pending", 40000,
     "Content-Type"),
    ("JSON content type, not JSON", json_response("accept, please"), "pending", 40001, "not valid JSON"),
    ("JSON array", json_response("[1, 2]"), "pending", 40001, "not a JSON object"),
    ("JSON without instruction", json_response({"foo": 1}), "pending", 40005, "instruction"),
    ("unknown instruction", json_response({"instruction": "bogus"}), "pending", 55555, "bogus"),
    # Voice instructions on a Task no call made: refused with the instruction's own code (tests/local_twilio/voice/).
    ("dequeue, not a call's Task", json_response({"instruction": "dequeue", "from": "+15550100"}), "pending", 40133,
     "<Enqueue workflowSid>"),
    ("call, no contact_uri", json_response({"instruction": "call", "url": "http://127.0.0.1:9/twiml"}), "pending",
     40110, "contact_uri"),
    ("HTTP 404", json_response({"instruction": "accept"}, status=404), "pending", 11200, "404"),
    ("accept", json_response({"instruction": "accept"}), "accepted", None, ""),
    ("accept, charset", json_response({"instruction": "accept"}, mimetype="application/json; charset=utf-8"),
     "accepted", None, ""),
    ("reject", json_response({"instruction": "reject"}), "rejected", None, ""),
    ("reject, unknown activity", json_response({"instruction": "reject", "activity_sid": "WA" + "0" * 32}),
     "pending", 55555, "activity_sid"),
]


@pytest.mark.parametrize(("answer", "status", "code", "words"), [a[1:] for a in ANSWERS], ids=[a[0] for a in ANSWERS])
def test_assignment_callback_answers(quickstart, callbacks, taskrouter, http, answer, status, code, words):
    qs = quickstart
    callbacks.answer = answer
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    (sent,) = callbacks.wait_for(1)
    assert taskrouter.wait_for_callbacks(), "the answer was read and acted on"
    res_sid = sent["form"]["ReservationSid"]
    assert qs.ws.tasks(task.sid).reservations(res_sid).fetch().reservation_status == status
    expected_task = {"pending": "reserved", "accepted": "assigned", "rejected": "pending"}[status]
    assert qs.task(task.sid).assignment_status == expected_task
    recorded = alerts(http, qs.workspace_sid)
    if code is None:
        assert recorded == []
    else:
        (alert,) = recorded
        assert alert["error_code"] == str(code)
        assert words in alert["alert_text"], alert["alert_text"]
        assert alert["resource_sid"] == res_sid
        assert alert["request_url"] == callbacks.url()
    assert len(callbacks.requests) == 1, "only a failed delivery is retried, on the fallback URL"


def test_reject_with_activity_sid_moves_the_worker(quickstart, callbacks, taskrouter):
    qs = quickstart
    callbacks.answer_json({"instruction": "reject", "activity_sid": qs.offline.sid})
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    res_sid = callbacks.wait_for(1)[0]["form"]["ReservationSid"]
    assert taskrouter.wait_for_callbacks()
    assert qs.ws.tasks(task.sid).reservations(res_sid).fetch().reservation_status == "rejected"
    assert qs.worker(qs.alice).activity_name == "Offline"
    assert qs.task(task.sid).assignment_status == "pending"


def test_failure_tries_the_fallback_url(quickstart, callbacks, taskrouter, http):
    qs = quickstart
    qs.ws.workflows(qs.workflow.sid).update(fallback_assignment_callback_url=callbacks.url("/fallback"))

    def answer():
        if request.path == "/fallback":
            return Response(json.dumps({"instruction": "accept"}), mimetype="application/json")
        return Response("boom", status=500)

    callbacks.answer = answer
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    primary, fallback = callbacks.wait_for(2)
    assert (primary["path"], fallback["path"]) == ("/assignment_callback", "/fallback")
    assert primary["form"] == fallback["form"]
    assert taskrouter.wait_for_callbacks()
    assert qs.task(task.sid).assignment_status == "assigned"
    assert qs.worker(qs.alice).activity_name == "Busy"
    (alert,) = alerts(http, qs.workspace_sid)
    assert (alert["error_code"], alert["response_status"]) == ("11200", 500)
    assert alert["request_url"] == callbacks.url() and alert["response_body"] == "boom"


def test_failure_without_fallback_leaves_the_reservation_for_rest(quickstart, callbacks, taskrouter, http):
    qs = quickstart
    callbacks.answer = lambda: Response("down for maintenance", status=503)
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    res_sid = callbacks.wait_for(1)[0]["form"]["ReservationSid"]
    assert taskrouter.wait_for_callbacks()
    assert [a["error_code"] for a in alerts(http, qs.workspace_sid)] == ["11200"]
    qs.ws.tasks(task.sid).reservations(res_sid).update(reservation_status="accepted")
    assert qs.task(task.sid).assignment_status == "assigned"


def test_unreachable_callback_is_recorded(client, taskrouter, http):
    ws, acts, _queue, workflow, workers = small_workspace(client, callback_url="http://127.0.0.1:9/nobody-home")
    ws.workers(workers["Ann"].sid).update(activity_sid=acts["Available"].sid)
    task = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    assert taskrouter.wait_for_callbacks()
    (alert,) = alerts(http, ws._solution["sid"])
    assert alert["error_code"] == "11200" and "could not be reached" in alert["alert_text"]
    assert ws.tasks(task.sid).reservations.list()[0].reservation_status == "pending"


def test_a_slow_callback_misses_the_five_second_deadline(quickstart, callbacks, http, wait_until):
    """The one slow test: the app answers after 6 s, past Twilio's 5 s deadline."""
    qs = quickstart
    answered = threading.Event()

    def slow():
        answered.wait(6)  # released at the end of the test, so the app's thread does not linger
        return Response(json.dumps({"instruction": "accept"}), mimetype="application/json")

    callbacks.answer = slow
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    res_sid = callbacks.wait_for(1)[0]["form"]["ReservationSid"]
    (alert,) = wait_until(lambda: alerts(http, qs.workspace_sid), timeout=15, what="the deadline alert")
    answered.set()
    assert alert["error_code"] == "11200"
    assert "5 seconds" in alert["alert_text"]
    assert qs.ws.tasks(task.sid).reservations(res_sid).fetch().reservation_status == "pending"
    assert qs.task(task.sid).assignment_status == "reserved"


def test_callbacks_run_off_the_request_path(quickstart, callbacks, taskrouter, client):
    """While the app hangs on a callback, the API still answers, for this workspace and others."""
    qs = quickstart
    hung, release = threading.Event(), threading.Event()

    def hang():
        hung.set()
        release.wait(10)
        return Response("{}", mimetype="application/json")

    callbacks.answer = hang
    try:
        task = qs.spanish_task()
        qs.set_activity(qs.alice, qs.idle)
        assert hung.wait(10), "the callback reached the app"
        # Same workspace: reads and writes complete while the callback is outstanding.
        assert qs.task(task.sid).assignment_status == "reserved"
        english = qs.ws.tasks.create(attributes=json.dumps({"selected_language": "en"}), workflow_sid=qs.workflow.sid)
        qs.set_activity(qs.bob, qs.idle)
        assert qs.ws.tasks(english.sid).reservations.list()[0].worker_name == "Bob"
        # Another workspace too.
        other = client.taskrouter.v1.workspaces.create(friendly_name="Elsewhere")
        client.taskrouter.v1.workspaces(other.sid).workers.create(friendly_name="Zed")
        assert [w.friendly_name for w in client.taskrouter.v1.workspaces(other.sid).workers.list()] == ["Zed"]
        assert Http(taskrouter).get("/_local/health").status_code == 200
    finally:
        release.set()
    assert taskrouter.wait_for_callbacks()


def test_the_deadline_covers_the_whole_answer(quickstart, callbacks, taskrouter, http, monkeypatch):
    """An app that sends its headers at once but trickles the body still misses the deadline.

    The deadline is shortened to 1 s here so the test does not have to wait 5 s again.
    """
    monkeypatch.setattr(callbacks_module, "ASSIGNMENT_DEADLINE", 1.0)
    qs = quickstart
    done = threading.Event()

    def trickle():
        def body():
            for piece in ['{"instruction"', ': "accept"', "}"]:
                done.wait(0.6)  # 1.2 s in all, past the deadline; set at the end to let it finish
                yield piece
        return Response(body(), mimetype="application/json")

    callbacks.answer = trickle
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    callbacks.wait_for(1)
    assert taskrouter.wait_for_callbacks()
    done.set()
    (alert,) = alerts(http, qs.workspace_sid)
    assert alert["error_code"] == "11200" and "within 1 seconds" in alert["alert_text"]
    assert qs.task(task.sid).assignment_status == "reserved", "a late accept does not count"
