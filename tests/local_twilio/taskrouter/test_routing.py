"""The routing engine through the SDK: filters (first match wins), default filter, target expressions
and priorities, re-evaluation, and a task no filter wants."""

import json

import pytest


@pytest.fixture
def routed(client):
    tr = client.taskrouter.v1
    ws = tr.workspaces(tr.workspaces.create(friendly_name="Routing", multi_task_enabled=False).sid)
    queues = {name: ws.task_queues.create(friendly_name=name) for name in ("Gold", "Spanish", "Silver", "Default")}
    config = {"task_routing": {
        "filters": [
            {"filter_friendly_name": "VIP", "expression": "vip == true",
             "targets": [{"queue": queues["Gold"].sid, "priority": 100}]},
            {"filter_friendly_name": "Spanish", "expression": 'selected_language == "es"',
             "targets": [{"queue": queues["Spanish"].sid, "expression": "worker.level >= task.level"}]},
            {"filter_friendly_name": "VIP or x", "expression": "vip == true OR x == 1",
             "targets": [{"queue": queues["Silver"].sid}]},
        ],
        "default_filter": {"queue": queues["Default"].sid},
    }}
    workflow = ws.workflows.create(friendly_name="Route", configuration=json.dumps(config))
    return ws, queues, workflow


CASES = [
    # (attributes, queue, priority)
    ({"vip": True, "selected_language": "es"}, "Gold", 100),  # the first matching filter wins
    ({"selected_language": "es", "level": 2}, "Spanish", 0),
    ({"x": 1}, "Silver", 0),
    ({"vip": True, "x": 1}, "Gold", 100),
    ({}, "Default", 0),
    ({"vip": "true"}, "Default", 0),  # a string is not the boolean true
    ({"selected_language": "ES"}, "Default", 0),  # string comparison is exact
]


@pytest.mark.parametrize(("attributes", "queue", "priority"), CASES, ids=[json.dumps(c[0]) for c in CASES])
def test_filters_pick_the_queue(routed, attributes, queue, priority):
    ws, queues, workflow = routed
    task = ws.tasks.create(attributes=json.dumps(attributes), workflow_sid=workflow.sid)
    assert (task.task_queue_sid, task.task_queue_friendly_name, task.priority) == (queues[queue].sid, queue, priority)
    matched = ws.events.list(event_type="workflow.target-matched", task_sid=task.sid)
    assert len(matched) == 1


def test_target_expression_compares_worker_and_task(routed):
    ws, _queues, workflow = routed
    available = next(a for a in ws.activities.list() if a.friendly_name == "Available")
    ws.workers.create(friendly_name="Junior", attributes='{"level": 1}', activity_sid=available.sid)
    ws.workers.create(friendly_name="Senior", attributes='{"level": 3}', activity_sid=available.sid)
    task = ws.tasks.create(attributes='{"selected_language": "es", "level": 2}', workflow_sid=workflow.sid)
    assert [r.worker_name for r in ws.tasks(task.sid).reservations.list()] == ["Senior"]
    easy = ws.tasks.create(attributes='{"selected_language": "es", "level": 1}', workflow_sid=workflow.sid)
    assert [r.worker_name for r in ws.tasks(easy.sid).reservations.list()] == ["Junior"]


def test_queue_target_workers_gate_everyone(client):
    tr = client.taskrouter.v1
    ws = tr.workspaces(tr.workspaces.create(friendly_name="Gate").sid)
    available = next(a for a in ws.activities.list() if a.friendly_name == "Available")
    queue = ws.task_queues.create(friendly_name="French", target_workers='languages HAS "fr" AND NOT_A_NAME != 1')
    config = {"task_routing": {"default_filter": {"queue": queue.sid}}}
    workflow = ws.workflows.create(friendly_name="Route", configuration=json.dumps(config))
    ws.workers.create(friendly_name="Anglo", attributes='{"languages": ["en"]}', activity_sid=available.sid)
    task = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    assert ws.tasks(task.sid).reservations.list() == []
    ws.workers.create(friendly_name="Franco", attributes='{"languages": ["fr"]}', activity_sid=available.sid)
    assert [r.worker_name for r in ws.tasks(task.sid).reservations.list()] == ["Franco"]


def test_no_matching_filter_and_no_default_cancels(client):
    tr = client.taskrouter.v1
    ws = tr.workspaces(tr.workspaces.create(friendly_name="Picky").sid)
    queue = ws.task_queues.create(friendly_name="Only")
    config = {"task_routing": {"filters": [{"expression": "wanted == true", "targets": [{"queue": queue.sid}]}]}}
    workflow = ws.workflows.create(friendly_name="Route", configuration=json.dumps(config))
    task = ws.tasks.create(attributes='{"wanted": false}', workflow_sid=workflow.sid)
    fetched = ws.tasks(task.sid).fetch()
    assert fetched.assignment_status == "canceled" and fetched.reason


def test_re_evaluate_tasks_routes_pending_tasks_again(routed):
    ws, queues, workflow = routed
    task = ws.tasks.create(attributes='{"x": 1}', workflow_sid=workflow.sid)
    assert task.task_queue_sid == queues["Silver"].sid
    config = {"task_routing": {"filters": [], "default_filter": {"queue": queues["Default"].sid}}}
    ws.workflows(workflow.sid).update(configuration=json.dumps(config), re_evaluate_tasks="true")
    assert ws.tasks(task.sid).fetch().task_queue_sid == queues["Default"].sid


def test_changed_attributes_route_a_pending_task_again(routed):
    ws, queues, workflow = routed
    task = ws.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    assert task.task_queue_sid == queues["Default"].sid
    ws.tasks(task.sid).update(attributes='{"vip": true}')
    moved = ws.tasks(task.sid).fetch()
    assert (moved.task_queue_sid, moved.priority) == (queues["Gold"].sid, 100)
