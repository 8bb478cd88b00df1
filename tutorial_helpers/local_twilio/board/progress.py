"""The board's figures: where each attendee (a created account) is in the walkthrough, and their last problem.

Everything is read from the account's own rows in memory, under the state's lock, on every poll: the board asks
every second, for a room of 30, so nothing here replays events or reads SQLite. What a step needs is kept on
the rows themselves:

| column | done when the account has... | read from |
| --- | --- | --- |
| workspace_built | the quickstart's workspace, as workspace.py builds it | its activities, workers, ... |
| step_02 | a Spanish task (`selected_language` "es") accepted through REST | `_accepted_via` "rest" |
| step_03 | a Spanish task accepted by the callback's `accept` instruction | `_accepted_via` "callback" |
| step_04 | a task made by `<Enqueue workflowSid>` from a phone call | the call row's `_task_sid` |
| step_05 | a reservation accepted as `dequeue`'s call to the worker was answered | "phone:dequeue" |
| step_06 | a reservation accepted from the worker page (worker SDK, EventBridge) | "worker_page" |

The last problem is the newest of the account's alerts (what /_local/Alerts lists: callback problems, with
Twilio's codes) and of its reservations that timed out (a reservation row in status `timeout` is exactly what a
`reservation.timeout` event records, and it is in memory; the event is only in SQLite).

A rejected signature: the local side signs every callback correctly, so it can only know that the attendee's app
refused it. The tutorial's callback server answers 403 with a body naming X-Twilio-Signature; such an answer
(recorded as 11200 with its status and body) is reported as "signature rejected". Any other 403 stays "callback
answered HTTP 403".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ...workspace import (
    ACTIVITIES,
    ASSIGNMENT_ACTIVITY,
    QUEUES,
    RESERVATION_ACTIVITY,
    WORKERS,
    WORKFLOW_NAME,
    WORKSPACE_NAME,
)
from ..accounts import Account, Accounts
from ..core.clock import iso, parse_iso
from ..core.state import Row, State
from ..taskrouter.models.reservations import VIA_CALLBACK, VIA_PHONE, VIA_REST, VIA_WORKER_PAGE

# The board's columns, in the walkthrough's order: (key, heading, notebook).
STEPS: tuple[tuple[str, str, str], ...] = (
    ("workspace_built", "Workspace built", "01"),
    ("step_02", "Accepted via REST", "02"),
    ("step_03", "Accepted by callback", "03"),
    ("step_04", "Task from a call", "04"),
    ("step_05", "Call dequeued", "05"),
    ("step_06", "Worker page", "06"),
)
STEP_KEYS = tuple(key for key, _heading, _notebook in STEPS)
NOT_STARTED = "not_started"

# How an accepted reservation counts, by its `_accepted_via` (reservations.py): the step, and whether the task
# must be Spanish (steps 02 and 03 say so; the later notebooks' tasks are Spanish too, but any task shows the
# mechanism worked).
_ACCEPTED: dict[str, tuple[str, bool]] = {
    VIA_REST: ("step_02", True),
    VIA_CALLBACK: ("step_03", True),
    f"{VIA_PHONE}:dequeue": ("step_05", False),
    VIA_WORKER_PAGE: ("step_06", False),
}

# Twilio's codes for a callback's answer (taskrouter/callbacks.py), in words a facilitator can say out loud.
_WORDS = {
    11200: "callback unreachable",
    40000: "wrong content type (not application/json)",
    40001: "answer not JSON",
    40005: "no instruction in the answer",
    55555: "instruction not carried out",
}


@dataclass(frozen=True)
class Problem:
    words: str
    code: int | None  # Twilio's error code; None for a reservation timeout, which has none
    detail: str  # what was recorded, for whoever wants more than the words
    at: str  # ISO date
    seconds_ago: int


def board(accounts: Accounts) -> dict[str, Any]:
    """Board.json: the steps, the counts, and one row per created account, oldest first."""
    backend = accounts.taskrouter
    state = backend.state
    now = backend.now()
    with state.lock:  # a consistent view, and no dict changing size under the loops
        rows = [_attendee(state, account, now) for account in accounts.created()]
    done = {key: sum(row["progress"][key] for row in rows) for key in STEP_KEYS}
    at = {key: 0 for key in (NOT_STARTED, *STEP_KEYS)}
    for row in rows:
        at[row["at"]] += 1
    return {
        "generated_at": iso(now),
        "steps": [{"key": key, "heading": heading, "notebook": notebook} for key, heading, notebook in STEPS],
        "counts": {"attendees": len(rows), "done": done, "at": at},
        "attendees": rows,
    }


def _attendee(state: State, account: Account, now: float) -> dict[str, Any]:
    workspaces = list(state.of(account.sid, "workspace").values())
    progress = dict.fromkeys(STEP_KEYS, False)
    progress["workspace_built"] = any(quickstart_built(state, ws) for ws in workspaces)
    progress["step_04"] = any(call.get("_task_sid") for call in state.of(account.sid, "call").values())
    newest_alert: Row | None = None
    newest_timeout: Row | None = None
    for ws in workspaces:
        for res in state.of(ws["sid"], "reservation").values():
            wanted = _ACCEPTED.get(res.get("_accepted_via") or "")
            if wanted is not None and not progress[wanted[0]]:
                progress[wanted[0]] = not wanted[1] or _is_spanish(state.rows.get(res["task_sid"]))
            elif res["reservation_status"] == "timeout" and (
                    newest_timeout is None or res["date_updated"] >= newest_timeout["date_updated"]):
                newest_timeout = res
        alerts = state.of(ws["sid"], "alert")
        if alerts:
            last = next(reversed(alerts.values()))  # kept in creation order
            if newest_alert is None or last["_seq"] > newest_alert["_seq"]:
                newest_alert = last
    problem = _last_problem(newest_alert, newest_timeout, now)
    reached = [key for key in STEP_KEYS if progress[key]]
    return {
        "name": account.friendly_name,
        "sid": account.sid,
        "progress": progress,
        "at": reached[-1] if reached else NOT_STARTED,  # the furthest column done, in the walkthrough's order
        "last_problem": asdict(problem) if problem is not None else None,
    }


def _is_spanish(task: Row | None) -> bool:
    if task is None or '"es"' not in (task.get("attributes") or ""):  # the cheap test first
        return False
    try:
        attributes = json.loads(task["attributes"])
    except ValueError:
        return False
    return isinstance(attributes, dict) and attributes.get("selected_language") == "es"


def _last_problem(alert: Row | None, timed_out: Row | None, now: float) -> Problem | None:
    """The newer of the last alert and the last timed-out reservation (a tie goes to the alert: it says why)."""
    alert_ts = parse_iso(alert["date_created"]) if alert is not None else None
    timeout_ts = parse_iso(timed_out["date_updated"]) if timed_out is not None else None
    if timed_out is not None and timeout_ts is not None and (alert_ts is None or timeout_ts > alert_ts):
        return Problem("reservation timed out", None,
                       f"Reservation {timed_out['sid']} for worker {timed_out.get('worker_name')} was not "
                       "accepted in time", timed_out["date_updated"], max(0, int(now - timeout_ts)))
    if alert is None or alert_ts is None:
        return None
    code = int(alert["error_code"]) if str(alert["error_code"]).isdigit() else None
    return Problem(_alert_words(alert, code), code, alert["alert_text"], alert["date_created"],
                   max(0, int(now - alert_ts)))


def _alert_words(alert: Row, code: int | None) -> str:
    text = alert.get("alert_text") or ""
    if code == 11200:
        status = alert.get("response_status")
        if status == 403 and "signature" in (alert.get("response_body") or "").lower():
            return "signature rejected (the callback answered 403)"
        if status:
            return f"callback answered HTTP {status}"
        if "did not answer within" in text:
            return "callback too slow (no answer within 5 s)"
        return "event callback unreachable" if text.startswith("event callback") else "callback unreachable"
    return _WORDS.get(code or 0) or text or f"alert {alert.get('error_code')}"


def quickstart_built(state: State, ws: Row) -> bool:
    """The workspace is the quickstart's, complete: the same rules as checks.check_workspace, from the rows."""
    if ws["friendly_name"] != WORKSPACE_NAME or ws.get("multi_task_enabled"):
        return False
    activities = _by_name(state, ws, "activity")
    for name, available in ACTIVITIES.items():
        if name not in activities or bool(activities[name]["available"]) != available:
            return False
    workers = _by_name(state, ws, "worker")
    for name, languages in WORKERS.items():
        if name not in workers or _json(workers[name].get("attributes")).get("languages") != languages:
            return False
    queues = _by_name(state, ws, "task_queue")
    queue_sids = {}
    for short, (name, target) in QUEUES.items():
        queue = queues.get(name)
        if queue is None or (queue.get("target_workers") or "").replace(" ", "") != target.replace(" ", ""):
            return False
        if queue.get("reservation_activity_sid") != activities[RESERVATION_ACTIVITY]["sid"] or \
                queue.get("assignment_activity_sid") != activities[ASSIGNMENT_ACTIVITY]["sid"]:
            return False
        queue_sids[short] = queue["sid"]
    workflow = _by_name(state, ws, "workflow").get(WORKFLOW_NAME)
    if workflow is None:
        return False
    try:
        filters = _json(workflow.get("configuration"))["task_routing"].get("filters", [])
        routes = {(f.get("expression") or "").replace(" ", "").replace("'", '"'): f["targets"][0]["queue"]
                  for f in filters}
    except (KeyError, IndexError, TypeError, AttributeError):
        return False
    return all(routes.get(f'selected_language=="{language}"') == queue_sids[short]
               for short, language in (("Spanish", "es"), ("English", "en")))


def _by_name(state: State, ws: Row, kind: str) -> dict[str, Row]:
    rows: dict[str, Row] = {}
    for row in state.of(ws["sid"], kind).values():
        rows.setdefault(row["friendly_name"], row)  # the first of a name, as find_by_name finds it
    return rows


def _json(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
