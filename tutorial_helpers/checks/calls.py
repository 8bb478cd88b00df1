"""The checks of notebooks 04 (a phone call makes a Task) and 05 (TaskRouter dequeues the call to Alice's
phone).
"""

from __future__ import annotations

import json
from typing import Any

from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from tutorial_helpers.checks.common import STEP_04, STEP_05, CheckResult, _alerts_about, _api_failure, _wait, again_from
from tutorial_helpers.statuses import OPEN_TASK
from tutorial_helpers.workspace import QUEUES, QuickstartWorkspace

# ---------------------------------------------------------------------------------- 04

SPANISH_QUEUE = QUEUES["Spanish"][0]


def check_step_04(client: Client, quickstart: QuickstartWorkspace, phone: Any, *, timeout: float = 5.0) -> CheckResult:
    """Step 04: a call, the digit 1, and a Spanish Task waiting with the caller's number in its attributes."""
    title = "a Task from a phone call"
    caller = phone.find_caller()
    if caller is None:
        return CheckResult(False, title, "there is no call yet.", [],
                           [f"Press Call on the phone ({again_from(STEP_04, 'call')})."])

    def evaluate() -> tuple[CheckResult, bool]:
        state = caller.state()
        heard = state["transcript"]
        seen = [f"Call {caller.sid} to {caller.to}: {state['status']}"]
        seen += [f"heard: {entry['what']}" + (f" {entry['text']!r}" if "text" in entry else "") for entry in heard]
        errors = [e for e in heard if e["what"] == "error"]
        if errors:
            error = errors[0]
            return CheckResult(False, title, f"your app's answer ended the call (error {error['code']}).", seen,
                               [f"{error['text']}. Fix the route, run its cell again, and call again."]), True
        task_sid = state.get("task_sid")
        if task_sid is None:
            if any(e["what"] == "gather-timeout" for e in heard):
                return CheckResult(False, title, "no digit was received: the menu waited 5 seconds.", seen,
                                   ["Press 1 while the menu plays (or right after), then check again."]), True
            if any(e["what"] == "digits" for e in heard):
                return CheckResult(False, title, "the digit arrived, but no Task was made.", seen,
                                   ["/enqueue_call must answer <Enqueue workflowSid=...><Task>...</Task></Enqueue>: "
                                    f"{again_from(STEP_04, 'app')}."]), False
            return CheckResult(False, title, "the call has not made a Task yet.", seen,
                               ["Wait for the menu, press 1, then run this check again."]), False
        task = client.taskrouter.v1.workspaces(quickstart.workspace_sid).tasks(task_sid).fetch()
        attributes = json.loads(task.attributes or "{}")
        seen.append(f"Task {task.sid}: {task.assignment_status} in {task.task_queue_friendly_name!r}, "
                    f"attributes {task.attributes}")
        if task.task_queue_friendly_name != SPANISH_QUEUE:
            where = task.task_queue_friendly_name
            return CheckResult(False, title, f"the Task is in {where!r}, not the Spanish queue.", seen,
                               ["Did /enqueue_call read the digit with request.values? Gather POSTs it as a "
                                "form field, so request.args is empty and every caller goes to English."]), True
        if attributes.get("from") != caller.from_:
            hint = "TaskRouter adds the call's fields to a Task it <Enqueue>s: did this call make it?"
            return CheckResult(False, title, "the Task does not carry the caller's number.", seen, [hint]), True
        return CheckResult(True, title, f"the call made Task {task.sid}, {task.assignment_status} in the Spanish "
                           f"queue, with the caller's number ({attributes['from']}) in its attributes.", seen), True

    return _wait(evaluate, timeout)


# ---------------------------------------------------------------------------------- 05

# What each refusal of a dequeue means for this notebook's code.
DEQUEUE_HINTS = {
    "40130": "post_work_activity_sid must be the SID of an Activity of this workspace (WrapUp's).",
    "40131": "Alice needs a contact_uri attribute (her phone), or the instruction a 'to'.",
    "40132": "'from' must be a phone number of your account: the number the caller dialed is one.",
    "40133": "the Task must come from a call (<Enqueue workflowSid>) whose caller is still waiting.",
    "40134": "status_callback_events must list initiated, ringing, answered or completed.",
}


def check_step_05(client: Client, quickstart: QuickstartWorkspace, phone: Any, alice_phone: Any, *,
                  post_work_activity: str = "WrapUp", timeout: float = 5.0) -> CheckResult:
    """Step 05: the call was dequeued to Alice's phone, she answered, the call ended, she is wrapping up."""
    title = "dequeue a call to a worker"
    caller = phone.find_caller()
    task_sid = caller.task_sid() if caller is not None else None
    if task_sid is None:
        return CheckResult(False, title, "there is no Task from a call yet.", [],
                           [f"Call and press 1 on the phone ({again_from(STEP_05, 'call')})."])
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)

    def evaluate() -> tuple[CheckResult, bool]:
        task = ws.tasks(task_sid).fetch()
        reservations = sorted(ws.tasks(task_sid).reservations.list(), key=lambda r: r.date_created)
        alice = ws.workers(quickstart.workers["Alice"]).fetch()
        contact_uri = json.loads(alice.attributes or "{}").get("contact_uri")
        seen = [f"Task {task.sid}: {task.assignment_status}", f"Alice: {alice.activity_name}, "
                f"contact_uri {contact_uri!r}"]
        seen += [f"Reservation {r.sid}: {r.reservation_status}" for r in reservations]
        if not contact_uri:
            return CheckResult(False, title, "Alice has no contact_uri: TaskRouter does not know which phone "
                               "to ring.", seen, [f"{again_from(STEP_05, 'phone')}."]), True
        refused = _alerts_about(client, quickstart, [r.sid for r in reservations])
        if refused and task.assignment_status in OPEN_TASK:
            code, text = refused[-1]
            return CheckResult(False, title, f"TaskRouter refused your instruction (error {code}).", [*seen, text],
                               [DEQUEUE_HINTS.get(code, "Read the error above."),
                                f"Fix the route, then {again_from(STEP_05, 'route')}."]), True
        if task.assignment_status == "canceled":
            return CheckResult(False, title, "the caller hung up before Alice answered, so the Task was canceled.",
                               seen, [f"Call again: {again_from(STEP_05, 'call')}."]), True
        if task.assignment_status == "pending":
            if alice.activity_name == "Offline":
                return CheckResult(False, title, "Alice is Offline, so nobody is reserved for the Task.", seen,
                                   [f"Click Idle on Alice's row ({again_from(STEP_05, 'idle')})."]), True
            hint = "Did Alice decline, or not answer? The caller still waits: set Alice Idle again."
            return CheckResult(False, title, "the Task is waiting for a worker.", seen, [hint]), False
        if task.assignment_status == "reserved":
            ringing = alice_phone.current("ringing") if not alice_phone.real else None
            if ringing is not None:
                return CheckResult(False, title, "Alice's phone is ringing: answer it.", seen, []), True
            return CheckResult(False, title, "Alice is reserved, but her phone is not ringing yet.", seen,
                               ["Does /assignment_callback answer {\"instruction\": \"dequeue\", ...}? The "
                                f"callback log shows its answer ({again_from(STEP_05, 'route')})."]), False
        if task.assignment_status == "assigned":
            return CheckResult(False, title, "Alice answered and is talking to the caller: now hang up.", seen,
                               ["Press Hang up on either phone (or run the hang-up cell)."]), False
        if alice.activity_name != post_work_activity:
            return CheckResult(False, title, f"the call ended, but Alice is {alice.activity_name}, not "
                               f"{post_work_activity}.", seen,
                               ["The dequeue instruction's post_work_activity_sid says where Alice goes after "
                                f"the call: {again_from(STEP_05, 'route')}."]), True
        return CheckResult(True, title, f"TaskRouter rang Alice at {contact_uri}, bridged her to the caller, and "
                           f"when the call ended moved her to {post_work_activity}; the Task is "
                           f"{task.assignment_status}.", seen), True

    try:
        return _wait(evaluate, timeout)
    except TwilioException as exc:
        return _api_failure(title, exc)
