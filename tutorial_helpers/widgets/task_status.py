"""TaskStatusView: a task's status, the path it took, its reservation and the workers' activities, live."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterable
from typing import Any

import ipywidgets as widgets
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from tutorial_helpers.client import clone_client
from tutorial_helpers.statuses import FINISHED_TASK
from tutorial_helpers.widgets.live import STYLE, _code, _LiveBox, explain
from tutorial_helpers.workspace import QuickstartWorkspace

# Task status implied by each event type, to show the path a task took between two polls.
EVENT_STATUS = {
    "task.created": "pending",
    "reservation.created": "reserved",
    "reservation.accepted": "assigned",
    "reservation.rejected": "pending",
    "reservation.timeout": "pending",
    "reservation.canceled": "pending",
    "reservation.rescinded": "pending",
    "task.canceled": "canceled",
    "task.wrapup": "wrapping",
    "task.completed": "completed",
}


class TaskStatusView(_LiveBox):
    """A task's assignment status, its reservation and the workers' activities, kept up to date."""

    kind = "task-status"

    def __init__(
        self,
        client: Client,
        quickstart: QuickstartWorkspace,
        task_sid: str,
        workers: Iterable[str] = ("Alice", "Bob"),
        *,
        events: bool = False,
        interval: float | None = None,
        poll: bool = True,
    ) -> None:
        self.client = client
        self.quickstart = quickstart
        self.task_sid = task_sid
        self.show_events = events
        self.worker_names = list(workers)
        self._ws = clone_client(client).taskrouter.v1.workspaces(quickstart.workspace_sid)
        self._snapshot: tuple | None = None
        self._path: list[str] = []
        self._events: list[Any] = []
        self._note = ""
        self._error = ""
        self.state: dict[str, Any] = {}
        self.html = widgets.HTML("Reading the task…")
        super().__init__([self.html, widgets.HTML(STYLE)])
        self.add_class("tr-task-status")
        self._render_lock = threading.Lock()
        try:
            self._poll_step()
        except (TwilioException, OSError) as exc:
            self._show_error(exc)
        finished = self.state.get("assignment_status") in FINISHED_TASK
        self._start_polling(client, interval, poll and not finished)

    def refresh(self) -> bool:
        """Read the task, its reservations and the workers now; True if anything changed."""
        return self._poll_step()

    def _poll_step(self) -> bool:
        task = self._ws.tasks(self.task_sid).fetch()
        reservations = self._ws.tasks(self.task_sid).reservations.list()
        workers = {w.friendly_name: w.activity_name for w in self._ws.workers.list()}
        latest = max(reservations, key=lambda r: r.date_created or 0, default=None) if reservations else None
        snapshot = (
            task.assignment_status,
            latest.sid if latest else None,
            latest.reservation_status if latest else None,
            tuple(sorted(workers.items())),
        )
        self._error = ""
        if snapshot == self._snapshot:
            return False
        self._snapshot = snapshot
        try:
            self._events = self._ws.events.list(task_sid=self.task_sid, limit=50)
        except (TwilioException, OSError):
            self._events = []
        self._path = status_path(self._events, observed=task.assignment_status)
        self.state = {
            "task_sid": task.sid,
            "assignment_status": task.assignment_status,
            "queue": task.task_queue_friendly_name,
            "reservation_sid": latest.sid if latest else None,
            "reservation_status": latest.reservation_status if latest else None,
            "reserved_worker": latest.worker_name if latest else None,
            "workers": workers,
        }
        self._render()
        if task.assignment_status in FINISHED_TASK and hasattr(self, "_poller"):
            self._poller.stop()  # nothing will change any more
        return True

    def _render(self) -> None:
        s = self.state
        if not s:
            return
        rows = [
            ("Task", f"{_code(s['task_sid'])} in {html.escape(s['queue'] or '(no queue yet)')}"),
            ("Assignment status", f"<b><span class='tr-assignment-status'>{s['assignment_status']}</span></b>"),
            ("Path so far", f"<span class='tr-status-path'>{' → '.join(self._path)}</span>"),
        ]
        if s["reservation_sid"]:
            rows.append((
                "Reservation",
                f"{_code(s['reservation_sid'])} for {html.escape(s['reserved_worker'] or '?')}: "
                f"<b><span class='tr-reservation-status'>{s['reservation_status']}</span></b>",
            ))
        else:
            rows.append(("Reservation", "<span class='tr-reservation-status'>none yet</span>"))
        for name in self.worker_names:
            activity = s["workers"].get(name, "(missing)")
            rows.append((name, f"<b><span class='tr-activity-{name.lower()}'>{html.escape(activity)}</span></b>"))
        if self.show_events:
            # Newest first from the API; ties in milliseconds keep that order, reversed.
            ordered = [e for _, e in sorted(enumerate(self._events), key=lambda p: (_event_ms(p[1]), -p[0]))]
            lines = [html.escape(e.event_type) for e in ordered if e.event_type.startswith(("task.", "reservation."))]
            rows.append(("Events", f"<span class='tr-events'>{'<br>'.join(lines[-8:]) or 'none yet'}</span>"))
        table = "".join(
            f"<tr><td style='padding-right:1em'>{label}</td><td>{value}</td></tr>" for label, value in rows
        )
        footer = f"<div class='tr-error' style='color:#b00'>{html.escape(self._error)}</div>" if self._error else ""
        if self._note:
            footer += f"<div><i>{html.escape(self._note)}</i></div>"
        with self._render_lock:
            self.html.value = f"<table>{table}</table>{footer}"

    def _show_error(self, exc: BaseException) -> None:
        self._error = f"Could not read the task. {explain(exc, self._ws, 'this task')}"
        if self.state:
            self._render()
        else:
            self.html.value = f"<div class='tr-error' style='color:#b00'>{html.escape(self._error)}</div>"

    def _show_note(self, text: str) -> None:
        self._note = text
        self._render()


def status_path(events: Iterable[Any], observed: str | None = None) -> list[str]:
    """The assignment statuses a task went through, from its events (oldest first), ending in `observed`.

    Polling alone would miss `reserved` when a callback accepts within milliseconds.
    """
    ordered = sorted(enumerate(events), key=lambda pair: (_event_ms(pair[1]), -pair[0]))
    path: list[str] = []
    for _, event in ordered:
        status = EVENT_STATUS.get(getattr(event, "event_type", ""))
        if status and (not path or path[-1] != status):
            path.append(status)
    if observed and (not path or path[-1] != observed):
        path.append(observed)
    return path


def _event_ms(event: Any) -> int:
    value = getattr(event, "event_date_ms", None)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
