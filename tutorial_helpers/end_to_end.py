"""Twilio's part 3 end-to-end test, replayed in one go with the notebook's own phone, softphone and app.

    for line in replay_part3(client, quickstart, phone, alice_phone, number.phone_number):
        print(line)

Alice offline, a call, Spanish, the Task pending, Alice Idle, her phone rings,
she answers, the caller and Alice are bridged, the caller hangs up, Alice wraps
up. Each line says what happened and what TaskRouter shows at that moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from twilio.rest import Client

from tutorial_helpers.phone import PhoneError
from tutorial_helpers.workspace import QuickstartWorkspace, tidy_up_tasks

STEP_SECONDS = 15.0


def _until(what: str, probe: Callable[[], Any], timeout: float = STEP_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() >= deadline:
            raise PhoneError(f"The replay stopped: {what} did not happen within {timeout:g} seconds. The cells "
                             "above show where things stand; run the notebook again from the top.")
        time.sleep(0.1)
    return value


def replay_part3(client: Client, quickstart: QuickstartWorkspace, phone: Any, alice_phone: Any,
                 number: str) -> Iterator[str]:
    """Yield one line per step of the quickstart's end-to-end test, as it happens."""
    if phone.real:
        yield "In twilio mode this replay needs two real phones: you did each step by hand above."
        return
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    alice_sid = quickstart.workers["Alice"]

    def alice() -> str:
        return ws.workers(alice_sid).fetch().activity_name

    if phone.caller is not None and phone.caller.state()["status"] in ("queued", "ringing", "in-progress"):
        phone.hang_up()
    ws.workers(alice_sid).update(activity_sid=quickstart.activities["Offline"], reject_pending_reservations=True)
    tidy_up_tasks(client, quickstart)
    yield f"1. Alice is {alice()}."
    caller = phone.autopilot(number, "1")
    task_sid = _until("the Task from the call", caller.task_sid)
    task = ws.tasks(task_sid)
    yield (f"2. A customer calls {number} and presses 1: Task {task_sid} is {task.fetch().assignment_status} in "
           f"{task.fetch().task_queue_friendly_name!r}, the caller hears hold music.")
    ws.workers(alice_sid).update(activity_sid=quickstart.activities["Idle"])
    ringing = _until("Alice's phone ringing", lambda: alice_phone.current("ringing"))
    yield (f"3. Alice goes Idle: TaskRouter reserves her ({ringing['reservation']['status']}), your app answers "
           f"dequeue, and her phone {alice_phone.address} rings (call from {ringing['from']}).")
    alice_phone.answer()
    _until("the bridge", lambda: task.fetch().assignment_status == "assigned")
    yield f"4. Alice answers: she is bridged to the caller. Task {task.fetch().assignment_status}, Alice {alice()}."
    phone.hang_up()
    _until("the wrap-up", lambda: task.fetch().assignment_status == "wrapping")
    yield f"5. The caller hangs up: Task {task.fetch().assignment_status}, Alice {alice()}."
    task.update(assignment_status="completed", reason="end-to-end test done")
    yield f"6. Alice completes the Task: {task.fetch().assignment_status}."
