"""TaskRouter's voice instructions, carried out by the local voice side.

    dequeue     the worker's phone (`to`, else her `contact_uri`) rings; when she answers she is
                bridged to the caller waiting in <Enqueue>. The reservation is pending while it
                rings and accepted when bridged.
    call        the worker's phone rings; when she answers, her call runs the TwiML at `url`
                (<Dial><Queue reservationSid> there bridges). Accepted now if `accept`, else
                when <Dial><Queue> bridges.
    redirect    the caller waiting in <Enqueue> leaves the queue (QueueResult=redirected) and
                runs the TwiML at `url`. Accepted now if `accept`, else it stays pending.
    conference  like dequeue, but caller and worker talk in a conference; its SID and both
                call SIDs go into the Task's attributes.

How a worker's ringing phone ends, where Twilio's docs are silent
(docs/differences-from-twilio.md, "A worker's phone that does not take the call"):
declined (busy) or failed is a rejection, no answer is a timeout, and the
caller stays queued for the Task's next reservation; a reservation that ends
some other way (timed out, the caller hung up) stops the phone ringing.

When a bridge ends, the worker's Task goes to wrapping and the worker to the
instruction's post-work activity; the caller's `<Enqueue action>` gets
`QueueResult=bridged`. Each refusal is a TwilioError with Twilio's code for
that instruction and parameter, raised before anything has changed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...core.exceptions import IllegalTransition, InvalidParameter, NotFound, TwilioError
from ...core.limits import CALL_TIMEOUT
from ...core.ports import Instruction
from ...core.state import Row, new_sid
from ...core.validators import E164, valid_url
from ..twiml import (
    DialQueue,
)
from .base import (
    ENDED,
    RING_TIMEOUT,
    VoiceBase,
)

CALL_EVENTS = ("initiated", "ringing", "answered", "completed")
RECORD_VALUES = ("do-not-record", "record-from-answer", "true", "false")
MAX_RING_TIMEOUT = CALL_TIMEOUT.high  # a voice instruction rings the worker as a call does
CLIENT = re.compile(r"client:[A-Za-z0-9_.\-@]{1,121}")
SIP = re.compile(r"sip:[^\s@]+@[^\s@]+")
CALLER_NAME = re.compile(r"(client:)?[A-Za-z0-9_.\-@+]{1,128}")

# Twilio's error codes, per instruction: missing or bad to / from / url / call_sid, bad post-work activity,
# bad status events or URL, and "the call could not be made" for everything else.
CODES = {
    "dequeue": {"to": 40131, "from": 40132, "activity": 40130, "call": 40133, "events": 40134, "status_url": 40157},
    "call": {"to": 40110, "from": 40111, "url": 40112, "call": 40113, "status_url": 40158, "events": 40113},
    "redirect": {"call_sid": 40121, "url": 40120, "call": 40122},
    "conference": {"to": 40137, "from": 40138, "bad_from": 40141, "no_call": 40142, "activity": 40143,
                   "gone": 40144, "call": 40145, "events": 40145, "status_url": 40145},
}


class WorkerPhoneMixin(VoiceBase):
    """TaskRouter's voice instructions carried out: a worker's phone, bridges, status callbacks, softphones."""

    # ------------------------------------------------------------------ entry point (TaskRouter's unit of work)
    def carry_out(self, instruction: Instruction, ws: Row, task: Row, worker: Row, res: Row) -> None:
        {"dequeue": self._dequeue, "call": self._call_worker, "redirect": self._redirect,
         "conference": self._conference}[instruction.name](instruction.params, CODES[instruction.name],
                                                           ws, task, worker, res)

    def _dequeue(self, p: dict, codes: dict, ws: Row, task: Row, worker: Row, res: Row) -> None:
        caller = self._queued_caller(task)
        if caller is None:
            raise TwilioError(self._not_enqueued(task, "dequeue"), code=codes["call"])
        to = self._to(p, worker, codes["to"])
        leg = self._dial(res, to, self._from(p.get("from"), to, ws["account_sid"], codes["from"]), {
            "kind": "dequeue",
            "caller_sid": caller["sid"],
            "post_work": self._post_work(ws, p.get("post_work_activity_sid"), codes["activity"]),
            "record": self._record(p.get("record"), codes["call"]),
        }, self._timeout(p.get("timeout"), codes["call"]),
            self._status_callback(p.get("status_callback_url"), p.get("status_callback_events"), codes))
        self._heard(leg, "dial", to=to, reason=f"dequeue for Task {task['sid']}")

    def _call_worker(self, p: dict, codes: dict, ws: Row, task: Row, worker: Row, res: Row) -> None:
        to = self._to(p, worker, codes["to"])
        from_ = self._from(p.get("from"), to, ws["account_sid"], codes["from"])
        url = self._required_url(p.get("url"), codes["url"], "url")
        accept = self._bool(p.get("accept"), False, codes["call"], "accept")
        purpose = {"kind": "call", "url": url, "record": self._record(p.get("record"), codes["call"])}
        self._dial(res, to, from_, purpose, self._timeout(p.get("timeout"), codes["call"]),
                   self._status_callback(p.get("status_callback_url"), None, codes))
        if accept:
            self.taskrouter.accept_for_call(res["sid"])

    def _redirect(self, p: dict, codes: dict, ws: Row, task: Row, worker: Row, res: Row) -> None:
        call_sid = p.get("call_sid") or ""
        if not re.fullmatch(r"CA[0-9a-f]{32}", call_sid):
            raise TwilioError(f"redirect needs call_sid, the queued call's SID (CA...), got {call_sid!r}",
                              code=codes["call_sid"])
        url = self._required_url(p.get("url"), codes["url"], "url")
        accept = self._bool(p.get("accept"), False, codes["call"], "accept")
        call = self.state.rows.get(call_sid)
        if call is None or call["_kind"] != "call" or call["account_sid"] != ws["account_sid"]:
            raise TwilioError(f"redirect: there is no call {call_sid} on this account", code=codes["call"])
        if call.get("_task_sid") != task["sid"] or not call.get("_queued"):
            raise TwilioError(
                f"redirect: call {call_sid} is not waiting in <Enqueue> for Task {task['sid']} "
                f"({self._not_enqueued(task, 'redirect')})", code=codes["call"])
        if accept:
            self.taskrouter.accept_for_call(res["sid"])
        self._heard(call, "redirected", url=url, reservation_sid=res["sid"])
        self._leave_queue_for(call, "redirected")
        self._fetch(call, url, "POST", {})

    def _conference(self, p: dict, codes: dict, ws: Row, task: Row, worker: Row, res: Row) -> None:
        caller = self._queued_caller(task)
        if caller is None:
            if any(r.get("_task_sid") == task["sid"] for r in self.state.of(ws["account_sid"], "call").values()):
                raise TwilioError(f"conference: the caller of Task {task['sid']} is no longer waiting",
                                  code=codes["gone"])
            raise TwilioError(self._not_enqueued(task, "conference"), code=codes["no_call"])
        to = self._to(p, worker, codes["to"])
        if not p.get("from"):
            raise TwilioError("conference needs 'from', the caller ID the worker's phone shows", code=codes["from"])
        from_ = self._from(p.get("from"), to, ws["account_sid"], codes["bad_from"])
        flags = {name: self._bool(p.get(name), default, codes["call"], name) for name, default in (
            ("start_conference_on_enter", True), ("end_conference_on_exit", False),
            ("end_conference_on_customer_exit", False), ("beep", True), ("muted", False))}
        leg = self._dial(res, to, from_, {
            "kind": "conference",
            "caller_sid": caller["sid"],
            "conference_sid": new_sid("CF"),
            "post_work": self._post_work(ws, p.get("post_work_activity_sid"), codes["activity"]),
            "record": self._record(p.get("record"), codes["call"]),
            **flags,
        }, self._timeout(p.get("timeout"), codes["call"]),
            self._status_callback(p.get("status_callback"), p.get("status_callback_event"), codes))
        self._heard(leg, "dial", to=to, reason=f"conference for Task {task['sid']}")

    # ------------------------------------------------------------------ checks, each with its code

    def _queued_caller(self, task: Row) -> Row | None:
        for row in self.state.of(task["account_sid"], "call").values():
            if row.get("_task_sid") == task["sid"] and row.get("_queued") and row["status"] == "in-progress":
                return row
        return None

    @staticmethod
    def _not_enqueued(task: Row, name: str) -> str:
        return (f"{name} works only for a Task made by <Enqueue workflowSid> whose caller is still waiting; "
                f"Task {task['sid']} has no call waiting in a queue")

    def _to(self, p: dict, worker: Row, code: int) -> str:
        to = p.get("to")
        if not to:
            try:
                to = json.loads(worker["attributes"] or "{}").get("contact_uri")
            except ValueError:
                to = None
            if not to:
                raise TwilioError(
                    f"no 'to' was given and Worker {worker['friendly_name']} has no contact_uri attribute: "
                    "add one (an E.164 number, client:name or sip:...) or give 'to'", code=code)
        to = str(to)
        if not (E164.match(to) or CLIENT.fullmatch(to) or SIP.fullmatch(to)):
            raise TwilioError(f"'to' must be a phone number in E.164 (+12025550123), client:name or sip:user@host, "
                              f"got {to!r}", code=code)
        return to

    def _from(self, value: str | None, to: str, account_sid: str, code: int) -> str:
        if not value:
            raise TwilioError("'from' is required: the caller ID the worker's phone shows", code=code)
        if E164.match(to):
            # Dialing a phone number: the caller ID must be a number of this account (Twilio also takes a
            # verified caller ID, which the local server has no way to verify).
            owned = sorted(r["phone_number"] for r in self.state.of(account_sid, "incoming_phone_number").values())
            if value not in owned:
                raise TwilioError(f"'from' {value!r} is not a phone number of this account; calling a phone needs "
                                  f"one of yours as caller ID: {', '.join(owned) or '(none)'}", code=code)
        elif not CALLER_NAME.fullmatch(value):
            raise TwilioError(f"'from' must be a caller ID (a number or a name like bob), got {value!r}", code=code)
        return value

    def _post_work(self, ws: Row, sid: str | None, code: int) -> str | None:
        if not sid:
            return None
        row = self.state.rows.get(sid)
        if row is None or row["_kind"] != "activity" or row["workspace_sid"] != ws["sid"]:
            raise TwilioError(f"post_work_activity_sid {sid!r} is not an Activity of this Workspace", code=code)
        return sid

    @staticmethod
    def _timeout(value: str | None, code: int) -> int:
        if not value:
            return RING_TIMEOUT
        try:
            seconds = int(value)
        except ValueError:
            seconds = 0
        if not 1 <= seconds <= MAX_RING_TIMEOUT:
            raise TwilioError(f"'timeout' must be whole seconds from 1 to {MAX_RING_TIMEOUT}, got {value!r}", code=code)
        return seconds

    @staticmethod
    def _record(value: str | None, code: int) -> str:
        if value and value not in RECORD_VALUES:
            raise TwilioError(f"'record' must be one of {', '.join(RECORD_VALUES)}, got {value!r}", code=code)
        return value or "do-not-record"

    @staticmethod
    def _bool(value: str | None, default: bool, code: int, name: str) -> bool:
        if value is None or value == "":
            return default
        if value.lower() not in ("true", "false"):
            raise TwilioError(f"'{name}' must be true or false, got {value!r}", code=code)
        return value.lower() == "true"

    @classmethod
    def _required_url(cls, value: str | None, code: int, name: str) -> str:
        url = cls._url(value, code, name, required=True)
        assert url is not None  # _url raised when it was missing
        return url

    @staticmethod
    def _url(value: str | None, code: int, name: str, required: bool) -> str | None:
        if not value:
            if required:
                raise TwilioError(f"'{name}' is required: the URL of the TwiML to run", code=code)
            return None
        try:
            return valid_url(value, f"'{name}'")  # the rule of every webhook URL, with this instruction's code
        except InvalidParameter as exc:
            raise TwilioError(exc.message, code=code) from None

    def _status_callback(self, url: str | None, events: str | None, codes: dict) -> dict | None:
        url = self._url(url, codes["status_url"], "status_callback_url", required=False)
        chosen = [e.strip() for e in (events or "completed").split(",") if e.strip()]
        wrong = [e for e in chosen if e not in CALL_EVENTS]
        if wrong or not chosen:
            raise TwilioError(f"status callback events must be a comma-separated list of {', '.join(CALL_EVENTS)}, "
                              f"got {events!r}", code=codes["events"])
        return {"url": url, "method": "POST", "events": chosen} if url else None

    # ------------------------------------------------------------------ the worker's phone

    def _dial(self, res: Row, to: str, from_: str, purpose: dict, timeout: int, status_callback: dict | None) -> Row:
        leg = self._insert_call(res["account_sid"], to, from_, "outbound-api", "queued")
        self._set(leg, _purpose={**purpose, "reservation_sid": res["sid"], "task_sid": res["task_sid"],
                                 "worker_sid": res["worker_sid"]},
                  _res_sid=res["sid"], _post_work=purpose.get("post_work"), _status_callback=status_callback)
        self.state.update(res, _voice_leg=leg["sid"])
        self._after(lambda: self._ring(leg["sid"], timeout))
        return leg

    def _ring(self, leg_sid: str, timeout: int) -> None:
        with self.state.unit():
            leg = self.state.rows.get(leg_sid)
            if leg is None or leg["status"] != "queued":
                return
            self._progress(leg, "initiated")
            self._set(leg, status="ringing")
            self._progress(leg, "ringing")
            number = self.number_for(leg["to"], leg["account_sid"])
            if number is not None:  # a local number answers at once, by running its Voice URL
                callee = self._insert_call(number["account_sid"], leg["to"], leg["from"], "inbound", "ringing",
                                           phone_number_sid=number["sid"])
                self._set(callee, _peer=leg["sid"])
                self._set(leg, _peer=callee["sid"])
                self._picked_up(leg)
                self._set(callee, status="in-progress", _start_ts=self.clock.now())
                if number["voice_url"]:
                    self._fetch(callee, number["voice_url"], number["voice_method"], {})
                else:
                    self._fail(callee, 11200, "the number has no Voice URL")
                return
            token = self._wait(leg, "ringing")
        due = self.clock.now() + timeout

        def unanswered() -> None:
            with self.state.unit():
                row = self.state.rows.get(leg_sid)
                if row is not None and row["status"] == "ringing" and row.get("_wait_token") == token:
                    self._end(row, "no-answer", f"nobody answered within {timeout} seconds")

        self.timers.schedule(due, unanswered)

    def answer(self, account_sid: str, sid: str) -> Row:
        """The softphone's Answer button."""
        with self.state.unit():
            leg = self._ringing_at_softphone(account_sid, sid)
            self._picked_up(leg)
            return dict(leg)

    def decline(self, account_sid: str, sid: str) -> Row:
        """The softphone's Decline button: the call ends busy."""
        with self.state.unit():
            leg = self._ringing_at_softphone(account_sid, sid)
            self._end(leg, "busy", "declined")
            return dict(leg)

    def _ringing_at_softphone(self, account_sid: str, sid: str) -> Row:
        leg = self.call(account_sid, sid)
        if self.softphone(account_sid, leg["to"]) is None:
            raise TwilioError(f"no softphone is registered for {leg['to']}: nobody is there to answer", code=20001)
        if leg["status"] != "ringing":
            raise IllegalTransition(f"Call {sid} is {leg['status']}, not ringing")
        return leg

    def _picked_up(self, leg: Row) -> None:
        """The worker answered: what her instruction does next."""
        self._set(leg, status="in-progress", _start_ts=self.clock.now(), _waiting=None,
                  _wait_token=leg.get("_wait_token", 0) + 1)
        self._progress(leg, "answered")
        purpose = leg["_purpose"]
        if purpose["kind"] == "call":
            self._fetch(leg, purpose["url"], "POST", {})
            return
        caller = self.state.rows.get(purpose["caller_sid"])
        if caller is None or caller["status"] != "in-progress" or not caller.get("_queued"):
            self._heard(leg, "say", text="The caller is no longer waiting.", language="en-US")
            self._end(leg, "completed", "the caller was gone")
            return
        if not self.taskrouter.accept_for_call(purpose["reservation_sid"]):
            self._heard(leg, "say", text="This task is no longer yours.", language="en-US")
            self._end(leg, "completed", "the reservation had ended")
            return
        conference = purpose["kind"] == "conference"
        self._bridge(caller, leg, caller_ends=not conference or purpose["end_conference_on_customer_exit"],
                     worker_ends=not conference or purpose["end_conference_on_exit"])
        if conference:
            task = self.taskrouter.row("task", purpose["task_sid"])
            assert task is not None, "a bridged conference's task is never deleted while its call goes on"
            attributes = {**json.loads(task["attributes"] or "{}"), "conference": {
                "sid": purpose["conference_sid"],
                "participants": {"worker": leg["sid"], "customer": caller["sid"]}}}
            self.taskrouter.update_task(task["account_sid"], task["workspace_sid"], task["sid"],
                                        attributes=json.dumps(attributes))

    def reservation_over(self, res: Row) -> None:
        """TaskRouter ended a reservation whose worker's phone may still ring: it stops ringing."""
        leg = self.state.rows.get(res.get("_voice_leg") or "")
        if leg is not None and leg["status"] in ("queued", "ringing"):
            self._end(leg, "canceled", f"reservation {res['reservation_status']}")

    # ------------------------------------------------------------------ <Dial><Queue reservationSid>

    def _dial_queue(self, row: Row, verb: DialQueue) -> None:
        """The worker's call takes the queued caller of a pending reservation (error 14215 if it cannot)."""
        res = self.taskrouter.row("reservation", verb.reservation_sid or "")
        if res is None or res["account_sid"] != row["account_sid"]:
            self._fail(row, 14215, f"<Dial><Queue reservationSid={verb.reservation_sid}>: no such Reservation")
            return
        task = self.taskrouter.row("task", res["task_sid"])
        assert task is not None, "a reservation's task outlives it"
        caller = self._queued_caller(task)
        if res["reservation_status"] != "pending" and not (
                res["reservation_status"] == "accepted" and row.get("_res_sid") == res["sid"]):
            self._fail(row, 14215, f"<Dial><Queue reservationSid>: Reservation {res['sid']} is "
                                   f"{res['reservation_status']}, not pending")
            return
        if caller is None:
            self._fail(row, 14215, f"<Dial><Queue reservationSid>: {self._not_enqueued(task, 'the bridge')}")
            return
        self.taskrouter.accept_for_call(res["sid"])
        self._set(row, _res_sid=res["sid"], _post_work=verb.post_work_activity_sid or row.get("_post_work"),
                  _dialed=True)
        self._bridge(caller, row, caller_ends=True, worker_ends=True)

    # ------------------------------------------------------------------ bridges

    def _bridge(self, caller: Row, leg: Row, caller_ends: bool, worker_ends: bool) -> None:
        now = self.clock.now()
        self._heard(caller, "bridged", with_=leg["to"], call_sid=leg["sid"])
        self._heard(leg, "bridged", with_=caller["from"], call_sid=caller["sid"])
        self._set(caller, _queued=False, _in_wait=False, _bridged_with=leg["sid"], _end_on_exit=caller_ends,
                  _queue_left_ts=now, _waiting="bridged", _wait_token=caller.get("_wait_token", 0) + 1)
        self._set(leg, _bridged_with=caller["sid"], _end_on_exit=worker_ends, _waiting="bridged",
                  _wait_token=leg.get("_wait_token", 0) + 1)

    def _left_bridge(self, row: Row) -> None:
        """`row` ended while bridged: the other side hears it, and the bridge's rules apply."""
        other = self.state.rows.get(row.get("_bridged_with") or "")
        self._set(row, _bridged_with=None)
        self._after_bridge(row)
        if other is None or other.get("_bridged_with") != row["sid"] or other["status"] in ENDED:
            return
        if not row.get("_end_on_exit"):
            self._heard(other, "alone", reason="the other side left the conference")
            return
        self._set(other, _bridged_with=None, _waiting=None)
        self._heard(other, "unbridged", reason="the other side hung up")
        self._after_bridge(other)
        if other.get("_res_sid") and not other.get("_dialed"):
            self._end(other, "completed", "the other side hung up")
        elif other.get("_res_sid"):  # the worker's own TwiML goes on after its <Dial>
            self._resume(other)
        else:
            self._caller_goes_on(other)

    def _after_bridge(self, row: Row) -> None:
        if row.get("_res_sid"):
            if not row.get("_wrapped"):
                self._set(row, _wrapped=True)
                self.taskrouter.call_finished(row["_res_sid"], row.get("_post_work"))
        elif row["status"] in ENDED:
            self._tell_action(row, "bridged")

    def _caller_goes_on(self, row: Row) -> None:
        """After the bridge, the caller's <Enqueue action> says what happens next (or the verb after it)."""
        spec = row.get("_enqueue") or {}
        if spec.get("action"):
            self._fetch(row, spec["action"], spec["method"], self._queue_result(row, "bridged"))
        else:
            self._resume(row)

    def _leave_queue_for(self, row: Row, result: str) -> None:
        """The caller leaves the queue without the Task being canceled (a redirect)."""
        main = row.get("_main") or {}
        self._set(row, _queued=False, _in_wait=False, _queue_left_ts=self.clock.now(),
                  _doc=main.get("doc", row["_doc"]), _doc_url=main.get("url", row["_doc_url"]),
                  _pc=main.get("pc", row["_pc"]))
        self._tell_action(row, result)

    def _leg_over(self, row: Row, was: str) -> None:
        """Called by _end: what the end of a call means for its bridge and its reservation."""
        if row.get("_bridged_with"):
            self._left_bridge(row)
        purpose = row.get("_purpose")
        if purpose and was != "in-progress" and row["status"] != "canceled":
            self.taskrouter.call_unanswered(purpose["reservation_sid"],
                                            "timeout" if row["status"] == "no-answer" else "rejected")

    # ------------------------------------------------------------------ softphones

    def register_softphone(self, account_sid: str, address: str, friendly_name: str | None) -> Row:
        """A softphone at `address` (client:alice, +1..., sip:...): calls to it ring until answered here."""
        if not address or not (E164.match(address) or CLIENT.fullmatch(address) or SIP.fullmatch(address)):
            raise TwilioError(f"Address must be a phone number in E.164, client:name or sip:user@host, "
                              f"got {address!r}", code=20001)
        if self.number_for(address, account_sid) is not None:
            raise TwilioError(f"{address} is a local phone number: calls to it run its Voice URL, "
                              "so a softphone cannot answer there", code=20001)
        with self.state.unit():
            row = self.softphone(account_sid, address)
            if row is None:
                row = self.state.insert("softphone", {"sid": new_sid("DV"), "account_sid": account_sid,
                                                      "address": address, "friendly_name": friendly_name or address,
                                                      **self._stamp()})
            elif friendly_name:
                self._touch(row, friendly_name=friendly_name)
            return dict(row)

    def softphone(self, account_sid: str, address: str) -> Row | None:
        for row in self.state.of(account_sid, "softphone").values():
            if row["address"] == address:
                return row
        return None

    def softphone_view(self, account_sid: str, address: str) -> dict[str, Any]:
        """What a softphone shows: its calls (ringing, in progress, the last ended), who calls, for which Task."""
        phone = self.softphone(account_sid, address)
        if phone is None:
            raise NotFound(f"/_local/Softphones/{address}")
        calls = [r for r in self.state.of(account_sid, "call").values() if r["to"] == address and r.get("_purpose")]
        calls.sort(key=lambda r: r["_created_ts"])
        live = [r for r in calls if r["status"] not in ENDED]
        shown = live or calls[-1:]
        return {"address": address, "friendly_name": phone["friendly_name"],
                "calls": [self._call_view(r) for r in shown]}

    def _call_view(self, leg: Row) -> dict[str, Any]:
        purpose = leg["_purpose"]
        task = self.taskrouter.row("task", purpose.get("task_sid") or "")
        res = self.taskrouter.row("reservation", purpose.get("reservation_sid") or "")
        caller = self.state.rows.get(purpose.get("caller_sid") or leg.get("_bridged_with") or "")
        return {
            "call_sid": leg["sid"], "status": leg["status"], "from": leg["from"], "to": leg["to"],
            "instruction": purpose["kind"], "bridged": bool(leg.get("_bridged_with")),
            "task": None if task is None else {"sid": task["sid"], "assignment_status": task["assignment_status"],
                                               "attributes": task["attributes"]},
            "reservation": None if res is None else {"sid": res["sid"], "status": res["reservation_status"]},
            "caller": None if caller is None else {"call_sid": caller["sid"], "from": caller["from"],
                                                   "status": caller["status"],
                                                   "bridged": caller.get("_bridged_with") == leg["sid"]},
            "transcript": list(leg.get("_transcript", [])),
        }
