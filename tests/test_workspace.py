import json

from tutorial_helpers.workspace import (
    ACTIVITIES,
    WORKSPACE_NAME,
    build_quickstart,
    find_by_name,
    find_or_build_quickstart,
    find_quickstart,
    tidy_up_tasks,
    workflow_configuration,
)

CALLBACK = "http://127.0.0.1:1/assignment_callback"


def counts(client, quickstart):
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    return {
        "workspaces": len(client.taskrouter.v1.workspaces.list()),
        "activities": len(ws.activities.list()),
        "workers": len(ws.workers.list()),
        "queues": len(ws.task_queues.list()),
        "workflows": len(ws.workflows.list()),
    }


def test_build_creates_the_quickstart_and_a_rerun_reuses_it(client):
    assert find_quickstart(client) is None
    first = build_quickstart(client, CALLBACK)
    assert set(first.activities) == set(ACTIVITIES) and set(first.workers) == {"Alice", "Bob"}
    assert set(first.queues) == {"Spanish", "English"} and first.assignment_callback_url == CALLBACK
    before = counts(client, first)
    # Offline, Available, Unavailable come with the workspace; Idle, Busy, Reserved are ours.
    assert before == {"workspaces": 1, "activities": 6, "workers": 2, "queues": 2, "workflows": 1}

    again = build_quickstart(client)  # no URL: the workflow keeps its own
    assert again == first and counts(client, again) == before
    assert find_quickstart(client) == first == find_or_build_quickstart(client)


def test_build_is_single_tasking_and_routes_spanish_to_alice(client):
    quickstart = build_quickstart(client, CALLBACK)
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    assert ws.fetch().multi_task_enabled is False
    spanish = ws.task_queues(quickstart.queues["Spanish"]).fetch()
    assert spanish.target_workers == 'languages HAS "es"'
    assert (spanish.reservation_activity_name, spanish.assignment_activity_name) == ("Reserved", "Busy")
    workflow = ws.workflows(quickstart.workflow_sid).fetch()
    assert json.loads(workflow.configuration) == workflow_configuration(quickstart.queues)
    assert workflow.task_reservation_timeout == 1200
    assert json.loads(ws.workers(quickstart.workers["Alice"]).fetch().attributes) == {"languages": ["en", "es"]}


def test_build_repairs_what_differs(client):
    tr = client.taskrouter.v1
    workspace = tr.workspaces.create(friendly_name=WORKSPACE_NAME)  # multi-tasking, Twilio's default
    ws = tr.workspaces(workspace.sid)
    ws.workers.create(friendly_name="Alice", attributes=json.dumps({"languages": ["en"], "contact_uri": "x"}))
    quickstart = build_quickstart(client)
    assert quickstart.workspace_sid == workspace.sid
    assert ws.fetch().multi_task_enabled is False
    alice = json.loads(ws.workers(quickstart.workers["Alice"]).fetch().attributes)
    assert alice == {"languages": ["en", "es"], "contact_uri": "x"}  # other attributes kept

    ws.task_queues(quickstart.queues["Spanish"]).update(target_workers="1==1")
    build_quickstart(client)
    assert ws.task_queues(quickstart.queues["Spanish"]).fetch().target_workers == 'languages HAS "es"'


def test_find_returns_none_for_an_incomplete_workspace(client):
    quickstart = build_quickstart(client)
    client.taskrouter.v1.workspaces(quickstart.workspace_sid).workers(quickstart.workers["Bob"]).delete()
    assert find_quickstart(client) is None
    rebuilt = find_or_build_quickstart(client)
    assert rebuilt.workspace_sid == quickstart.workspace_sid
    assert rebuilt.how_found.startswith("Built the workspace just now")
    assert find_quickstart(client) is not None
    assert find_or_build_quickstart(client).how_found == "Found the workspace notebook 01 built"


def test_find_by_name(client):
    assert find_by_name(client.taskrouter.v1.workspaces, "nope") is None
    quickstart = build_quickstart(client)
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    assert find_by_name(ws.activities, "Idle").sid == quickstart.activities["Idle"]


def test_tidy_up_cancels_waiting_tasks_and_completes_assigned_ones(client):
    quickstart = build_quickstart(client)
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)

    def spanish():
        return ws.tasks.create(attributes='{"selected_language": "es"}', workflow_sid=quickstart.workflow_sid)

    assigned, reserved, pending = spanish(), spanish(), spanish()
    alice = ws.workers(quickstart.workers["Alice"])
    alice.update(activity_sid=quickstart.activities["Idle"])  # reserves `assigned`
    reservation = ws.tasks(assigned.sid).reservations.list()[0]
    ws.tasks(assigned.sid).reservations(reservation.sid).update(reservation_status="accepted")
    # Single-tasking: Alice is offered nothing more until her task is completed, so a second
    # Spanish speaker takes the next one.
    ws.workers.create(friendly_name="Carla", attributes='{"languages": ["es"]}',
                      activity_sid=quickstart.activities["Idle"])
    assert ws.tasks(reserved.sid).fetch().assignment_status == "reserved"

    done = tidy_up_tasks(client, quickstart)
    assert done["completed"] == [assigned.sid]
    assert sorted(done["canceled"]) == sorted([reserved.sid, pending.sid])
    statuses = {t.sid: ws.tasks(t.sid).fetch().assignment_status for t in (assigned, reserved, pending)}
    assert statuses == {assigned.sid: "completed", reserved.sid: "canceled", pending.sid: "canceled"}
    assert tidy_up_tasks(client, quickstart) == {"canceled": [], "completed": []}
