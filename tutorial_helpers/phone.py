"""The caller's phone, for notebook 04: a keypad widget, and the same phone as a Python object.

    phone = Phone(client, settings)            # display(phone) shows the keypad and what the caller hears
    caller = phone.call("+12025550100")        # through the official SDK: client.calls.create(...)
    caller.press("1")                           # keys on the call (the local server's keypad endpoint)
    caller.hang_up()                            # client.calls(sid).update(status="completed")

The widget's buttons call exactly these methods, and so do the tests and
headless runs (`autopilot`): there is no other way in. In twilio mode there is
no keypad: you call your number from a real phone, and the phone panel finds
the Task your call made (the newest Task with a `call_sid`, made after the
panel) so that the cells after it work the same.
"""

from __future__ import annotations

import html
import json
import threading
import time
from typing import Any

import ipywidgets as widgets
import requests
from twilio.rest import Client

from tutorial_helpers.errors import TutorialError
from tutorial_helpers.settings import Settings
from tutorial_helpers.widgets import STYLE

CALLER_NUMBER = "+15551230000"  # fictional (555-01xx and 555-12xx are not real subscribers)
# The caller's own side of the call: it stays on the line while the number's TwiML runs.
HOLD_THE_LINE = "<Response><Pause length='3600'/></Response>"
POLL_SECONDS = 0.4


class PhoneError(TutorialError, RuntimeError):
    """The phone cannot do that; the message says why and what to do."""


def show_errors_on(screen: widgets.HTML, action: Any) -> None:
    """Run a button's action; its error shows on the phone's screen, not nowhere."""
    try:
        action()
    except Exception as exc:
        screen.value = f"<span class='tr-error' style='color:#b00'>{html.escape(str(exc))}</span>"


class Caller:
    """One call from the phone: press keys, hang up, read what the caller heard."""

    def __init__(self, phone: Phone, call_sid: str, to: str, from_: str = CALLER_NUMBER):
        self.phone = phone
        self.sid = call_sid
        self.to = to
        self.from_ = from_

    def _control(self, method: str, path: str, **data: str) -> dict:
        answer = requests.request(method, f"{self.phone.base_url}/_local/Calls/{self.answering_sid()}/{path}",
                                  data=data or None, auth=self.phone.auth, timeout=10)
        if not answer.ok:
            raise PhoneError(answer.json().get("message", answer.text))
        return answer.json()

    def answering_sid(self) -> str:
        """The call at the other end: the inbound call running the number's Voice URL (or this one)."""
        peer = requests.get(f"{self.phone.base_url}/_local/Calls/{self.sid}/Transcript", auth=self.phone.auth,
                            timeout=10).json().get("peer_call_sid")
        return peer or self.sid

    def press(self, digits: str) -> Caller:
        self._control("POST", "Digits", Digits=digits)
        return self

    def hang_up(self) -> None:
        self.phone.client.calls(self.sid).update(status="completed")

    def state(self) -> dict[str, Any]:
        """Status, the transcript of what the caller heard, and the Task its <Enqueue> made (if any)."""
        return self._control("GET", "Transcript")

    def task_sid(self) -> str | None:
        return self.state().get("task_sid")


class RealCaller:
    """Twilio mode: the learner's real call, known by the Task it made."""

    def __init__(self, phone: Phone, task: Any):
        attributes = json.loads(task.attributes or "{}")
        self.phone = phone
        self.sid = attributes["call_sid"]
        self.to = attributes.get("to", "")
        self.from_ = attributes.get("from", "")
        self._task_sid = task.sid

    def task_sid(self) -> str:
        return self._task_sid

    def state(self) -> dict[str, Any]:
        call = self.phone.client.calls(self.sid).fetch()
        return {"status": call.status, "transcript": [], "task_sid": self._task_sid}

    def press(self, digits: str) -> RealCaller:
        raise PhoneError("Press the keys on your real phone.")

    def hang_up(self) -> None:
        self.phone.client.calls(self.sid).update(status="completed")


class Phone(widgets.VBox):
    """A keypad, call and hang-up buttons, and a live transcript of what the caller hears."""

    def __init__(self, client: Client, settings: Settings, number: str | None = None, *,
                 workspace_sid: str | None = None, poll: bool = True):
        self.real = settings.mode != "local"
        self.workspace_sid = workspace_sid
        self._made = time.time()
        self.client = client
        self.base_url = settings.taskrouter_url
        self.auth = (settings.account_sid, settings.auth_token)
        self.caller: Caller | None = None
        self.number = widgets.Text(value=number or "", description="Call", placeholder="+1...")
        self.number.layout.width = "20em"
        self.dial = widgets.Button(description="Call", button_style="success", icon="phone")
        self.hang = widgets.Button(description="Hang up", button_style="danger", disabled=True)
        keys = [widgets.Button(description=k, layout=widgets.Layout(width="3.2em")) for k in "123456789*0#"]
        for key in keys:
            key.on_click(lambda button: self._press(button.description))
        pad = widgets.GridBox(keys, layout=widgets.Layout(grid_template_columns="repeat(3, 3.4em)"))
        self.screen = widgets.HTML("<i>Not in a call. Type a number (or keep the one shown) and press Call.</i>")
        self.screen.add_class("tr-phone-screen")
        self.dial.on_click(lambda _b: self._call())
        self.hang.on_click(lambda _b: self._hang_up())
        if self.real:
            self.screen.value = (f"<b>Call {html.escape(number or 'your Twilio number')} from a real phone</b> and "
                                 "press 1 at the menu; this panel finds the Task your call makes.")
            children = [self.screen, widgets.HTML(STYLE)]
        else:
            children = [widgets.HBox([self.number, self.dial, self.hang]), pad, self.screen, widgets.HTML(STYLE)]
        super().__init__(children)
        self.add_class("tr-phone")
        self.add_class("tr-live")
        self._stop = threading.Event()
        if poll:
            threading.Thread(target=self._follow, name="phone", daemon=True).start()

    # ------------------------------------------------------------------ what the buttons (and scripts) do

    def call(self, to: str | None = None) -> Caller:
        if self.real:
            raise PhoneError("In twilio mode, call your Twilio number from a real phone.")
        to = (to or self.number.value).strip()
        if not to:
            raise PhoneError("Which number? Put it in the box (or pass it: phone.call('+1...')).")
        if self.caller is not None and self.caller.state()["status"] in ("queued", "ringing", "in-progress"):
            raise PhoneError("The phone is already in a call: hang up first.")
        call = self.client.calls.create(to=to, from_=CALLER_NUMBER, twiml=HOLD_THE_LINE)
        self.number.value = to
        self.caller = Caller(self, call.sid, to)
        self.refresh()
        return self.caller

    def press(self, digits: str) -> None:
        if self.caller is None:
            raise PhoneError("Not in a call: press Call first.")
        self.caller.press(digits)
        self.refresh()

    def hang_up(self) -> None:
        if self.caller is not None:
            self.caller.hang_up()
            self.refresh()

    def autopilot(self, to: str, digits: str) -> Caller:
        """For headless runs: dial and press, exactly as the learner's clicks would (waits for the menu).

        A phone already in a call is left alone, so a re-run cell does not dial again.
        """
        if self.caller is not None and self.caller.state()["status"] in ("queued", "ringing", "in-progress"):
            return self.caller
        caller = self.call(to)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(e["what"] == "gather" for e in caller.state()["transcript"]):
                break
            time.sleep(0.05)
        caller.press(digits)
        return caller

    # ------------------------------------------------------------------ the widget

    def _call(self) -> None:
        self._guarded(self.call)

    def _press(self, key: str) -> None:
        self._guarded(lambda: self.press(key))

    def _hang_up(self) -> None:
        self._guarded(self.hang_up)

    def _guarded(self, action: Any) -> None:
        show_errors_on(self.screen, action)

    def find_caller(self) -> Any:
        """Twilio mode: the learner's call, once it made a Task (newest first); local mode: the call made here."""
        if self.real and self.caller is None and self.workspace_sid:
            ws = self.client.taskrouter.v1.workspaces(self.workspace_sid)
            for task in ws.tasks.list(limit=20):
                made = task.date_created.timestamp() if task.date_created else 0
                if made >= self._made - 1 and "call_sid" in json.loads(task.attributes or "{}"):
                    self.caller = RealCaller(self, task)
                    break
        return self.caller

    def refresh(self) -> None:
        if self.find_caller() is None:
            return
        state = self.caller.state()
        live = state["status"] in ("queued", "ringing", "in-progress")
        self.dial.disabled, self.hang.disabled = live, not live
        lines = [f"<b>{html.escape(self.caller.to)}</b>: <span class='tr-call-status'>{state['status']}</span>"]
        for entry in state["transcript"]:
            lines.append(_describe(entry))
        self.screen.value = "<br>".join(lines)

    def _follow(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            if self.caller is None:
                continue
            try:
                self.refresh()
            except Exception:  # the server went away or the kernel is shutting down: try again later
                continue

    def close(self) -> None:
        stop = getattr(self, "_stop", None)  # not there when __init__ refused (twilio mode)
        if stop is not None:
            stop.set()
        super().close()


def _describe(entry: dict[str, Any]) -> str:
    what = entry["what"]
    if what == "say":
        return f"says <i>({html.escape(entry.get('language', ''))})</i>: {html.escape(entry['text'])}"
    if what == "play":
        return f"plays {html.escape(entry.get('url') or '')}"
    if what == "pause":
        return f"{entry['seconds']} s of silence"
    if what == "gather":
        return "waiting for keys"
    if what == "gather-timeout":
        return "no keys pressed: on to the next verb"
    if what == "digits":
        return f"you pressed <b>{html.escape(entry['digits'])}</b>"
    if what == "enqueue":
        task = f" as Task <code>{html.escape(entry['task_sid'])}</code>" if entry.get("task_sid") else ""
        return (f"queued{task} in <b>{html.escape(entry.get('queue') or '')}</b>, "
                f"position {entry.get('position', 1)}")
    if what == "hold-music":
        return "hold music, waiting for an agent"
    if what == "bridged":
        return f"<b>connected</b> to {html.escape(entry.get('with_', ''))}"
    if what == "unbridged":
        return f"disconnected: {html.escape(entry.get('reason', ''))}"
    if what == "redirected":
        return "taken out of the queue by a redirect"
    if what == "alone":
        return "alone in the conference: the other side left"
    if what == "error":
        return f"<span style='color:#b00'>error {entry['code']}: {html.escape(entry['text'])}</span>"
    if what == "hangup":
        return f"call ended ({html.escape(entry.get('reason', ''))})"
    return html.escape(what)
