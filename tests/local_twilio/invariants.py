"""What must hold in a local TaskRouter whatever happened to it: read in one look under the state lock.
Shared by the state machine (taskrouter/test_state_machine.py), the concurrency test (taskrouter/test_concurrency.py)
and the kill -9 soak (core/test_kill_soak.py)."""

from tutorial_helpers.local_twilio.taskrouter.models.base import TERMINAL_TASK_RETENTION

LIVE = ("pending", "accepted", "wrapping")
# A task's lifecycle events, each allowed only after these (None: first of all).
AFTER = {
    "task.created": (None,),
    "task.wrapup": ("task.created",),
    "task.completed": ("task.created", "task.wrapup"),
    "task.canceled": ("task.created",),
    "task.deleted": ("task.created", "task.wrapup", "task.completed", "task.canceled"),
}


def check_state(tr, workspace_sid: str, created: list[str], deleted: set[str]) -> None:
    """No worker over capacity, no task with two workers, task and reservation statuses that agree, no task
    lost (only deleted by the caller, or purged five minutes after it finished)."""
    state = tr.backend.state
    with state.lock:  # one consistent look: no request can change it meanwhile
        rows = list(state.rows.values())
        tasks = {r["sid"]: r for r in rows if r["_kind"] == "task"}
        workers = {r["sid"]: r for r in rows if r["_kind"] == "worker"}
        reservations = [r for r in rows if r["_kind"] == "reservation"]
        activities = {r["sid"]: r for r in rows if r["_kind"] == "activity"}
        now = tr.backend.now()
    by_task: dict[str, list[dict]] = {}
    for res in reservations:
        by_task.setdefault(res["task_sid"], []).append(res)
        assert res["task_sid"] in tasks, f"reservation {res['sid']} of a task that is gone"
    for worker in workers.values():
        live = [r for r in reservations if r["worker_sid"] == worker["sid"] and r["reservation_status"] in LIVE]
        # Single-tasking: one task at a time (a channel capacity of one).
        assert len(live) <= 1, f"{worker['friendly_name']} holds {len(live)} reservations"
        assert worker["activity_sid"] in activities
        assert worker["available"] == activities[worker["activity_sid"]]["available"]
    for sid, task in tasks.items():
        mine = by_task.get(sid, [])
        pending = [r for r in mine if r["reservation_status"] == "pending"]
        holding = [r for r in mine if r["reservation_status"] in ("accepted", "wrapping")]
        status = task["assignment_status"]
        assert len(holding) <= 1, f"task {sid} is assigned to {len(holding)} workers"
        if status == "reserved":
            assert pending, f"task {sid} is reserved with no pending reservation"
        if status == "pending":
            assert not pending and not holding, f"task {sid} is pending with {mine}"
        if status in ("assigned", "wrapping"):
            assert len(holding) == 1 and not pending, f"task {sid} is {status} with {mine}"
            expected = "accepted" if status == "assigned" else "wrapping"
            assert holding[0]["reservation_status"] == expected
        if status in ("canceled", "completed"):
            assert not pending and not holding
    for sid in created:
        if sid in deleted:
            assert sid not in tasks, f"deleted task {sid} is back"
        elif sid not in tasks:
            # Only a finished task disappears on its own, 5 minutes after it finished (on the clock).
            finished = [e for e in tr.backend.state.store.events(workspace_sid)
                        if e["resource_sid"] == sid and e["event_type"] in ("task.completed", "task.canceled")]
            assert finished, f"task {sid} was lost"
            assert finished[0]["event_date_ms"] / 1000 + TERMINAL_TASK_RETENTION <= now + 1


RESOURCE_KEYS = {"WT": "task_sid", "WR": "reservation_sid", "WK": "worker_sid", "WQ": "task_queue_sid",
                 "WW": "workflow_sid"}


def check_events(tr, workspace_sid: str) -> None:
    """The Events list is in time order, and every task event follows one that allows it."""
    events = list(reversed(tr.backend.state.store.events(workspace_sid)))  # oldest first
    times = [e["event_date_ms"] for e in events]
    assert times == sorted(times), "events out of order"
    last: dict[str, str | None] = {}
    for event in events:
        # The events list's sid filters (TaskSid, WorkerSid, ...) are answered in SQL from the event's data:
        # an event must name its own resource there (Store.event_page).
        key = RESOURCE_KEYS.get(event["resource_sid"][:2])
        assert key is None or event["event_data"].get(key) == event["resource_sid"], (
            f"{event['event_type']} does not name its resource {event['resource_sid']} as {key}")
        kind = event["event_type"]
        if kind not in AFTER:
            continue
        sid = event["resource_sid"]
        assert last.get(sid) in AFTER[kind], f"{kind} after {last.get(sid)} for task {sid}"
        last[sid] = kind
