"""Real-time figures, from the rows in memory at the moment of the request."""

from typing import Any

from ...core.state import Row
from ..models import Backend
from ..statuses import OPEN_TASK

LIVE_STATUSES = ("pending", "reserved", "assigned", "wrapping")  # the statuses Twilio's example counts
WAITING = OPEN_TASK  # a task waits until it is accepted


def activity_statistics(backend: Backend, ws_sid: str, workers: list[Row]) -> list[dict[str, Any]]:
    """Every activity of the workspace, in creation order, with how many of these workers are in it."""
    counts: dict[str, int] = {}
    for worker in workers:
        counts[worker["activity_sid"]] = counts.get(worker["activity_sid"], 0) + 1
    return [{"sid": a["sid"], "friendly_name": a["friendly_name"], "workers": counts.get(a["sid"], 0)}
            for a in backend.state.of(ws_sid, "activity").values()]


def task_figures(backend: Backend, tasks: list[Row]) -> dict[str, Any]:
    """tasks_by_status, tasks_by_priority, total_tasks and the longest waiting task of these (live) tasks."""
    by_status = dict.fromkeys(LIVE_STATUSES, 0)
    by_priority: dict[str, int] = {}
    live = [t for t in tasks if t["assignment_status"] in LIVE_STATUSES]
    for task in live:
        by_status[task["assignment_status"]] += 1
        key = str(task["priority"])
        by_priority[key] = by_priority.get(key, 0) + 1
    waiting = [t for t in live if t["assignment_status"] in WAITING]
    oldest = min(waiting, key=lambda t: (t["_created_ts"], t["_seq"]), default=None)
    return {
        "longest_task_waiting_age": backend.task_age(oldest) if oldest else 0,
        "longest_task_waiting_sid": oldest["sid"] if oldest else None,
        "tasks_by_priority": by_priority,
        "tasks_by_status": by_status,
        "total_tasks": len(live),
    }


def workspace(backend: Backend, ws_sid: str, tasks: list[Row]) -> dict[str, Any]:
    workers = list(backend.state.of(ws_sid, "worker").values())
    return {"activity_statistics": activity_statistics(backend, ws_sid, workers), **task_figures(backend, tasks),
            "total_workers": len(workers)}


def workers(backend: Backend, ws_sid: str, rows: list[Row]) -> dict[str, Any]:
    return {"activity_statistics": activity_statistics(backend, ws_sid, rows), "total_workers": len(rows)}


def workflow(backend: Backend, tasks: list[Row]) -> dict[str, Any]:
    return task_figures(backend, tasks)


def task_queue(backend: Backend, queue: Row, tasks: list[Row]) -> dict[str, Any]:
    """A queue's tasks, and its workers: those its target_workers selects (eligible, whatever their activity)."""
    ws_sid = queue["workspace_sid"]
    members = backend.members(queue)
    eligible = [w for w in backend.state.of(ws_sid, "worker").values() if w["sid"] in members]
    waiting = [t for t in tasks if t["assignment_status"] in WAITING and t.get("_queue_entered_ts") is not None]
    # Relative age: since the task entered this queue (a moved task starts again here).
    earliest = min(waiting, key=lambda t: (t["_queue_entered_ts"], t["_seq"]), default=None)
    return {
        "activity_statistics": activity_statistics(backend, ws_sid, eligible),
        **task_figures(backend, tasks),
        "longest_relative_task_age_in_queue":
            max(0, int(backend.now() - earliest["_queue_entered_ts"])) if earliest else 0,
        "longest_relative_task_sid_in_queue": earliest["sid"] if earliest else None,
        "total_available_workers": sum(1 for w in eligible if w["available"]),
        "total_eligible_workers": len(eligible),
    }
