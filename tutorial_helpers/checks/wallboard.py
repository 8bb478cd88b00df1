"""The check of notebook 07: a worker took a task, and the statistics agree with the tasks themselves."""

from __future__ import annotations

import json

from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from tutorial_helpers.checks.common import STEP_07, CheckResult, _api_failure, _wait, again_from
from tutorial_helpers.statuses import OPEN_TASK, TAKEN_TASK
from tutorial_helpers.workspace import QuickstartWorkspace


def check_step_07(client: Client, quickstart: QuickstartWorkspace, task_sids: list[str], *, minutes: int = 60,
                  timeout: float = 5.0) -> CheckResult:
    """Step 07: a worker took one of the notebook's tasks, and the statistics agree with the tasks themselves.

    The wallboard shows what the statistics calls answer; this check asks TaskRouter a second way (the
    Tasks list) and says whether the two agree, so the learner can trust the board.
    """
    title = "a wallboard from the statistics"
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)

    def evaluate() -> tuple[CheckResult, bool]:
        tasks = {sid: ws.tasks(sid).fetch() for sid in task_sids}
        waiting = len(ws.tasks.list(assignment_status=list(OPEN_TASK)))
        realtime = ws.real_time_statistics().fetch()
        cumulative = ws.cumulative_statistics().fetch(minutes=minutes)
        by_status = realtime.tasks_by_status or {}
        board_waiting = sum(int(by_status.get(status) or 0) for status in OPEN_TASK)
        taken = [t for t in tasks.values() if t.assignment_status in TAKEN_TASK]
        seen = [f"Task {t.sid} ({json.loads(t.attributes or '{}').get('selected_language')}): {t.assignment_status}"
                for t in tasks.values()]
        seen += [f"the Tasks list: {waiting} waiting; the real-time statistics: {board_waiting} waiting "
                 f"(tasks_by_status {dict(by_status)})",
                 f"reservations accepted in the last {minutes} minutes: {cumulative.reservations_accepted}"]
        if not taken:
            alice = ws.workers(quickstart.workers["Alice"]).fetch()
            if alice.activity_name == "Offline":
                return CheckResult(False, title, "nobody has taken a task yet: Alice is Offline.", seen,
                                   [f"Click Idle on Alice's row ({again_from(STEP_07, 'idle')})."]), True
            return CheckResult(False, title, "no task of this notebook has been accepted yet.", seen,
                               ["Does your route answer {\"instruction\": \"accept\"}? If not, fix it and "
                                f"{again_from(STEP_07, 'app')}."]), False
        if board_waiting != waiting:
            return CheckResult(False, title, f"the statistics say {board_waiting} waiting, the Tasks list "
                               f"{waiting}.", seen, ["Run the check again: a task may have moved between the two "
                                                     "reads."]), False
        if not cumulative.reservations_accepted:
            return CheckResult(False, title, "a task was accepted, but the cumulative statistics count no "
                               "accepted reservation.", seen, ["Run the check again in a moment."]), False
        return CheckResult(True, title, f"{len(taken)} of your {len(tasks)} tasks were taken; the statistics "
                           f"agree with the tasks: {waiting} still waiting, and {cumulative.reservations_accepted} "
                           f"reservation(s) accepted in the last {minutes} minutes.", seen), True

    try:
        return _wait(evaluate, timeout)
    except TwilioException as exc:
        return _api_failure(title, exc)
