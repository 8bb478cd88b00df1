"""The checks of notebooks 02 (accept a reservation through REST) and 03 (accept it with the assignment
callback's instruction): the same task, reservation and worker, seen through what each step changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from tutorial_helpers.callback_server import CallbackEntry, CallbackServer
from tutorial_helpers.checks.common import (
    STEP_02,
    STEP_03,
    CheckResult,
    _alerts_about,
    _api_failure,
    _callback_for,
    _wait,
    again_from,
)
from tutorial_helpers.statuses import FINISHED_TASK
from tutorial_helpers.workspace import ASSIGNMENT_ACTIVITY, QuickstartWorkspace


@dataclass
class _Seen:
    task: Any
    reservation: Any | None
    worker: Any
    entry: CallbackEntry | None = None

    def lines(self, worker_name: str) -> list[str]:
        lines = [f"Task {self.task.sid}: {self.task.assignment_status}"
                 + (f" in {self.task.task_queue_friendly_name!r}" if self.task.task_queue_friendly_name else "")]
        if self.reservation is not None:
            lines.append(f"Reservation {self.reservation.sid} for {self.reservation.worker_name}: "
                         f"{self.reservation.reservation_status}")
        else:
            lines.append("No reservation for this task")
        lines.append(f"{worker_name}: {self.worker.activity_name}")
        if self.entry is not None:
            lines.append(f"Callback {self.entry.method} {self.entry.path}: signature "
                         f"{'valid' if self.entry.signature_valid else 'refused'}, we answered HTTP "
                         f"{self.entry.status} {self.entry.content_type or ''} {self.entry.body.strip()}".rstrip())
        return lines


def _observe(client: Client, quickstart: QuickstartWorkspace, task_sid: str, worker_name: str) -> _Seen:
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    task = ws.tasks(task_sid).fetch()
    reservations = ws.tasks(task_sid).reservations.list()
    reservation = max(reservations, key=lambda r: r.date_created or 0) if reservations else None
    worker = ws.workers(quickstart.workers[worker_name]).fetch()
    return _Seen(task, reservation, worker)


def check_step_02(
    client: Client,
    quickstart: QuickstartWorkspace,
    task_sid: str,
    server: CallbackServer | None = None,
    *,
    worker: str = "Alice",
    timeout: float = 5.0,
) -> CheckResult:
    """Step 02: the task was accepted through the REST API and Alice is Busy.

    With `server`, also checks that the callback answered `{}` (so the accept was yours).
    """
    title = "accept a reservation through REST"

    def evaluate() -> tuple[CheckResult, bool]:
        try:
            seen = _observe(client, quickstart, task_sid, worker)
        except TwilioException as exc:
            return _api_failure(title, exc), True
        if server is not None:
            seen.entry = _callback_for(server, task_sid)
            if seen.entry is not None and _answer_problem(seen.entry) is None:
                return CheckResult(False, title, "your callback accepted the reservation, not the REST API.",
                                   seen.lines(worker),
                                   ["In this step the route answers {} so that you accept through REST: "
                                    f"{again_from(STEP_02, 'route')}."]), True
        common = _common_verdict(title, seen, worker, STEP_02)
        if common is not None:
            return common
        res = seen.reservation
        if seen.task.assignment_status == "reserved" and res is not None and res.reservation_status == "pending":
            return CheckResult(False, title, f"{worker} is reserved for the task; the reservation waits for you.",
                               seen.lines(worker),
                               ["Run the cell that accepts the reservation (ReservationStatus=accepted)."]), True
        result, settled = _assigned_verdict(title, seen, worker, quickstart,
                                            success="you accepted the reservation through the REST API, the task "
                                                    f"is assigned and {worker} is {ASSIGNMENT_ACTIVITY}.")
        if result.ok and seen.entry is not None and not seen.entry.signature_valid:
            # Accepting through REST does not need the callback's answer; step 03 does, so say it now.
            result.hints.append(f"Before step 03: {_answer_problem(seen.entry)}")
        return result, settled

    return _wait(evaluate, timeout)


def check_step_03(
    client: Client,
    quickstart: QuickstartWorkspace,
    task_sid: str,
    server: CallbackServer,
    *,
    worker: str = "Alice",
    timeout: float = 10.0,
) -> CheckResult:
    """Step 03: the callback answered {"instruction": "accept"}, the task is assigned, Alice is Busy."""
    title = "accept with an assignment instruction"

    def evaluate() -> tuple[CheckResult, bool]:
        try:
            seen = _observe(client, quickstart, task_sid, worker)
        except TwilioException as exc:
            return _api_failure(title, exc), True
        seen.entry = _callback_for(server, task_sid)
        common = _common_verdict(title, seen, worker, STEP_03)
        if common is not None:
            return common
        entry = seen.entry
        if entry is None:
            if seen.task.assignment_status == "assigned":
                return CheckResult(False, title, "the task is assigned, but not by your callback's answer.",
                                   seen.lines(worker),
                                   ["This kernel's server never saw the callback for this task: was the "
                                    f"reservation accepted through REST? {again_from(STEP_03, 'offline')}."]), True
            hints = [f"TaskRouter has not called this kernel's server yet. The workflow must call "
                     f"{server.url_for('/assignment_callback')}: run the cell that updates the workflow."]
            hints += _local_alerts(client, quickstart, seen)
            return CheckResult(False, title, f"{worker} is reserved, but no callback has arrived.",
                               seen.lines(worker), hints), False
        answer_problem = _answer_problem(entry)
        if answer_problem is not None:
            hints = [answer_problem, *_local_alerts(client, quickstart, seen)]
            if seen.reservation is not None and seen.reservation.reservation_status == "pending":
                hints.append(f"The reservation now waits for REST or its timeout: fix the route, then put {worker} "
                             f"Offline again: {again_from(STEP_03, 'offline')}.")
            return CheckResult(False, title, "your callback did not accept the reservation.",
                               seen.lines(worker), hints), True
        return _assigned_verdict(
            title, seen, worker, quickstart,
            success=f'your callback answered {{"instruction": "accept"}}, TaskRouter accepted the reservation at '
                    f"once, the task is assigned and {worker} is {ASSIGNMENT_ACTIVITY}.")

    return _wait(evaluate, timeout)


def _common_verdict(title: str, seen: _Seen, worker: str, notebook: str) -> tuple[CheckResult, bool] | None:
    """The verdicts both steps share: a task that is gone, or a worker who was never made available."""
    status = seen.task.assignment_status
    if status in FINISHED_TASK:
        return CheckResult(False, title, f"this task is {status}.", seen.lines(worker),
                           [f"Reason given: {seen.task.reason or '(none)'}. A later run's tidy-up cancels "
                            f"waiting tasks and completes assigned ones: {again_from(notebook, 'offline')}."]), True
    if status == "pending" and not seen.worker.available:
        return CheckResult(False, title, f"{worker} is still {seen.worker.activity_name}, so nobody can take the task.",
                           seen.lines(worker),
                           [f"Click Idle for {worker} in the activity widget above, then run this check again."]), True
    if status == "pending":
        return CheckResult(False, title, f"{worker} is available but has not been offered the task yet.",
                           seen.lines(worker),
                           ["If this lasts, another task may be waiting ahead of it, or the task is in another "
                            f"queue: {again_from(notebook, 'task')} (its first line tidies up older tasks)."]), False
    return None


def _assigned_verdict(title: str, seen: _Seen, worker: str, quickstart: QuickstartWorkspace,
                      success: str) -> tuple[CheckResult, bool]:
    res = seen.reservation
    if seen.task.assignment_status != "assigned" or res is None or res.reservation_status != "accepted":
        return CheckResult(False, title, f"the task is {seen.task.assignment_status}, not assigned yet.",
                           seen.lines(worker), ["Wait a moment and run this check again."]), False
    if res.worker_name != worker:
        return CheckResult(False, title, f"the task went to {res.worker_name}, not {worker}.", seen.lines(worker),
                           [f"Only {worker} speaks Spanish: check the workers' attributes (notebook 01)."]), True
    if seen.worker.activity_name != ASSIGNMENT_ACTIVITY:
        return CheckResult(False, title, f"the task is assigned, but {worker} is {seen.worker.activity_name}, "
                           f"not {ASSIGNMENT_ACTIVITY}.", seen.lines(worker),
                           [f"The Spanish queue's assignment activity must be {ASSIGNMENT_ACTIVITY} and the workspace "
                            "single-tasking (notebook 01's check), or someone moved her since."]), True
    return CheckResult(True, title, success, seen.lines(worker)), True


def _answer_problem(entry: CallbackEntry) -> str | None:
    if not entry.signature_valid:
        return ("The callback server refused TaskRouter's request (403: the X-Twilio-Signature did not match). "
                "The server checks it with this kernel's auth token; in local mode the local TaskRouter and the "
                "kernel must see the same TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN (restart both).")
    if entry.status >= 500 or entry.errors:
        return "Your route raised an exception (the callback inspector shows it); fix the route and re-run its cell."
    if entry.status != 200:
        return f"Your route answered HTTP {entry.status}; TaskRouter needs 200."
    if (entry.content_type or "").split(";")[0].strip() != "application/json":
        return (f"Your route answered Content-Type {entry.content_type!r}: TaskRouter ignores an instruction that "
                "is not application/json (mimetype='application/json').")
    try:
        answer = json.loads(entry.body or "{}")
    except ValueError:
        return f"Your route's answer is not JSON: {entry.body[:100]!r}."
    if not isinstance(answer, dict) or answer.get("instruction") != "accept":
        return (f'Your route answered {entry.body.strip() or "(empty)"}, not {{"instruction": "accept"}}: re-run '
                "the cell with the new route (it swaps the app behind the same server).")
    return None


def _local_alerts(client: Client, quickstart: QuickstartWorkspace, seen: _Seen) -> list[str]:
    """The local TaskRouter's record of callback problems for this reservation (local mode only)."""
    if seen.reservation is None:
        return []
    texts = [text for _code, text in _alerts_about(client, quickstart, [seen.reservation.sid]) if text]
    return [f"The local TaskRouter recorded: {text}" for text in texts[:2]]
