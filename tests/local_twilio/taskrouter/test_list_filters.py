"""Every list filter Twilio's API description gives Tasks, Workers, Reservations and Events, through the SDK."""

import json
from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def centre(quickstart, callbacks, taskrouter):
    """Alice (es) and Bob (en); a Spanish task accepted by Alice, an English one waiting, one canceled."""
    callbacks.answer_json({"instruction": "accept"})
    q = quickstart
    spanish = q.spanish_task(priority=5)
    english = q.ws.tasks.create(attributes=json.dumps({"selected_language": "en", "vip": True}),
                                workflow_sid=q.workflow.sid, priority=1)
    gone = q.ws.tasks.create(attributes=json.dumps({"selected_language": "en"}), workflow_sid=q.workflow.sid)
    q.ws.tasks(gone.sid).update(assignment_status="canceled", reason="test")
    q.set_activity(q.alice, q.idle)
    taskrouter.wait_for_callbacks()
    assert q.task(spanish.sid).assignment_status == "assigned"
    return q, spanish, english, gone


def sids(rows) -> list[str]:
    return [r.sid for r in rows]


def test_tasks_list_filters_the_spec_lists(centre):
    q, spanish, english, gone = centre
    tasks = q.ws.tasks
    assert sids(tasks.list(assignment_status=["assigned"])) == [spanish.sid]
    assert set(sids(tasks.list(assignment_status=["pending", "canceled"]))) == {english.sid, gone.sid}
    assert sids(tasks.list(priority=5)) == [spanish.sid]
    assert len(tasks.list(workflow_sid=q.workflow.sid)) == 3
    assert len(tasks.list(workflow_name="Incoming Customer Care Requests")) == 3
    assert sids(tasks.list(task_queue_sid=q.spanish.sid)) == [spanish.sid]
    assert set(sids(tasks.list(task_queue_name="Customer Care Requests - English"))) == {english.sid, gone.sid}
    assert sids(tasks.list(evaluate_task_attributes="vip == true")) == [english.sid]
    assert tasks.list(routing_target=q.alice.sid) == []  # tasks here are routed by the workflow, not targeted
    assert tasks.list(has_addons=True) == [] and len(tasks.list(has_addons=False)) == 3
    assert sids(tasks.list(ordering="Priority:desc"))[:2] == [spanish.sid, english.sid]
    assert sids(tasks.list(ordering="DateCreated:desc"))[0] == gone.sid


def test_tasks_ordering_accepts_virtual_start_time_but_not_paired_with_date_created(centre, http):
    q, *_ = centre
    path = f"/v1/Workspaces/{q.workspace_sid}/Tasks"
    assert http.get(path, params={"Ordering": "VirtualStartTime:desc"}).status_code == 200
    refused = http.get(path, params={"Ordering": "DateCreated:asc,VirtualStartTime:desc"})
    assert refused.status_code == 400 and "DateCreated with VirtualStartTime" in refused.json()["message"]


def test_workers_list_filters_the_spec_lists(centre):
    q, *_ = centre
    workers = q.ws.workers
    assert sids(workers.list(activity_name="Busy")) == [q.alice.sid]
    assert sids(workers.list(activity_sid=q.offline.sid)) == [q.bob.sid]
    assert set(sids(workers.list(available=False))) == {q.alice.sid, q.bob.sid}
    assert sids(workers.list(friendly_name="Bob")) == [q.bob.sid]
    assert sids(workers.list(target_workers_expression='languages HAS "es"')) == [q.alice.sid]
    assert sids(workers.list(task_queue_name="Customer Care Requests - Spanish")) == [q.alice.sid]
    assert set(sids(workers.list(task_queue_sid=q.english.sid))) == {q.alice.sid, q.bob.sid}
    assert sids(workers.list(ordering="DateStatusChanged:desc"))[0] == q.alice.sid


def test_reservations_lists_filter_by_status_and_worker(centre):
    q, spanish, *_ = centre
    by_task = q.ws.tasks(spanish.sid).reservations
    [accepted] = by_task.list(reservation_status="accepted")
    assert by_task.list(reservation_status="pending") == []
    assert sids(by_task.list(worker_sid=q.alice.sid)) == [accepted.sid]
    assert by_task.list(worker_sid=q.bob.sid) == []
    by_worker = q.ws.workers(q.alice.sid).reservations
    assert sids(by_worker.list(reservation_status="accepted")) == [accepted.sid]
    assert by_worker.list(reservation_status="rejected") == []


def test_events_list_filters_the_spec_lists(centre):
    q, spanish, english, gone = centre
    events = q.ws.events
    [accepted] = q.ws.tasks(spanish.sid).reservations.list()
    assert {e.event_type for e in events.list(event_type="reservation.accepted")} == {"reservation.accepted"}
    assert {e.resource_sid for e in events.list(reservation_sid=accepted.sid)} == {accepted.sid}
    assert {e.event_data["task_sid"] for e in events.list(task_sid=english.sid)} == {english.sid}
    assert {e.event_data["worker_sid"] for e in events.list(worker_sid=q.alice.sid)} == {q.alice.sid}
    assert events.list(task_queue_sid=q.spanish.sid) and all(
        e.event_data["task_queue_sid"] == q.spanish.sid for e in events.list(task_queue_sid=q.spanish.sid))
    assert all(e.event_data["workflow_sid"] == q.workflow.sid for e in events.list(workflow_sid=q.workflow.sid))
    assert events.list(task_channel="voice") == [] and events.list(task_channel="default")
    one = events.list(limit=1)[0]
    assert sids(events.list(sid=one.sid)) == [one.sid]
    now = datetime.now(UTC)
    assert len(events.list(minutes=5)) == len(events.list())
    assert events.list(start_date=now + timedelta(hours=1)) == []
    assert events.list(end_date=now - timedelta(hours=1)) == []
