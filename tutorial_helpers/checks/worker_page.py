"""The check of notebook 06: Alice accepts a reservation on her own worker page."""

from __future__ import annotations

from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from tutorial_helpers.callback_server import CallbackServer
from tutorial_helpers.checks.common import STEP_06, CheckResult, _api_failure, _callback_for, _wait, again_from
from tutorial_helpers.statuses import ACCEPTED_RESERVATION, OPEN_TASK
from tutorial_helpers.workspace import QuickstartWorkspace


def check_step_06(client: Client, quickstart: QuickstartWorkspace, task_sid: str, server: CallbackServer, *,
                  timeout: float = 5.0) -> CheckResult:
    """Step 06: the page loaded with a token, the callback answered {} and Alice accepted on the page."""
    title = "accept a reservation on the worker page"
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    pages = [e for e in server.log.entries() if e.path == "/agents"]

    def evaluate() -> tuple[CheckResult, bool]:
        task = ws.tasks(task_sid).fetch()
        alice = ws.workers(quickstart.workers["Alice"]).fetch()
        reservations = ws.tasks(task_sid).reservations.list()
        seen = [f"Task {task.sid}: {task.assignment_status}", f"Alice: {alice.activity_name}"]
        seen += [f"Reservation {r.sid} for {r.worker_name}: {r.reservation_status}" for r in reservations]
        seen.append(f"the page was loaded {len(pages)} time(s); last answer HTTP {pages[-1].status}" if pages
                    else "the page was never loaded from your app")
        if not pages:
            return CheckResult(False, title, "Alice's page has not been opened.", seen,
                               [f"Open it with the link ({again_from(STEP_06, 'page')})."]), True
        if pages[-1].status != 200:
            return CheckResult(False, title, f"your /agents route answered HTTP {pages[-1].status}.", seen,
                               [f"Read the route's error in the cell output, then {again_from(STEP_06, 'app')}."]), True
        callback = _callback_for(server, task_sid)
        if callback is not None and callback.body.strip() not in ("{}", ""):
            return CheckResult(False, title, f"the assignment callback answered {callback.body.strip()!r}, so "
                               "the reservation did not wait for the page.", seen,
                               [f"/assignment_callback must answer {{}} here: {again_from(STEP_06, 'app')}."]), True
        if task.assignment_status in OPEN_TASK:
            hint = ("Click Idle on the page." if alice.activity_name == "Offline" else
                    "Click Accept on the reservation the page shows.")
            return CheckResult(False, title, f"the task is still {task.assignment_status}.", seen, [hint]), False
        accepted = [r for r in reservations if r.reservation_status in ACCEPTED_RESERVATION]
        if task.assignment_status == "canceled" or not accepted or accepted[0].worker_name != "Alice":
            return CheckResult(False, title, f"the task is {task.assignment_status}, not accepted by Alice.", seen,
                               [f"Create a new task: {again_from(STEP_06, 'task')}."]), True
        return CheckResult(True, title, f"Alice accepted Task {task.sid} on her page: it is {task.assignment_status} "
                           f"and she is {alice.activity_name}.", seen), True

    try:
        return _wait(evaluate, timeout)
    except TwilioException as exc:
        return _api_failure(title, exc)
