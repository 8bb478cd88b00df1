"""The quickstart's seed flow, as a learner drives it: reference section 1, steps 2-4."""

import json

import pytest
from taskrouter_support import event_types, is_subsequence
from twilio.request_validator import RequestValidator

ASSIGNMENT_PARAMS = {
    "AccountSid", "WorkspaceSid", "WorkflowSid", "TaskQueueSid", "WorkerSid", "WorkerAttributes",
    "TaskSid", "TaskAttributes", "TaskAge", "TaskPriority", "ReservationSid", "Timestamp",
}
SEED_ORDER = [
    ("task.created", None),
    ("task-queue.entered", None),
    ("workflow.target-matched", None),
    ("worker.activity.update", "Idle"),
    ("reservation.created", None),
    ("reservation.accepted", None),
    ("worker.activity.update", "Busy"),
]


def accept_answer(callbacks) -> None:
    callbacks.answer_json({"instruction": "accept"})


def seed_end_state(qs, task_sid: str, wait_until):
    task = wait_until(lambda: (t := qs.task(task_sid)).assignment_status == "assigned" and t,
                      what="the task to be assigned")
    reservations = qs.ws.tasks(task_sid).reservations.list()
    assert [(r.worker_name, r.reservation_status) for r in reservations] == [("Alice", "accepted")]
    alice = qs.worker(qs.alice)
    assert (alice.activity_name, alice.available) == ("Busy", False)
    return task, reservations[0]


def test_only_alice_speaks_spanish_so_bob_gets_nothing(quickstart, callbacks, wait_until):
    qs = quickstart
    qs.set_activity(qs.bob, qs.idle)
    task = qs.spanish_task()
    assert task.assignment_status == "pending"
    assert task.task_queue_friendly_name == "Customer Care Requests - Spanish"
    assert qs.ws.tasks(task.sid).reservations.list() == []
    assert qs.ws.workers(qs.bob.sid).reservations.list() == []
    assert qs.worker(qs.bob).activity_name == "Idle"
    # Alice going idle is the barrier: had Bob been offered the task, his callback would come first.
    qs.set_activity(qs.alice, qs.idle)
    got = callbacks.wait_for(1)
    assert [r["form"]["WorkerSid"] for r in callbacks.requests] == [qs.alice.sid]
    assert got[0]["form"]["TaskSid"] == task.sid


def test_alice_idle_makes_one_signed_assignment_callback(quickstart, callbacks, taskrouter):
    qs = quickstart
    task = qs.spanish_task(priority=7)
    qs.set_activity(qs.alice, qs.idle)
    (request,) = callbacks.wait_for(1)
    form = request["form"]
    assert set(form) >= ASSIGNMENT_PARAMS, f"missing: {ASSIGNMENT_PARAMS - set(form)}"
    (reservation,) = qs.ws.tasks(task.sid).reservations.list()
    assert form["AccountSid"] == taskrouter.account_sid
    assert form["WorkspaceSid"] == qs.workspace_sid
    assert form["WorkflowSid"] == qs.workflow.sid
    assert form["TaskQueueSid"] == qs.spanish.sid
    assert form["WorkerSid"] == qs.alice.sid
    assert json.loads(form["WorkerAttributes"]) == {"languages": ["en", "es"]}
    assert form["TaskSid"] == task.sid
    assert json.loads(form["TaskAttributes"]) == {"selected_language": "es"}
    assert int(form["TaskAge"]) >= 0
    assert form["TaskPriority"] == "7"
    assert form["ReservationSid"] == reservation.sid
    assert form["Timestamp"].isdigit()
    assert request["path"] == "/assignment_callback"
    # Signed with the account's token over the exact callback URL, as Twilio does.
    assert RequestValidator(taskrouter.auth_token).validate(request["url"], form, request["signature"])
    assert not RequestValidator("another-token").validate(request["url"], form, request["signature"])
    assert not RequestValidator(taskrouter.auth_token).validate(request["url"] + "?x=1", form, request["signature"])
    assert reservation.reservation_status == "pending"
    assert qs.task(task.sid).assignment_status == "reserved"
    assert qs.worker(qs.alice).activity_name == "Reserved"


def test_seed_step_callback_accepts(quickstart, callbacks, wait_until):
    qs = quickstart
    accept_answer(callbacks)
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    seed_end_state(qs, task.sid, wait_until)
    assert len(callbacks.requests) == 1


def test_empty_answer_then_accept_through_rest(quickstart, callbacks, wait_until):
    qs = quickstart
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    (request,) = callbacks.wait_for(1)
    res_sid = request["form"]["ReservationSid"]
    # `{}` means "later, through REST": nothing changes.
    assert qs.ws.tasks(task.sid).reservations(res_sid).fetch().reservation_status == "pending"
    assert qs.task(task.sid).assignment_status == "reserved"
    accepted = qs.ws.tasks(task.sid).reservations(res_sid).update(reservation_status="accepted")
    assert (accepted.reservation_status, accepted.worker_name) == ("accepted", "Alice")
    seed_end_state(qs, task.sid, wait_until)


def test_the_quickstart_part_two_end_to_end(quickstart, callbacks, wait_until):
    """Accept through REST, then Alice offline, a second task, and the callback accepts it."""
    qs = quickstart
    qs.set_activity(qs.alice, qs.offline)
    first = qs.spanish_task()
    assert qs.task(first.sid).assignment_status == "pending"
    qs.set_activity(qs.alice, qs.idle)
    res_sid = callbacks.wait_for(1)[0]["form"]["ReservationSid"]
    qs.ws.tasks(first.sid).reservations(res_sid).update(reservation_status="accepted")
    seed_end_state(qs, first.sid, wait_until)

    qs.set_activity(qs.alice, qs.offline)
    second = qs.spanish_task()
    accept_answer(callbacks)
    # Single-tasking: while her first task is unfinished, Alice is offered nothing new.
    qs.set_activity(qs.alice, qs.idle)
    assert qs.task(second.sid).assignment_status == "pending"
    assert len(callbacks.requests) == 1
    qs.set_activity(qs.alice, qs.offline)
    qs.ws.tasks(first.sid).update(assignment_status="completed", reason="handled")
    qs.set_activity(qs.alice, qs.idle)
    seed_end_state(qs, second.sid, wait_until)
    assert [r["form"]["TaskSid"] for r in callbacks.requests] == [first.sid, second.sid]
    assert qs.task(first.sid).assignment_status == "completed"


def _seed_events_in_order(qs, task_sid: str) -> None:
    events = list(reversed(qs.ws.events.list()))  # the list is newest first
    seen = [(e.event_type, e.event_data.get("worker_activity_name") if e.event_type == "worker.activity.update"
             else None) for e in events]
    assert is_subsequence(SEED_ORDER, seen), seen
    created = next(e for e in events if e.event_type == "task.created")
    assert created.resource_sid == task_sid


def test_seed_step_events_in_documented_order(quickstart, callbacks, wait_until):
    qs = quickstart
    accept_answer(callbacks)
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    seed_end_state(qs, task.sid, wait_until)
    _seed_events_in_order(qs, task.sid)
    listed = qs.ws.events.list()
    stamps = [e.event_date_ms for e in listed]
    assert stamps == sorted(stamps, reverse=True), "newest first"
    accepted = qs.ws.events.list(event_type="reservation.accepted")
    assert len(accepted) == 1 and accepted[0].event_data["task_sid"] == task.sid
    assert event_types(qs.ws, task_sid=task.sid)[0] == "task.created"


@pytest.mark.parametrize("events_filter", [None, "task.created,reservation.created,reservation.accepted"])
def test_event_callbacks_mirror_the_events_resource(quickstart, callbacks, wait_until, taskrouter, events_filter):
    qs = quickstart
    kwargs = {"events_filter": events_filter} if events_filter else {}
    qs.ws.update(event_callback_url=callbacks.url("/events"), **kwargs)
    accept_answer(callbacks)
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    seed_end_state(qs, task.sid, wait_until)
    # A sentinel: events are posted one at a time, in order, so once its task.created has
    # arrived every earlier event has been delivered (or was filtered out).
    sentinel = qs.ws.tasks.create(attributes=json.dumps({"selected_language": "en"}), workflow_sid=qs.workflow.sid)

    def delivered():
        posts = [r for r in callbacks.requests if r["path"] == "/events"]
        return posts if any(p["form"].get("TaskSid") == sentinel.sid and p["form"]["EventType"] == "task.created"
                            for p in posts) else None

    posts = wait_until(delivered, what="the sentinel's task.created event callback")
    validator = RequestValidator(taskrouter.auth_token)
    for post in posts:
        assert validator.validate(post["url"], post["form"], post["signature"]), post["form"]["EventType"]
        assert post["form"]["WorkspaceSid"] == qs.workspace_sid
        assert {"EventType", "AccountSid", "WorkspaceName", "EventDescription", "ResourceType", "ResourceSid",
                "Timestamp"} <= set(post["form"])
    events = list(reversed(qs.ws.events.list()))
    wanted = events_filter.split(",") if events_filter else None
    expected = [(e.event_type, e.resource_sid) for e in events if wanted is None or e.event_type in wanted]
    # From the seed task's creation up to the sentinel's, which is the last one waited for.
    expected = expected[expected.index(("task.created", task.sid)):expected.index(("task.created", sentinel.sid)) + 1]
    got = [(p["form"]["EventType"], p["form"]["ResourceSid"]) for p in posts]
    assert got[:got.index(("task.created", sentinel.sid)) + 1] == expected
    if wanted:
        assert {p["form"]["EventType"] for p in posts} <= set(wanted)
    else:
        got = [(p["form"]["EventType"], p["form"].get("WorkerActivityName")
                if p["form"]["EventType"] == "worker.activity.update" else None) for p in posts]
        assert is_subsequence(SEED_ORDER, got), got
        busy = next(p["form"] for p in posts if p["form"].get("WorkerActivityName") == "Busy")
        assert (busy["WorkerSid"], busy["WorkerPreviousActivityName"]) == (qs.alice.sid, "Reserved")
        assert busy["WorkerTimeInPreviousActivity"].isdigit()
    reservation_post = next(p for p in posts if p["form"]["EventType"] == "reservation.created")
    assert reservation_post["form"]["TaskSid"] == task.sid
    assert reservation_post["form"]["WorkerSid"] == qs.alice.sid
    assert reservation_post["form"]["ReservationSid"].startswith("WR")
