"""A worker's phone, for notebook 05: it rings when TaskRouter's `dequeue` calls the worker's contact_uri.

    alice_phone = Softphone(client, settings, name="Alice")   # local: a softphone at +15551230001
    display(alice_phone)          # rings, shows who calls and for which Task; Answer, Decline, Hang up
    alice_phone.answer()          # what the Answer button does (the tests and headless runs use it)
    alice_phone.hang_up()
    alice_phone.autopilot()       # headless: answer the next call that rings, as the learner would

Locally the phone is registered with the local Twilio server
(`/_local/Softphones`), which rings it: a call to an address with no softphone
rings out unanswered, as a real phone nobody picks up. In twilio mode the
address is the learner's real phone (`ALICE_PHONE_NUMBER`, in E.164, in .env
or the environment, as the settings read it) and this panel only says what is
happening: you answer on the phone itself.
"""

from __future__ import annotations

import html
import json
import threading
import time
from typing import Any
from urllib.parse import quote

import ipywidgets as widgets
import requests
from twilio.rest import Client

from tutorial_helpers.phone import PhoneError, show_errors_on
from tutorial_helpers.settings import Settings, read_setting
from tutorial_helpers.widgets import STYLE

LOCAL_ADDRESS = "+15551230001"  # Alice's fictional mobile (555-12xx is not a real subscriber)
REAL_PHONE_VARIABLE = "ALICE_PHONE_NUMBER"
POLL_SECONDS = 0.4
LIVE = ("queued", "ringing", "in-progress")


class Softphone(widgets.VBox):
    """A worker's phone: who is calling, for which Task, and Answer / Decline / Hang up."""

    def __init__(self, client: Client, settings: Settings, address: str | None = None, *, name: str = "Alice",
                 poll: bool = True):
        self.real = settings.mode != "local"
        self.client = client
        self.name = name
        self.base_url = settings.taskrouter_url
        self.auth = (settings.account_sid, settings.auth_token)
        self.address = address or self._default_address()
        self.state: dict[str, Any] = {"calls": []}
        self._answer_next = threading.Event()
        self.title = widgets.HTML(f"<b>{html.escape(name)}'s phone</b> <code>{html.escape(self.address)}</code>")
        self.answer_button = widgets.Button(description="Answer", button_style="success", icon="phone",
                                            disabled=True)
        self.decline_button = widgets.Button(description="Decline", button_style="warning", disabled=True)
        self.hang_button = widgets.Button(description="Hang up", button_style="danger", disabled=True)
        self.answer_button.on_click(lambda _b: self._guarded(self.answer))
        self.decline_button.on_click(lambda _b: self._guarded(self.decline))
        self.hang_button.on_click(lambda _b: self._guarded(self.hang_up))
        self.screen = widgets.HTML("")
        self.screen.add_class("tr-softphone-screen")
        if self.real:
            self.screen.value = (f"TaskRouter calls <b>{html.escape(self.address)}</b> (your phone): answer it "
                                 "there when it rings.")
            children = [self.title, self.screen, widgets.HTML(STYLE)]
        else:
            self._register()
            children = [self.title, widgets.HBox([self.answer_button, self.decline_button, self.hang_button]),
                        self.screen, widgets.HTML(STYLE)]
        super().__init__(children)
        self.add_class("tr-softphone")
        self.add_class("tr-live")
        self.layout.border = "1px solid #ccc"
        self.layout.padding = "6px"
        self._stop = threading.Event()
        if not self.real:
            self.refresh()
            if poll:
                threading.Thread(target=self._follow, name="softphone", daemon=True).start()

    def _default_address(self) -> str:
        if not self.real:
            return LOCAL_ADDRESS
        number = read_setting(REAL_PHONE_VARIABLE) or ""
        if not number.startswith("+"):
            raise PhoneError(f"In twilio mode TaskRouter calls {self.name}'s real phone: set {REAL_PHONE_VARIABLE} "
                             "to your phone number in E.164 (+15551234567) in .env, restart the kernel, and run the "
                             "notebook again.")
        return number

    # ------------------------------------------------------------------ the local server's softphone

    def _local(self, method: str, path: str, **data: str) -> dict:
        answer = requests.request(method, f"{self.base_url}/_local/{path}", data=data or None, auth=self.auth,
                                  timeout=10)
        if not answer.ok:
            try:
                message = answer.json().get("message", answer.text)
            except ValueError:
                message = answer.text
            raise PhoneError(message)
        return answer.json()

    def _register(self) -> None:
        self._local("POST", "Softphones", Address=self.address, FriendlyName=f"{self.name}'s phone")

    def view(self) -> dict[str, Any]:
        """The calls ringing here or in progress (or the last one), each with its caller and Task."""
        if self.real:
            return {"calls": []}
        return self._local("GET", f"Softphones/{quote(self.address, safe=':@+')}")

    def current(self, status: str | None = None) -> dict | None:
        calls = self.view()["calls"]
        return next((c for c in calls if status is None or c["status"] == status), None)

    # ------------------------------------------------------------------ what the buttons (and scripts) do

    def answer(self, wait: float = 0.0) -> dict:
        """Pick up the call that rings (waiting up to `wait` seconds for one)."""
        self._no_buttons_in_twilio_mode("Answer")
        deadline = time.monotonic() + wait
        while (call := self.current("ringing")) is None:
            if time.monotonic() >= deadline:
                raise PhoneError(f"{self.name}'s phone is not ringing. Is {self.name} Idle, and did the assignment "
                                 "callback answer dequeue? The check cell below says what happened.")
            time.sleep(0.1)
        self._local("POST", f"Calls/{call['call_sid']}/Answer")
        self.refresh()
        return call

    def decline(self) -> dict:
        self._no_buttons_in_twilio_mode("Decline")
        call = self.current("ringing")
        if call is None:
            raise PhoneError(f"{self.name}'s phone is not ringing.")
        self._local("POST", f"Calls/{call['call_sid']}/Decline")
        self.refresh()
        return call

    def hang_up(self) -> None:
        self._no_buttons_in_twilio_mode("Hang up")
        call = self.current()
        if call is None or call["status"] not in LIVE:
            raise PhoneError(f"{self.name}'s phone is not in a call.")
        self.client.calls(call["call_sid"]).update(status="completed")
        self.refresh()

    def autopilot(self) -> None:
        """For headless runs: answer the next call that rings here, as the learner's click would."""
        self._answer_next.set()

    def _no_buttons_in_twilio_mode(self, what: str) -> None:
        if self.real:
            raise PhoneError(f"In twilio mode, {what.lower()} on your real phone.")

    # ------------------------------------------------------------------ the widget

    def _guarded(self, action: Any) -> None:
        show_errors_on(self.screen, action)

    def refresh(self) -> None:
        self.state = self.view()
        call = next(iter(self.state["calls"]), None)
        status = "idle" if call is None or call["status"] not in LIVE else call["status"]
        if call is not None and call["status"] == "in-progress" and call["bridged"]:
            status = "talking"
        self.answer_button.disabled = self.decline_button.disabled = status != "ringing"
        self.hang_button.disabled = status not in ("in-progress", "talking")
        self.screen.value = _screen(status, call)

    def _follow(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.refresh()
                if self._answer_next.is_set() and self.current("ringing") is not None:
                    self._answer_next.clear()
                    self.answer()
            except Exception:  # the server went away or the kernel is shutting down: try again later
                continue

    def close(self) -> None:
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
        super().close()


def _screen(status: str, call: dict | None) -> str:
    label = f"<span class='tr-softphone-status'>{status}</span>"
    if call is None:
        return f"{label}: waiting for a call."
    lines = []
    if status == "ringing":
        lines.append(f"<b>{label}</b>: call from <b>{html.escape(call['from'])}</b>")
    elif status == "talking":
        caller = call.get("caller") or {}
        lines.append(f"<b>{label}</b> with the caller {html.escape(caller.get('from', ''))} "
                     f"(their call: {html.escape(caller.get('status', ''))}, yours: {call['status']})")
    else:
        lines.append(f"<b>{label}</b> (last call: {html.escape(call['status'])})")
    task = call.get("task")
    if task:
        try:
            attributes = json.loads(task["attributes"] or "{}")
        except ValueError:
            attributes = {}
        shown = {k: attributes[k] for k in ("selected_language", "from") if k in attributes}
        lines.append(f"Task <code>{html.escape(task['sid'])}</code> ({html.escape(task['assignment_status'])}): "
                     f"<code>{html.escape(json.dumps(shown))}</code>")
    reservation = call.get("reservation")
    if reservation:
        lines.append(f"Reservation <code>{html.escape(reservation['sid'])}</code>: "
                     f"<span class='tr-softphone-reservation'>{html.escape(reservation['status'])}</span>")
    return "<br>".join(lines)
