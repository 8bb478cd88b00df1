"""TaskRouter's documented lifecycle rules, one test named after each, through the official SDK.

Where Twilio's docs are silent (the order of events within one transition, for
one), the test pins the local TaskRouter's choice, and
docs/differences-from-twilio.md says so. The list filters are in
test_list_filters.py; the reject instruction's activity_sid in test_callback_answers.py
(test_reject_with_activity_sid_moves_the_worker).
"""

import json

import pytest
from taskrouter_support import small_workspace
from twilio.base.exceptions import TwilioRestException


class Events:
    """The workspace's events, oldest first, read in slices: what one transition added."""

    def __init__(self, ws):
        self.ws = ws
        self.seen = 0

    def since_last(self) -> list[tuple[str, str | None]]:
        every = list(reversed(self.ws.events.list()))
        new, self.seen = every[self.seen:], len(every)
        return [(e.event_type, e.event_data.get("worker_activity_name")
                 if e.event_type == "worker.activity.update" else None) for e in new]


@pytest.fixture
def scene(quickstart, callbacks, taskrouter):
    """The quickstart; the callback answers {}, so every decision below is made through REST."""
    events = Events(quickstart.ws)
    events.since_last()
    return quickstart, events, taskrouter


# ---------------------------------------------------------------------------- events, in order, per transition


def test_event_order_when_a_task_is_created_and_routed(scene):
    q, events, _ = scene
    q.spanish_task()
    assert events.since_last() == [
        ("task.created", None), ("workflow.entered", None), ("task-queue.entered", None),
        ("workflow.target-matched", None),
    ]


def test_event_order_when_a_worker_goes_idle_and_is_reserved_then_accepts(scene):
    q, events, taskrouter = scene
    task = q.spanish_task()
    events.since_last()
    q.set_activity(q.alice, q.idle)
    assert events.since_last() == [
        ("worker.activity.update", "Idle"), ("reservation.created", None), ("worker.activity.update", "Reserved"),
    ]
    [res] = q.ws.tasks(task.sid).reservations.list()
    q.ws.tasks(task.sid).reservations(res.sid).update(reservation_status="accepted")
    assert events.since_last() == [("reservation.accepted", None), ("worker.activity.update", "Busy")]


def test_event_order_when_a_reservation_is_rejected(scene):
    q, events, _ = scene
    task = q.spanish_task()
    q.set_activity(q.alice, q.idle)
    events.since_last()
    [res] = q.ws.tasks(task.sid).reservations.list()
    q.ws.tasks(task.sid).reservations(res.sid).update(reservation_status="rejected")
    # No WorkerActivitySid: back where she was before the reservation moved her
    # (docs/differences-from-twilio.md, "Reject without an activity").
    assert events.since_last() == [("reservation.rejected", None), ("worker.activity.update", "Idle")]


def test_event_order_when_a_reservation_times_out(scene):
    q, events, taskrouter = scene
    q.spanish_task()
    q.set_activity(q.alice, q.idle)
    events.since_last()
    taskrouter.advance_clock(1200)
    # The worker goes to the workspace's TimeoutActivity (Offline).
    assert events.since_last() == [("reservation.timeout", None), ("worker.activity.update", "Offline")]


def test_event_order_when_a_reserved_task_is_canceled(scene):
    q, events, _ = scene
    task = q.spanish_task()
    q.set_activity(q.alice, q.idle)
    events.since_last()
    q.ws.tasks(task.sid).update(assignment_status="canceled", reason="caller hung up")
    assert events.since_last() == [
        ("reservation.canceled", None), ("worker.activity.update", "Idle"), ("task.canceled", None),
    ]


def test_event_order_when_a_task_wraps_up_and_completes(scene):
    q, events, _ = scene
    task = q.spanish_task()
    q.set_activity(q.alice, q.idle)
    [res] = q.ws.tasks(task.sid).reservations.list()
    q.ws.tasks(task.sid).reservations(res.sid).update(reservation_status="accepted")
    events.since_last()
    q.ws.tasks(task.sid).update(assignment_status="wrapping")
    assert events.since_last() == [("reservation.wrapup", None), ("task.wrapup", None)]
    q.ws.tasks(task.sid).update(assignment_status="completed", reason="done")
    # Completion moves nobody: in the quickstart the application moves Alice on.
    assert events.since_last() == [("reservation.completed", None), ("task.completed", None)]


def test_events_filter_limits_the_callbacks_not_the_events_list(client, callbacks, taskrouter):
    tr = client.taskrouter.v1
    ws = tr.workspaces.create(friendly_name="Filtered", event_callback_url=callbacks.url("/events"),
                              events_filter="task.created,task.canceled")
    ctx = tr.workspaces(ws.sid)
    queue = ctx.task_queues.create(friendly_name="Q")
    workflow = ctx.workflows.create(friendly_name="W", configuration=json.dumps(
        {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}))
    task = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    ctx.tasks(task.sid).update(assignment_status="canceled", reason="filtered")
    taskrouter.wait_for_callbacks()
    sent = [r["form"]["EventType"] for r in callbacks.requests if r["path"] == "/events"]
    assert sent == ["task.created", "task.canceled"]
    listed = {e.event_type for e in ctx.events.list()}
    assert {"workflow.entered", "task-queue.entered", "workflow.target-matched"} <= listed


# ---------------------------------------------------------------------------- routing


def routing_desk(client, targets_of: dict, workers: tuple[str, ...] = ("Ann", "Ben")):
    """A single-tasking workspace, one queue per name in `targets_of['queues']`, and this routing."""
    ws, acts, _queue, workflow, made = small_workspace(client, multi_task=False, workers=workers)
    queues = {name: ws.task_queues.create(friendly_name=name, target_workers=expr)
              for name, expr in targets_of["queues"].items()}
    config = targets_of["config"](queues)
    ws.workflows(workflow.sid).update(configuration=json.dumps(config))
    return ws, acts, queues, workflow, made


def test_known_worker_routing_offers_the_task_to_the_named_worker_only(client):
    ws, acts, queues, workflow, made = routing_desk(client, {
        "queues": {"All": "1==1"},
        "config": lambda q: {"task_routing": {"filters": [{"expression": "1==1", "targets": [
            {"queue": q["All"].sid, "known_worker_friendly_name": "task.agent"}]}]}},
    })
    for name in ("Ann", "Ben"):
        ws.workers(made[name].sid).update(activity_sid=acts["Available"].sid)
    task = ws.tasks.create(attributes=json.dumps({"agent": "Ben"}), workflow_sid=workflow.sid)
    [res] = ws.tasks(task.sid).reservations.list()
    assert res.worker_name == "Ben"  # Ann was idle longer, but the task names Ben
    nobody = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    assert ws.tasks(nobody.sid).fetch().assignment_status == "pending"  # no name, nobody


def test_known_worker_sid_routing_and_naming_both_is_refused(client):
    ws, acts, queues, workflow, made = routing_desk(client, {
        "queues": {"All": "1==1"},
        "config": lambda q: {"task_routing": {"filters": [{"expression": "1==1", "targets": [
            {"queue": q["All"].sid, "known_worker_sid": "task.agent_sid"}]}]}},
    })
    ws.workers(made["Ann"].sid).update(activity_sid=acts["Available"].sid)
    ws.workers(made["Ben"].sid).update(activity_sid=acts["Available"].sid)
    task = ws.tasks.create(attributes=json.dumps({"agent_sid": made["Ben"].sid}), workflow_sid=workflow.sid)
    assert ws.tasks(task.sid).reservations.list()[0].worker_name == "Ben"
    both = {"task_routing": {"filters": [{"expression": "1==1", "targets": [
        {"queue": queues["All"].sid, "known_worker_sid": "task.a", "known_worker_friendly_name": "task.b"}]}]}}
    with pytest.raises(TwilioRestException) as refused:
        ws.workflows(workflow.sid).update(configuration=json.dumps(both))
    assert refused.value.status == 400 and "both known_worker_sid and known_worker_friendly_name" in refused.value.msg


def test_skip_if_skips_a_target_with_no_available_workers(client):
    ws, acts, queues, workflow, made = routing_desk(client, {
        "queues": {"Experts": "expert == true", "All": "1==1"},
        "config": lambda q: {"task_routing": {"filters": [{"expression": "1==1", "targets": [
            {"queue": q["Experts"].sid, "skip_if": "workers.available == 0", "timeout": 300},
            {"queue": q["All"].sid}]}]}},
    })
    task = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    assert ws.tasks(task.sid).fetch().task_queue_friendly_name == "All"  # no expert is available


def test_skip_if_on_the_final_target_passes_the_task_to_the_next_filter(client):
    ws, acts, queues, workflow, made = routing_desk(client, {
        "queues": {"Experts": "expert == true", "Fallback": "1==1"},
        "config": lambda q: {"task_routing": {
            "filters": [{"filter_friendly_name": "Experts only", "expression": "1==1", "targets": [
                {"queue": q["Experts"].sid, "skip_if": "workers.available == 0"}]}],
            "default_filter": {"queue": q["Fallback"].sid}}},
    })
    task = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    assert ws.tasks(task.sid).fetch().task_queue_friendly_name == "Fallback"


@pytest.mark.paused_clock  # 19 s in, Q2's timeout must not have fired
def test_target_timeouts_cascade_on_the_task_age_then_cancel(client, taskrouter):
    ws, acts, queues, workflow, made = routing_desk(client, {
        "queues": {"Q1": "tier == 1", "Q2": "tier == 2", "Q3": "tier == 3"},
        "config": lambda q: {"task_routing": {"filters": [{"expression": "1==1", "targets": [
            {"queue": q["Q1"].sid, "timeout": 10}, {"queue": q["Q2"].sid, "timeout": 10},
            {"queue": q["Q3"].sid, "timeout": 10}]}]}},
    })
    task = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid)

    def queue() -> str:
        return ws.tasks(task.sid).fetch().task_queue_friendly_name

    taskrouter.advance_clock(10)
    assert queue() == "Q2"
    taskrouter.advance_clock(9)
    assert queue() == "Q2"  # Q2 ends when the task is 20 s old: 10 + 10, counted from its creation
    taskrouter.advance_clock(1)
    assert queue() == "Q3"
    taskrouter.advance_clock(10)
    done = ws.tasks(task.sid).fetch()
    assert (done.assignment_status, done.reason) == ("canceled", "Workflow Timeout")


def test_tasks_across_queues_go_by_priority_then_age(client, taskrouter):
    ws, acts, queues, workflow, made = routing_desk(client, {
        "queues": {"Sales": "1==1", "Support": "1==1"},
        "config": lambda q: {"task_routing": {"filters": [
            {"expression": "kind == 'sales'", "targets": [{"queue": q["Sales"].sid}]},
            {"expression": "kind == 'support'", "targets": [{"queue": q["Support"].sid}]}]}},
    }, workers=("Ann",))
    made_tasks = {}
    for name, kind, priority in (("old support", "support", 1), ("sales", "sales", 1), ("urgent", "sales", 9),
                                 ("new support", "support", 1)):
        made_tasks[name] = ws.tasks.create(attributes=json.dumps({"kind": kind}), workflow_sid=workflow.sid,
                                           priority=priority)
        taskrouter.advance_clock(1)
    order = []
    for _ in made_tasks:
        ws.workers(made["Ann"].sid).update(activity_sid=acts["Available"].sid)
        [res] = ws.workers(made["Ann"].sid).reservations.list(reservation_status="pending")
        order.append(next(n for n, t in made_tasks.items() if t.sid == res.task_sid))
        ws.tasks(res.task_sid).reservations(res.sid).update(reservation_status="accepted",
                                                           worker_activity_sid=acts["Offline"].sid)
        ws.tasks(res.task_sid).update(assignment_status="completed", reason="handled")
    assert order == ["urgent", "old support", "sales", "new support"]


@pytest.mark.parametrize(("prioritize", "first"), [("FIFO", "fifo old"), ("LIFO", "lifo new")])
def test_prioritize_queue_order_decides_which_kind_of_queue_a_worker_drains_first(
        client, taskrouter, prioritize, first):
    ws, acts, queues, workflow, made = routing_desk(client, {
        "queues": {"FifoQ": "1==1", "LifoQ": "1==1"},
        "config": lambda q: {"task_routing": {"filters": [
            {"expression": "q == 'fifo'", "targets": [{"queue": q["FifoQ"].sid}]},
            {"expression": "q == 'lifo'", "targets": [{"queue": q["LifoQ"].sid}]}]}},
    }, workers=("Ann",))
    ws.update(prioritize_queue_order=prioritize)
    ws.task_queues(queues["LifoQ"].sid).update(task_order="LIFO")
    names = {}
    for name, q, priority in (("lifo old", "lifo", 9), ("fifo old", "fifo", 0), ("lifo new", "lifo", 0)):
        names[ws.tasks.create(attributes=json.dumps({"q": q}), workflow_sid=workflow.sid, priority=priority).sid] = name
        taskrouter.advance_clock(1)
    ws.workers(made["Ann"].sid).update(activity_sid=acts["Available"].sid)
    [res] = ws.workers(made["Ann"].sid).reservations.list(reservation_status="pending")
    # LIFO ignores priority: "lifo new" beats the high-priority "lifo old".
    assert names[res.task_sid] == first


def test_task_update_that_reroutes_answers_with_the_new_queue(client):
    ws, acts, queues, workflow, made = routing_desk(client, {
        "queues": {"Gold": "1==1", "Default": "1==1"},
        "config": lambda q: {"task_routing": {
            "filters": [{"expression": "vip == true", "targets": [{"queue": q["Gold"].sid}]}],
            "default_filter": {"queue": q["Default"].sid}}},
    })
    task = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    assert task.task_queue_friendly_name == "Default"
    answer = ws.tasks(task.sid).update(attributes='{"vip": true}')
    assert (answer.task_queue_sid, answer.task_queue_friendly_name) == (queues["Gold"].sid, "Gold")
