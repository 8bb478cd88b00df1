"""What every check shares: the verdict, the headings a message sends the learner back to, and the wait."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from tutorial_helpers.callback_server import CallbackEntry, CallbackServer
from tutorial_helpers.client import mode_of
from tutorial_helpers.workspace import QuickstartWorkspace

POLL_SECONDS = 0.1
STEP_02 = "02_accept_through_rest.ipynb"
STEP_03 = "03_accept_with_instruction.ipynb"
STEP_04 = "04_tasks_from_phone_calls.ipynb"
STEP_05 = "05_dequeue_a_call.ipynb"
STEP_06 = "06_worker_page.ipynb"
STEP_07 = "07_wallboard.ipynb"
# The headings a message sends the learner back to, by notebook. tests/test_notebook_references.py checks that
# each is a heading of that notebook, so renaming a heading cannot leave a message pointing nowhere.
HEADINGS: dict[str, dict[str, str]] = {
    STEP_02: {
        "route": "1. The assignment callback answers `{}`",
        "offline": "2. Alice goes Offline",
        "task": "3. Create a Task",
    },
    STEP_04: {
        "app": "1. Your web app answers the call",
        "call": "4. Call, and press 1",
    },
    STEP_06: {
        "key": "1. An API key for Alice's token",
        "app": "2. Your app: the token route and the page",
        "page": "3. Alice's page",
        "task": "4. A task pops up on the page",
    },
    STEP_05: {
        "phone": "1. Give Alice a phone",
        "route": "2. Answer the assignment callback with `dequeue`",
        "call": "3. Call, and press 1",
        "idle": "4. Alice goes Idle, and her phone rings",
    },
    STEP_07: {
        "app": "1. Your app accepts every reservation",
        "tasks": "2. Three tasks wait",
        "idle": "5. Alice and Bob go Idle",
    },
    STEP_03: {
        "offline": "1. Alice in a non-available Activity",
        "task": "2. Create another Task",
        "route": "3. Answer the callback with an assignment instruction",
        "start over": "Start over",
    },
}


def again_from(notebook: str, part: str) -> str:
    """'run the cells again from "<heading>"', naming a heading that exists in `notebook`."""
    return f"run this notebook's cells again from the heading \"{HEADINGS[notebook][part]}\""


@dataclass
class CheckResult:
    """A verdict: `ok`, one sentence, what was seen, and what to look at when it failed."""

    ok: bool
    title: str
    message: str
    seen: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "Correct" if self.ok else "Not yet"
        lines = [f"{verdict} ({self.title}): {self.message}"]
        lines += [f"  - {line}" for line in self.seen]
        lines += [f"  What to look at: {hint}" for hint in self.hints]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        color, verdict = ("#2e7d32", "Correct") if self.ok else ("#c62828", "Not yet")
        seen = "".join(f"<li>{html.escape(line)}</li>" for line in self.seen)
        hints = "".join(f"<li>{html.escape(hint)}</li>" for hint in self.hints)
        return (
            f"<div class='tr-check tr-check-{'ok' if self.ok else 'failed'}' "
            f"style='border-left:4px solid {color}; padding:4px 10px'>"
            f"<b style='color:{color}'>{verdict}</b> <i>({html.escape(self.title)})</i>: "
            f"{html.escape(self.message)}"
            + (f"<ul>{seen}</ul>" if seen else "")
            + (f"<div><b>What to look at:</b><ul>{hints}</ul></div>" if hints else "")
            + "</div>"
        )


def _wait(observe: Callable[[], tuple[CheckResult, bool]], timeout: float) -> CheckResult:
    """Re-evaluate until the result is ok, the next move is the learner's, or time is up."""
    deadline = time.monotonic() + timeout
    while True:
        result, settled = observe()
        if result.ok or settled or time.monotonic() >= deadline:
            return result
        time.sleep(POLL_SECONDS)


def _callback_for(server: CallbackServer, task_sid: str) -> CallbackEntry | None:
    entries = [e for e in server.log.entries() if e.params.get("TaskSid") == task_sid]
    return entries[-1] if entries else None


def _alerts_about(client: Client, quickstart: QuickstartWorkspace, resource_sids: list[str]) -> list[tuple]:
    """(code, text) of the local TaskRouter's alerts about these resources, oldest first (local mode only)."""
    if mode_of(client) != "local" or not resource_sids:
        return []
    base = client.taskrouter.base_url
    try:
        answer = requests.get(f"{base}/_local/Alerts", params={"WorkspaceSid": quickstart.workspace_sid},
                              auth=(client.username, client.password), timeout=5)
        alerts = answer.json().get("alerts", []) if answer.ok else []
    except (requests.RequestException, ValueError):
        return []
    return [(a.get("error_code"), a.get("alert_text")) for a in alerts if a.get("resource_sid") in resource_sids]


def _api_failure(title: str, exc: TwilioException) -> CheckResult:
    return CheckResult(False, title, "TaskRouter could not be asked about the task.", [str(exc)],
                       ["Is the task SID from this notebook's task cell? Run the cells again from the top."])
