"""Cumulative figures: counted from the stored events of a window, in SQL (Store.event_figures).

An event counts when its date (on the one clock) is inside the window, whatever happened before it: a
reservation accepted in the window counts even when its task was created before (docs/differences-from-twilio.md,
"Where it differs from Twilio, and choices where Twilio's docs are open").
"""

from dataclasses import dataclass
from typing import Any

from ...core.clock import iso
from ..models import Backend

DEFAULT_MINUTES = 15  # Twilio's default window: "The default is 15 minutes."

RESERVATIONS = {
    "reservations_created": "reservation.created",
    "reservations_accepted": "reservation.accepted",
    "reservations_rejected": "reservation.rejected",
    "reservations_timed_out": "reservation.timeout",
    "reservations_canceled": "reservation.canceled",
    "reservations_rescinded": "reservation.rescinded",
}
TASKS = {
    "tasks_canceled": "task.canceled",
    "tasks_completed": "task.completed",
    "tasks_deleted": "task.deleted",
    "tasks_moved": "task-queue.moved",
    "tasks_timed_out_in_workflow": "workflow.timeout",
}
ENTERED = ("task-queue.entered", "task-queue.moved")  # a queue's tasks_entered: the tasks that came into it
ACTIVITY = "worker.activity.update"


@dataclass(frozen=True)
class Window:
    start: float
    end: float

    def rendered(self) -> dict[str, str]:
        return {"start_time": iso(self.start), "end_time": iso(self.end)}


@dataclass
class Figures:
    """The counted rows of one query, by event type (and, for activity changes, by previous activity)."""

    rows: list[dict[str, Any]]

    def count(self, *types: str) -> int:
        return sum(r["count"] for r in self.rows if r["type"] in types)

    def durations(self, event_type: str, prefix: str = "wait") -> dict[str, int]:
        rows = [r for r in self.rows if r["type"] == event_type and r[f"{prefix}_sum"] is not None]
        count = sum(r["count"] for r in rows)
        if not count:
            return {"avg": 0, "min": 0, "max": 0, "total": 0}
        total = sum(r[f"{prefix}_sum"] for r in rows)
        return {"avg": round(total / count), "min": min(r[f"{prefix}_min"] for r in rows),
                "max": max(r[f"{prefix}_max"] for r in rows), "total": total}

    def split(self, thresholds: list[int]) -> dict[str, Any] | None:
        """Per threshold (seconds): tasks canceled and reservations accepted after waiting under it ("below")
        or at least that long ("above"); the wait is the task's age at the cancel or the accept."""
        if not thresholds:
            return None
        out = {}
        for t in thresholds:
            part = {}
            for name, kind in (("tasks_canceled", "task.canceled"), ("reservations_accepted", "reservation.accepted")):
                rows = [r for r in self.rows if r["type"] == kind]
                below = sum(r["below"][t] for r in rows)
                part[name] = (below, sum(r["count"] for r in rows) - below)
            out[str(t)] = {side: {name: pair[i] for name, pair in part.items()}
                           for i, side in enumerate(("below", "above"))}
        return out


def figures(backend: Backend, ws_sid: str, window: Window, where: dict[str, str],
            thresholds: list[int] = ()) -> Figures:
    types = [*RESERVATIONS.values(), *TASKS.values(), "task.created", *ENTERED, ACTIVITY]
    rows = backend.state.store.event_figures(ws_sid, types, int(window.start * 1000), int(window.end * 1000),
                                             where, thresholds)
    return Figures(rows)


def _common(f: Figures, window: Window) -> dict[str, Any]:
    return {**window.rendered(), **{name: f.count(kind) for name, kind in RESERVATIONS.items()}}


def _tasks(f: Figures, thresholds: list[int]) -> dict[str, Any]:
    accepted = f.durations("reservation.accepted")
    return {
        "avg_task_acceptance_time": accepted["avg"],
        "split_by_wait_time": f.split(thresholds),
        "wait_duration_until_accepted": accepted,
        "wait_duration_until_canceled": f.durations("task.canceled"),
        **{name: f.count(kind) for name, kind in TASKS.items()},
    }


def workspace(backend: Backend, ws_sid: str, window: Window, where: dict[str, str],
              thresholds: list[int]) -> dict[str, Any]:
    f = figures(backend, ws_sid, window, where, thresholds)
    return {**_common(f, window), **_tasks(f, thresholds), "tasks_created": f.count("task.created")}


def workflow(backend: Backend, ws_sid: str, window: Window, where: dict[str, str],
             thresholds: list[int]) -> dict[str, Any]:
    f = figures(backend, ws_sid, window, where, thresholds)
    # A workflow's tasks_entered: the tasks created on it (re-evaluation does not enter them again).
    return {**_common(f, window), **_tasks(f, thresholds), "tasks_entered": f.count("task.created")}


def task_queue(backend: Backend, ws_sid: str, window: Window, where: dict[str, str],
               thresholds: list[int]) -> dict[str, Any]:
    f = figures(backend, ws_sid, window, where, thresholds)
    out = {**_common(f, window), **_tasks(f, thresholds), "tasks_entered": f.count(*ENTERED),
           "wait_duration_in_queue_until_accepted": f.durations("reservation.accepted", "queue_wait")}
    del out["tasks_timed_out_in_workflow"]  # not a queue's figure in Twilio's field set
    return out


def workers(backend: Backend, ws_sid: str, window: Window, where: dict[str, str]) -> dict[str, Any]:
    """Reservations of the workers, and the time they spent in each activity: each finished stay in an
    activity (a worker.activity.update in the window) counts; a stay still going on does not."""
    f = figures(backend, ws_sid, window, where)
    durations = []
    for activity in backend.state.of(ws_sid, "activity").values():
        rows = [r for r in f.rows if r["type"] == ACTIVITY and r["activity"] == activity["sid"]]
        spent = Figures(rows).durations(ACTIVITY)
        durations.append({"sid": activity["sid"], "friendly_name": activity["friendly_name"], **spent})
    return {**_common(f, window), "activity_durations": durations}
