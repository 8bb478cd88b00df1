"""Where the learner must act, Run All stops in a way that reads as a pause, not as a failure.

    pause_for_click(controls, "Alice", "Idle")

A click on a widget button is handled by the kernel, which cannot handle it
while a cell is still running: so a notebook cannot wait inside a cell for the
click. It stops Run All instead, by raising `YourTurn`, and says so in words.
The box shows Alice's buttons again right there, because JupyterLab scrolls to
the cell where Run All stopped.
"""

from __future__ import annotations

import html
import time
from typing import Any

from IPython.display import HTML, display

from tutorial_helpers.errors import TutorialError
from tutorial_helpers.statuses import ACCEPTED_RESERVATION, TAKEN_TASK
from tutorial_helpers.widgets import WorkerActivityControls

CONTINUE = "Run > Run Selected Cell and All Below"


class YourTurn(TutorialError):
    """Run All stops here on purpose: the next move is the learner's (the box above the line says which)."""

    headline = "Paused on purpose, not an error"


def pause_for_click(controls: WorkerActivityControls, worker: str = "Alice", activity: str = "Idle",
                    *, waiting_in: str = "Offline") -> None:
    """Carry on if `worker` has left `waiting_in` (the learner clicked); otherwise stop Run All, kindly."""
    current = controls.current_activity(worker)
    if current != waiting_in:
        print(f"{worker} is {current}: you clicked. On to the next cell.")
        return
    display(HTML(
        "<div class='tr-pause' style='border-left:4px solid #1976d2; background:#e3f2fd; padding:8px 12px; "
        "margin:4px 0'>"
        f"<b>Your turn.</b> Click <b>{html.escape(activity)}</b> on {html.escape(worker)}'s row (here, or in the "
        f"widget above). Then click this cell and choose <b>{CONTINUE}</b> to run the rest of the notebook."
        "</div>"
    ))
    display(controls)  # the same buttons, a second view: JupyterLab scrolled here
    raise YourTurn(f"click {activity} for {worker}, then {CONTINUE}.")


def pause_for_call(phone: Any, digits: str = "1", wait: float = 5.0) -> None:
    """Carry on once the phone's call made a Task (the learner called and pressed `digits`); else stop Run All.

    A call with its digits pressed is given `wait` seconds: the app's /enqueue_call answers in the
    background.
    """
    caller = phone.find_caller()
    deadline = time.monotonic() + (wait if caller is not None else 0)
    while caller is not None:
        task_sid = caller.task_sid()
        if task_sid:
            print(f"Your call is queued as Task {task_sid}. On to the next cell.")
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    display(HTML(
        "<div class='tr-pause' style='border-left:4px solid #1976d2; background:#e3f2fd; padding:8px 12px; "
        "margin:4px 0'>"
        f"<b>Your turn.</b> Press <b>Call</b> on the phone (here, or above), wait for the menu, and press "
        f"<b>{html.escape(digits)}</b>. Then click this cell and choose <b>{CONTINUE}</b>."
        "</div>"
    ))
    display(phone)
    raise YourTurn(f"call the number, press {digits} on the phone, then {CONTINUE}.")


def pause_for_answer(softphone: Any, wait: float = 5.0) -> None:
    """Carry on once the worker's phone is (or was) in a call bridged to the caller; else stop Run All.

    The phone is given `wait` seconds to ring and be answered: the click on Idle in the cell above reaches
    the phone only through TaskRouter's reservation, the app's dequeue answer and the call, all after that
    cell has returned. After Run All, the learner (or a headless run) answers it.
    """
    if softphone.real:
        print(f"Answer your real phone when it rings ({softphone.address}); the cells below then follow the Task.")
        return
    deadline = time.monotonic() + wait
    while True:
        call = softphone.current()
        if call is not None and (call["bridged"]
                                 or (call.get("reservation") or {}).get("status") in ACCEPTED_RESERVATION):
            print(f"{softphone.name} answered: her call {call['call_sid']} is bridged to the caller. "
                  "On to the next cell.")
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    ringing = call is not None and call["status"] == "ringing"
    what = (f"{html.escape(softphone.name)}'s phone is ringing: press <b>Answer</b>" if ringing else
            f"When {html.escape(softphone.name)}'s phone rings, press <b>Answer</b>")
    display(HTML(
        "<div class='tr-pause' style='border-left:4px solid #1976d2; background:#e3f2fd; padding:8px 12px; "
        "margin:4px 0'>"
        f"<b>Your turn.</b> {what} (here, or above). Then click this cell and choose <b>{CONTINUE}</b>."
        "</div>"
    ))
    display(softphone)
    raise YourTurn(f"answer {softphone.name}'s phone, then {CONTINUE}.")


def pause_for_page(task: Any, wait: float = 10.0) -> None:
    """Carry on once the task is assigned (accepted on the worker page); else stop Run All, kindly.

    `task` is the SDK's task context (`workspace.tasks(sid)`); a headless run's page needs a few seconds.
    """
    deadline = time.monotonic() + wait
    while True:
        status = task.fetch().assignment_status
        if status in TAKEN_TASK:
            print(f"The task is {status}: Alice accepted it on her page. On to the next cell.")
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    display(HTML(
        "<div class='tr-pause' style='border-left:4px solid #1976d2; background:#e3f2fd; padding:8px 12px; "
        "margin:4px 0'>"
        f"<b>Your turn.</b> On Alice's page (above), click <b>Idle</b>; the task pops up under Reservations: click "
        f"<b>Accept</b>. Then click this cell and choose <b>{CONTINUE}</b>."
        "</div>"
    ))
    raise YourTurn(f"on Alice's page click Idle, then Accept, then {CONTINUE}.")
