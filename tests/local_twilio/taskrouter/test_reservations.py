"""Reservations and task lifecycle: REST accept/reject on both paths, timeouts on the clock,
multi-reservation rescind, cancel/wrapping/complete, TTL, multitasking capacity, target timeouts."""

import json

import pytest
from taskrouter_support import event_types, small_workspace
from twilio.base.exceptions import TwilioRestException


class Desk:
    """A single-tasking workspace without callbacks: every decision is made through REST."""

    def __init__(self, client, **kwargs):
        kwargs.setdefault("multi_task", False)
        self.ws, self.acts, self.queue, self.workflow, self.workers = small_workspace(client, **kwargs)
        self.available = self.acts["Available"]
        self.offline = self.acts["Offline"]
        self.unavailable = self.acts["Unavailable"]

    def idle(self, *names: str) -> None:
        """Make workers available in this order, so the first named has been idle longest."""
        for name in names:
            self.ws.workers(self.workers[name].sid).update(activity_sid=self.available.sid)

    def task(self, **kwargs):
        return self.ws.tasks.create(attributes=kwargs.pop("attributes", "{}"), workflow_sid=self.workflow.sid,
                                    **kwargs)

    def reservations(self, task_sid: str, status: str | None = None) -> list:
        found = self.ws.tasks(task_sid).reservations.list()
        return [r for r in found if status is None or r.reservation_status == status]

    def pending(self, task_sid: str):
        (res,) = self.reservations(task_sid, "pending")
        return res

    def reservation_ctx(self, via: str, task_sid: str, res):
        if via == "task":
            return self.ws.tasks(task_sid).reservations(res.sid)
        return self.ws.workers(res.worker_sid).reservations(res.sid)

    def status(self, task_sid: str) -> str:
        return self.ws.tasks(task_sid).fetch().assignment_status

    def activity(self, name: str) -> str:
        return self.ws.workers(self.workers[name].sid).fetch().activity_name


def refused(call, status: int = 400) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as info:
        call()
    assert info.value.status == status
    return info.value


# ---------------------------------------------------------------------------- accept / reject through REST


@pytest.mark.parametrize("via", ["task", "worker"])
def test_accept_through_rest_with_worker_activity(client, via):
    desk = Desk(client)
    desk.idle("Ann")
    task = desk.task()
    res = desk.pending(task.sid)
    assert res.worker_name == "Ann" and desk.status(task.sid) == "reserved"
    accepted = desk.reservation_ctx(via, task.sid, res).update(reservation_status="accepted",
                                                                worker_activity_sid=desk.unavailable.sid)
    assert accepted.reservation_status == "accepted"
    assert ("/Tasks/" if via == "task" else "/Workers/") in accepted.url
    assert desk.status(task.sid) == "assigned"
    assert desk.activity("Ann") == "Unavailable"
    # Accepting twice is refused; the reservation stays accepted.
    refused(lambda: desk.reservation_ctx(via, task.sid, res).update(reservation_status="accepted"))
    assert desk.reservations(task.sid)[0].reservation_status == "accepted"


@pytest.mark.parametrize("via", ["task", "worker"])
def test_reject_through_rest_offers_the_next_worker(client, via):
    desk = Desk(client)
    desk.idle("Ann", "Ben")  # Ann has been idle longest, so she is offered first
    task = desk.task()
    first = desk.pending(task.sid)
    assert first.worker_name == "Ann"
    rejected = desk.reservation_ctx(via, task.sid, first).update(reservation_status="rejected",
                                                                 worker_activity_sid=desk.offline.sid)
    assert rejected.reservation_status == "rejected"
    assert desk.activity("Ann") == "Offline"
    second = desk.pending(task.sid)
    assert second.worker_name == "Ben" and desk.status(task.sid) == "reserved"
    # Ann is available again but is not offered the task she rejected.
    desk.idle("Ann")
    desk.ws.tasks(task.sid).reservations(second.sid).update(reservation_status="rejected")
    assert desk.status(task.sid) == "pending"
    assert [r.worker_name for r in desk.reservations(task.sid)] == ["Ann", "Ben"]
    assert {r.reservation_status for r in desk.reservations(task.sid)} == {"rejected"}
    assert "reservation.rejected" in event_types(desk.ws, task_sid=task.sid)
    # Other tasks are offered to Ann as usual (Ben, idle longer now, gets the first).
    assert desk.pending(desk.task().sid).worker_name == "Ben"
    assert desk.pending(desk.task().sid).worker_name == "Ann"


def test_reject_without_activity_keeps_the_worker_where_it_was(client):
    desk = Desk(client)
    desk.idle("Ann")
    task = desk.task()
    desk.ws.tasks(task.sid).reservations(desk.pending(task.sid).sid).update(reservation_status="rejected")
    assert desk.activity("Ann") == "Available"
    assert desk.status(task.sid) == "pending"


def test_reservation_status_transitions_that_make_no_sense_are_refused(client):
    desk = Desk(client)
    desk.idle("Ann")
    task = desk.task()
    res = desk.pending(task.sid)
    ctx = desk.ws.tasks(task.sid).reservations(res.sid)
    refused(lambda: ctx.update(reservation_status="completed"))
    refused(lambda: ctx.update(reservation_status="accepted", worker_activity_sid="WA" + "0" * 32))
    refused(lambda: ctx.update(instruction="dequeue"))
    assert ctx.fetch().reservation_status == "pending"
    ctx.update(instruction="accept")
    assert ctx.fetch().reservation_status == "accepted"


# ---------------------------------------------------------------------------- timeouts on the clock


@pytest.mark.paused_clock  # 299 s in, the 300 s timeout must not have fired
def test_reservation_timeout_through_the_clock(client, taskrouter):
    desk = Desk(client, reservation_timeout=300)
    desk.idle("Ann", "Ben")
    task = desk.task()
    first = desk.pending(task.sid)
    assert first.worker_name == "Ann"
    taskrouter.advance_clock(299)
    assert desk.ws.tasks(task.sid).reservations(first.sid).fetch().reservation_status == "pending"
    taskrouter.advance_clock(1)
    assert desk.ws.tasks(task.sid).reservations(first.sid).fetch().reservation_status == "timeout"
    # Ann moves to the workspace's timeout activity; the task is routed again, to Ben.
    assert desk.activity("Ann") == "Offline"
    assert desk.pending(task.sid).worker_name == "Ben"
    assert desk.status(task.sid) == "reserved"
    timeouts = desk.ws.events.list(event_type="reservation.timeout")
    assert [e.resource_sid for e in timeouts] == [first.sid]


def test_reservation_timeout_in_the_quickstart(quickstart, taskrouter, callbacks):
    qs = quickstart
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    res_sid = callbacks.wait_for(1)[0]["form"]["ReservationSid"]
    taskrouter.advance_clock(1200)
    assert qs.ws.tasks(task.sid).reservations(res_sid).fetch().reservation_status == "timeout"
    assert qs.worker(qs.alice).activity_name == "Offline"
    assert qs.task(task.sid).assignment_status == "pending"
    # Back to idle, Alice gets a new reservation for the same task.
    qs.set_activity(qs.alice, qs.idle)
    callbacks.wait_for(2)
    assert [r.reservation_status for r in qs.ws.tasks(task.sid).reservations.list()] == ["timeout", "pending"]


@pytest.mark.paused_clock  # 59 s in, the 60 s TTL must not have fired
def test_task_ttl_cancels_the_task(client, taskrouter):
    desk = Desk(client)
    task = desk.task(timeout=60)
    taskrouter.advance_clock(59)
    assert desk.status(task.sid) == "pending"
    taskrouter.advance_clock(2)
    canceled = desk.ws.tasks(task.sid).fetch()
    assert canceled.assignment_status == "canceled"
    assert "TTL" in canceled.reason
    assert "task.canceled" in event_types(desk.ws, task_sid=task.sid)


def test_ttl_of_a_reserved_task_cancels_its_reservation(client, taskrouter):
    desk = Desk(client, reservation_timeout=3600)
    desk.idle("Ann")
    task = desk.task(timeout=60)
    res = desk.pending(task.sid)
    taskrouter.advance_clock(61)
    assert desk.status(task.sid) == "canceled"
    assert desk.ws.tasks(task.sid).reservations(res.sid).fetch().reservation_status == "canceled"
    assert desk.activity("Ann") == "Available"


@pytest.mark.paused_clock  # 29 s in, the 30 s target timeout must not have fired
def test_workflow_target_timeout_moves_the_task_on(client, taskrouter):
    desk = Desk(client, workers=())
    ws = desk.ws
    first_line = ws.task_queues.create(friendly_name="First line", target_workers="tier == 1")
    second_line = ws.task_queues.create(friendly_name="Second line", target_workers="tier == 2")
    config = {"task_routing": {"filters": [{"filter_friendly_name": "Escalate", "expression": "1==1", "targets": [
        {"queue": first_line.sid, "timeout": 30},
        {"queue": second_line.sid},
    ]}]}}
    ws.workflows(desk.workflow.sid).update(configuration=json.dumps(config))
    ws.workers.create(friendly_name="Tier2", attributes='{"tier": 2}', activity_sid=desk.available.sid)
    task = desk.task()
    assert (task.task_queue_sid, task.assignment_status) == (first_line.sid, "pending")
    taskrouter.advance_clock(29)
    assert ws.tasks(task.sid).fetch().task_queue_sid == first_line.sid
    taskrouter.advance_clock(1)
    moved = ws.tasks(task.sid).fetch()
    assert (moved.task_queue_sid, moved.task_queue_friendly_name) == (second_line.sid, "Second line")
    assert desk.pending(task.sid).worker_name == "Tier2"
    assert "task-queue.moved" in event_types(ws, task_sid=task.sid)


def test_past_the_last_target_the_task_is_canceled(client, taskrouter):
    desk = Desk(client, workers=())
    config = {"task_routing": {"filters": [{"expression": "1==1", "targets": [
        {"queue": desk.queue.sid, "timeout": 10}]}]}}
    desk.ws.workflows(desk.workflow.sid).update(configuration=json.dumps(config))
    task = desk.task()
    taskrouter.advance_clock(10)
    assert desk.status(task.sid) == "canceled"


# ---------------------------------------------------------------------------- several reservations


def test_max_reserved_workers_two_then_rescind(client):
    desk = Desk(client, max_reserved_workers=2, workers=("Ann", "Ben", "Cy"))
    desk.idle("Ann", "Ben")
    task = desk.task()
    pending = desk.reservations(task.sid, "pending")
    assert sorted(r.worker_name for r in pending) == ["Ann", "Ben"]
    ben = next(r for r in pending if r.worker_name == "Ben")
    desk.ws.workers(ben.worker_sid).reservations(ben.sid).update(reservation_status="accepted")
    by_worker = {r.worker_name: r.reservation_status for r in desk.reservations(task.sid)}
    assert by_worker == {"Ann": "rescinded", "Ben": "accepted"}
    assert desk.status(task.sid) == "assigned"
    assert "reservation.rescinded" in event_types(desk.ws, task_sid=task.sid)
    # Ann is free again: a rescinded reservation is nobody's fault.
    assert desk.activity("Ann") == "Available"
    assert "Ann" in [r.worker_name for r in desk.reservations(desk.task().sid, "pending")]


def test_an_idle_worker_joins_the_open_offers(client):
    desk = Desk(client, max_reserved_workers=3, workers=("Ann", "Ben"))
    desk.idle("Ann")
    task = desk.task()
    assert [r.worker_name for r in desk.reservations(task.sid, "pending")] == ["Ann"]
    desk.idle("Ben")
    assert sorted(r.worker_name for r in desk.reservations(task.sid, "pending")) == ["Ann", "Ben"]


# ---------------------------------------------------------------------------- cancel, wrapping, complete


def test_cancel_needs_a_reason_and_frees_the_worker(quickstart, callbacks):
    qs = quickstart
    task = qs.spanish_task()
    qs.set_activity(qs.alice, qs.idle)
    res_sid = callbacks.wait_for(1)[0]["form"]["ReservationSid"]
    assert qs.worker(qs.alice).activity_name == "Reserved"
    refused(lambda: qs.ws.tasks(task.sid).update(assignment_status="canceled"))
    assert qs.task(task.sid).assignment_status == "reserved"
    canceled = qs.ws.tasks(task.sid).update(assignment_status="canceled", reason="caller hung up")
    assert (canceled.assignment_status, canceled.reason) == ("canceled", "caller hung up")
    assert qs.ws.tasks(task.sid).reservations(res_sid).fetch().reservation_status == "canceled"
    assert qs.worker(qs.alice).activity_name == "Idle", "back where she was before the reservation"
    # A finished task cannot be changed any more.
    refused(lambda: qs.ws.tasks(task.sid).update(attributes="{}"))


def test_assigned_task_wraps_up_and_completes(client):
    desk = Desk(client)
    desk.idle("Ann")
    task = desk.task()
    res = desk.pending(task.sid)
    desk.ws.tasks(task.sid).reservations(res.sid).update(reservation_status="accepted")
    error = refused(lambda: desk.ws.tasks(task.sid).update(assignment_status="canceled", reason="too late"))
    assert "assigned" in error.msg
    assert desk.status(task.sid) == "assigned"
    refused(lambda: desk.ws.tasks(task.sid).update(assignment_status="completed"))  # Reason is required
    wrapping = desk.ws.tasks(task.sid).update(assignment_status="wrapping")
    assert wrapping.assignment_status == "wrapping"
    assert desk.ws.tasks(task.sid).reservations(res.sid).fetch().reservation_status == "wrapping"
    done = desk.ws.tasks(task.sid).update(assignment_status="completed", reason="resolved")
    assert (done.assignment_status, done.reason) == ("completed", "resolved")
    assert desk.ws.tasks(task.sid).reservations(res.sid).fetch().reservation_status == "completed"
    types = event_types(desk.ws, task_sid=task.sid)
    assert types.index("task.wrapup") < types.index("task.completed")


@pytest.mark.paused_clock  # 299 s in, the task must still be there
def test_finished_tasks_disappear_five_minutes_later(client, taskrouter):
    desk = Desk(client)
    task = desk.task()
    desk.ws.tasks(task.sid).update(assignment_status="canceled", reason="duplicate")
    taskrouter.advance_clock(299)
    assert desk.status(task.sid) == "canceled"
    taskrouter.advance_clock(1)
    refused(lambda: desk.ws.tasks(task.sid).fetch(), status=404)
    assert "task.deleted" in event_types(desk.ws, task_sid=task.sid)


def test_a_pending_task_cannot_complete(client):
    desk = Desk(client)
    task = desk.task()
    refused(lambda: desk.ws.tasks(task.sid).update(assignment_status="completed", reason="x"))
    assert desk.status(task.sid) == "pending"


# ---------------------------------------------------------------------------- workers


def test_reject_pending_reservations_on_worker_update(client):
    desk = Desk(client)
    desk.idle("Ann", "Ben")
    task = desk.task()
    first = desk.pending(task.sid)
    assert first.worker_name == "Ann"
    moved = desk.ws.workers(first.worker_sid).update(activity_sid=desk.offline.sid, reject_pending_reservations=True)
    assert moved.activity_name == "Offline"
    assert desk.ws.tasks(task.sid).reservations(first.sid).fetch().reservation_status == "rejected"
    assert desk.pending(task.sid).worker_name == "Ben"


def test_going_unavailable_with_a_pending_reservation_needs_the_flag(client):
    desk = Desk(client)
    desk.idle("Ann")
    task = desk.task()
    res = desk.pending(task.sid)
    refused(lambda: desk.ws.workers(res.worker_sid).update(activity_sid=desk.offline.sid))
    assert desk.activity("Ann") == "Available"
    assert desk.pending(task.sid).sid == res.sid


def test_deleting_a_reserved_worker_cancels_the_reservation(client):
    desk = Desk(client)
    desk.idle("Ann", "Ben")
    task = desk.task()
    first = desk.pending(task.sid)
    assert first.worker_name == "Ann"
    desk.ws.workers(first.worker_sid).delete()
    assert desk.ws.tasks(task.sid).reservations(first.sid).fetch().reservation_status == "canceled"
    assert desk.pending(task.sid).worker_name == "Ben"


def test_deleting_the_only_reserved_worker_puts_the_task_back_to_pending(client):
    desk = Desk(client, workers=("Ann",))
    desk.idle("Ann")
    task = desk.task()
    desk.ws.workers(desk.pending(task.sid).worker_sid).delete()
    assert desk.status(task.sid) == "pending"
    assert desk.reservations(task.sid, "pending") == []


def test_deleting_a_reserved_task_frees_the_worker(client):
    desk = Desk(client, workers=("Ann",))
    desk.idle("Ann")
    task = desk.task()
    ann = desk.workers["Ann"].sid
    assert desk.pending(task.sid).worker_name == "Ann"
    desk.ws.tasks(task.sid).delete()
    # No reservation is left behind for the deleted task, and Ann takes the next task.
    assert desk.ws.workers(ann).reservations.list() == []
    assert len(desk.ws.workers(ann).worker_channels.list()) == 5
    nxt = desk.task()
    assert desk.pending(nxt.sid).worker_name == "Ann"


# ---------------------------------------------------------------------------- multitasking


def test_multitasking_keeps_the_activity_and_counts_capacity(client):
    ws, acts, _queue, workflow, workers = small_workspace(client, workers=("Ann",))
    assert ws.fetch().multi_task_enabled is True
    ann = workers["Ann"]
    ws.workers(ann.sid).update(activity_sid=acts["Available"].sid)
    ws.workers(ann.sid).worker_channels("default").update(capacity=2)
    tasks = [ws.tasks.create(attributes="{}", workflow_sid=workflow.sid) for _ in range(3)]
    reserved = [ws.tasks(t.sid).reservations.list() for t in tasks]
    assert [len(r) for r in reserved] == [1, 1, 0], "capacity 2: two tasks reserved to Ann, the third waits"
    first = reserved[0][0]
    ws.tasks(tasks[0].sid).reservations(first.sid).update(reservation_status="accepted")
    ann_now = ws.workers(ann.sid).fetch()
    assert (ann_now.activity_name, ann_now.available) == ("Available", True), "multitasking: activity unchanged"
    channel = ws.workers(ann.sid).worker_channels("default").fetch()
    assert (channel.assigned_tasks, channel.available_capacity_percentage) == (2, 0)
    # Completing a task frees capacity, and the waiting task is reserved at once.
    ws.tasks(tasks[0].sid).update(assignment_status="completed", reason="done")
    assert len(ws.tasks(tasks[2].sid).reservations.list()) == 1


def test_multitasking_channels_are_separate(client):
    ws, acts, _queue, workflow, workers = small_workspace(client, workers=("Ann",))
    ws.workers(workers["Ann"].sid).update(activity_sid=acts["Available"].sid)
    default = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    sms = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid, task_channel="sms")
    queued = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    assert [len(ws.tasks(t.sid).reservations.list()) for t in (default, sms, queued)] == [1, 1, 0]
    # An unavailable channel gets nothing, whatever its capacity.
    ws.workers(workers["Ann"].sid).worker_channels("chat").update(available=False, capacity=5)
    chat = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid, task_channel="chat")
    assert ws.tasks(chat.sid).reservations.list() == []


# ---------------------------------------------------------------------------- routing order


def test_longest_idle_worker_is_offered_first(client):
    desk = Desk(client, workers=("Ann", "Ben", "Cy"))
    desk.idle("Cy", "Ann", "Ben")
    assert desk.pending(desk.task().sid).worker_name == "Cy"
    assert desk.pending(desk.task().sid).worker_name == "Ann"
    assert desk.pending(desk.task().sid).worker_name == "Ben"


@pytest.mark.parametrize(("task_order", "expected"), [("FIFO", ["old", "new", "low"]), ("LIFO", ["new", "old", "low"])])
def test_tasks_by_priority_then_age(client, taskrouter, task_order, expected):
    desk = Desk(client, workers=("Ann",))
    desk.ws.task_queues(desk.queue.sid).update(task_order=task_order)
    # "low" is oldest but has the lowest priority; "old" and "new" share a higher one.
    for name, priority in (("low", 1), ("old", 5), ("new", 5)):
        desk.task(attributes=json.dumps({"name": name}), priority=priority)
        taskrouter.advance_clock(1)  # distinct ages without sleeping
    order = []
    for _ in expected:
        desk.idle("Ann")
        (res,) = desk.ws.workers(desk.workers["Ann"].sid).reservations.list(reservation_status="pending")
        order.append(json.loads(desk.ws.tasks(res.task_sid).fetch().attributes)["name"])
        desk.ws.tasks(res.task_sid).reservations(res.sid).update(reservation_status="accepted",
                                                                 worker_activity_sid=desk.offline.sid)
        # Single-tasking: Ann gets her next task only once this one is completed.
        desk.ws.tasks(res.task_sid).update(assignment_status="completed", reason="handled")
    assert order == expected
