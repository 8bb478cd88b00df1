"""Calls: the Calls resource, and the interpreter that runs a call's TwiML on the one clock.

A call made with the Calls API to one of the local numbers arrives at that
number as an inbound call, as on Twilio when you call your own number: two
calls, the `outbound-api` one the API made and the `inbound` one that runs the
number's Voice URL. Digits in `SendDigits` are played into the inbound call
once it is answered (`w` waits half a second). A call to any other number
rings unanswered and ends `no-answer` after its `Timeout`.

The interpreter keeps its place in the call's row: the document, the verb it
is at, and what it waits for (a Pause, a Gather's digits, a webhook's answer).
Waits are timers on the one clock, so a test or a notebook can fast-forward a
Gather's timeout. Webhooks are signed requests (webhooks.py) sent off the
state lock; their answers resume the call in a unit of work of their own.
What the caller hears is kept as the call's transcript. Status callbacks
(initiated, ringing, answered, completed) and the Enqueue action of a call
that has left the queue are reports (reports.py): written to the outbox with
the status change that made them due, sent in order, their answers unread.
Queues and <Enqueue> are in queues.py; bridges and the worker's phone, for
TaskRouter's voice instructions, in worker_phone.py.
"""

from __future__ import annotations

import logging
from typing import Any

from ...core.exceptions import IllegalTransition, InvalidParameter, NotFound
from ...core.limits import CALL_TIMEOUT
from ...core.state import Row, new_sid
from ...core.validators import E164, valid_method, valid_url
from ...core.webhooks import Unreachable, send
from .. import reports
from ..rendering import rfc2822
from ..twiml import (
    DialQueue,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Pause,
    Play,
    Redirect,
    Reject,
    Say,
    TwimlError,
    parse_twiml,
)
from .base import (
    APPLICATION_ERROR,
    DIGIT_WAIT,
    ENDED,
    RING_TIMEOUT,
    WAIT_LOOP_SECONDS,
    WEBHOOK_DEADLINE,
    VoiceBase,
)

log = logging.getLogger(__name__)


class CallsMixin(VoiceBase):
    """The Calls resource and the interpreter that runs a call's TwiML."""

    def resume_calls(self) -> None:
        """At start-up, before any timer runs: what a previous process left undone.

        First the reports it left due, then the calls it left going are ended, so a call's `completed`
        comes after its older reports. A call cannot outlive the process that ran it: one still going at
        start-up ended with it. Oldest first, so a caller waiting for a worker's phone is gone before that
        phone stops ringing.
        """
        self._reports.resume()
        with self.state.unit():
            going = [r for r in self.state.rows.values() if r["_kind"] == "call" and r["status"] not in ENDED]
            for row in sorted(going, key=lambda r: r["_created_ts"]):
                self._end(row, "failed", "the local Twilio server stopped during the call")

    def close_calls(self) -> None:
        self._fetches.shutdown(wait=False, cancel_futures=True)
        self._reports.close()

    # -------------------------------------------------------------------- the API

    def create_call(self, account_sid: str, to: str | None, from_: str | None, url: str | None = None,
                    method: str | None = None, twiml: str | None = None, send_digits: str | None = None,
                    timeout: int | None = None, status_callback: str | None = None,
                    status_callback_method: str | None = None, status_callback_event: list[str] | None = None) -> Row:
        if not to or not from_:
            raise InvalidParameter("To and From are required")
        for name, number in (("To", to), ("From", from_)):
            if not E164.match(number) and not number.startswith(("client:", "sip:")):
                raise InvalidParameter(f"{name} must be a phone number in E.164 (+12025550123), got {number!r}")
        if not url and not twiml:
            raise InvalidParameter("Url or Twiml is required: what should the call do when it is answered?")
        if url:
            valid_url(url, "Url")
        if twiml:
            try:
                parse_twiml(twiml, "")
            except TwimlError as exc:
                raise InvalidParameter(f"Twiml is not valid TwiML: {exc}", code=exc.code) from None
        if send_digits and any(c not in "0123456789*#w" for c in send_digits):
            raise InvalidParameter(f"SendDigits may hold 0-9, *, # and w, got {send_digits!r}")
        progress = None
        if status_callback:
            events = [e.strip() for e in ",".join(status_callback_event or []).split(",") if e.strip()] or ["completed"]
            wrong = [e for e in events if e not in ("initiated", "ringing", "answered", "completed")]
            if wrong:
                raise InvalidParameter(f"StatusCallbackEvent may be initiated, ringing, answered and completed, "
                                       f"got {', '.join(wrong)}")
            progress = {"url": valid_url(status_callback, "StatusCallback"), "events": events,
                        "method": valid_method(status_callback_method or "POST", "StatusCallbackMethod")}
        ring = RING_TIMEOUT if timeout is None else timeout
        CALL_TIMEOUT.check(ring, "Timeout")
        with self.state.unit():
            self._account_still_there(account_sid)
            caller = self._insert_call(account_sid, to, from_, "outbound-api", "queued")
            self.state.update(caller, _url=url, _method=valid_method(method or "POST", "Method"), _twiml=twiml,
                              _send_digits=send_digits or "", _status_callback=progress)
            local = self.number_for(to, account_sid)
            if local is None:
                self._after(lambda: self._ring_out(caller["sid"], ring))
            else:
                callee = self._insert_call(local["account_sid"], to, from_, "inbound", "ringing",
                                           phone_number_sid=local["sid"])
                self.state.update(caller, _peer=callee["sid"])
                self._progress(caller, "initiated")
                self.state.update(callee, _peer=caller["sid"])
                self._after(lambda: self._answer(caller["sid"], callee["sid"]))
            return dict(caller)

    def calls(self, account_sid: str, to: str | None = None, from_: str | None = None,
              status: str | None = None) -> list[Row]:
        rows = self.state.of(account_sid, "call").values()
        return [r for r in rows if (to is None or r["to"] == to) and (from_ is None or r["from"] == from_)
                and (status is None or r["status"] == status)]

    def call(self, account_sid: str, sid: str) -> Row:
        row = self.state.rows.get(sid)
        if not row or row["_kind"] != "call" or row["account_sid"] != account_sid:
            raise NotFound(f"/Accounts/{account_sid}/Calls/{sid}.json")
        return row

    def update_call(self, account_sid: str, sid: str, status: str | None = None, url: str | None = None,
                    method: str | None = None, twiml: str | None = None) -> Row:
        with self.state.unit():
            row = self.call(account_sid, sid)
            if status is not None:
                if status not in ("completed", "canceled"):
                    raise InvalidParameter(f"Status can be set to completed or canceled, not {status!r}")
                if row["status"] not in ENDED:
                    self._end(row, "canceled" if row["status"] in ("queued", "ringing") else "completed",
                              "hung up through the API")
                return dict(row)
            if row["status"] in ENDED:
                raise IllegalTransition(f"Call {sid} is {row['status']}: it cannot be redirected", code=21220)
            if twiml:
                try:
                    parse_twiml(twiml, "")
                except TwimlError as exc:
                    raise InvalidParameter(f"Twiml is not valid TwiML: {exc}", code=exc.code) from None
                self._start_document(row, twiml, row.get("_doc_url") or "")
            elif url:
                target = valid_url(url, "Url")
                assert target is not None  # url is not empty here
                self._fetch(row, target, valid_method(method or "POST", "Method"), {})
            return dict(row)

    def transcript(self, call_sid: str) -> list[dict[str, Any]]:
        """What the caller of this call heard, in order: say, play, pause, gather, enqueue, error, hangup."""
        row = self.state.rows.get(call_sid)
        return list(row.get("_transcript", [])) if row else []

    def press(self, call_sid: str, digits: str) -> None:
        """Keys pressed on the call now (what SendDigits does, one key at a time)."""
        with self.state.unit():
            row = self.state.rows.get(call_sid)
            if row is None or row["_kind"] != "call":
                raise NotFound(f"/Calls/{call_sid}")
            if row["status"] != "in-progress":
                raise IllegalTransition(f"Call {call_sid} is {row['status']}: nobody hears keys pressed now")
            self._digits_in(row, digits)

    # -------------------------------------------------------------------- rows

    def _insert_call(self, account_sid: str, to: str, from_: str, direction: str, status: str,
                     phone_number_sid: str | None = None) -> Row:
        now = self.clock.now()
        return self.state.insert("call", {
            "sid": new_sid("CA"),
            "account_sid": account_sid,
            "to": to,
            "from": from_,
            "direction": direction,
            "status": status,
            "phone_number_sid": phone_number_sid,
            "_created_ts": now,
            "_updated_ts": now,
            "_start_ts": None,
            "_end_ts": None,
            "_peer": None,
            "_transcript": [],
            "_digits": "",
            "_doc": None,
            "_doc_url": None,
            "_pc": 0,
            "_waiting": None,
            "_status_callback": self._number_status_callback(phone_number_sid),
        })

    def _number_status_callback(self, number_sid: str | None) -> dict | None:
        """A number's StatusCallback hears when each call to it completes, as on Twilio."""
        number = self.state.rows.get(number_sid or "")
        if number is None or not number["status_callback"]:
            return None
        return {"url": number["status_callback"], "method": number["status_callback_method"], "events": ["completed"]}

    # -------------------------------------------------------------------- the call's life

    def _ring_out(self, caller_sid: str, ring: int) -> None:
        with self.state.unit():
            caller = self.state.rows[caller_sid]
            if caller["status"] in ENDED:
                return
            self._progress(caller, "initiated")
            self._set(caller, status="ringing")
            self._progress(caller, "ringing")
            token = self._wait(caller, "ringing")
        due = self.clock.now() + ring

        def unanswered() -> None:
            with self.state.unit():
                row = self.state.rows.get(caller_sid)
                if row is not None and row["status"] == "ringing" and row.get("_wait_token") == token:
                    self._end(row, "no-answer", "nobody answered")

        self.timers.schedule(due, unanswered)

    def _answer(self, caller_sid: str, callee_sid: str) -> None:
        with self.state.unit():
            caller, callee = self.state.rows[caller_sid], self.state.rows[callee_sid]
            if caller["status"] in ENDED or callee["status"] in ENDED:
                return
            now = self.clock.now()
            self._progress(caller, "ringing")
            for row in (caller, callee):
                self._set(row, status="in-progress", _start_ts=now)
            self._progress(caller, "answered")
            number = self.state.rows[callee["phone_number_sid"]]
            if number["voice_url"]:
                self._fetch(callee, number["voice_url"], number["voice_method"], {})
            else:
                # A number with no Voice URL: Twilio answers with its own application error.
                self._fail(callee, 11200, "the number has no Voice URL")
            if caller["_twiml"]:
                self._start_document(caller, caller["_twiml"], "")
            elif caller["_url"]:
                self._fetch(caller, caller["_url"], caller["_method"], {})
            if caller["_send_digits"]:
                self._send_digits(callee["sid"], caller["_send_digits"])

    def _send_digits(self, callee_sid: str, digits: str) -> None:
        delay = 0.0
        for key in digits:
            if key == "w":
                delay += DIGIT_WAIT
                continue
            due = self.clock.now() + delay

            def play(key: str = key) -> None:
                with self.state.unit():
                    row = self.state.rows.get(callee_sid)
                    if row is not None and row["status"] == "in-progress":
                        self._digits_in(row, key)

            self._after(lambda due=due, play=play: self.timers.schedule(due, play))

    def _end(self, row: Row, status: str, why: str) -> None:
        if row["status"] in ENDED:
            return
        was = row["status"]
        if row.get("_queued"):
            self._left_queue(row, "hangup")
        now = self.clock.now()
        self._heard(row, "hangup", reason=why)
        self._set(row, status=status, _end_ts=now, _waiting=None, _wait_token=row.get("_wait_token", 0) + 1)
        self._progress(row, "completed")
        peer = self.state.rows.get(row.get("_peer") or "")
        if peer is not None and peer["status"] not in ENDED:
            self._end(peer, "completed" if peer["status"] == "in-progress" else "canceled", "the other side hung up")
        self._leg_over(row, was)

    def _fail(self, row: Row, code: int, why: str) -> None:
        """Twilio's answer to a call whose application failed: a message, then the end of the call."""
        log.warning("call %s: error %s: %s", row["sid"], code, why)
        self._heard(row, "error", code=code, text=why)
        self._heard(row, "say", text=APPLICATION_ERROR, language="en-US")
        self._end(row, "completed", f"application error {code}")

    # -------------------------------------------------------------------- webhooks

    def _webhook_params(self, row: Row) -> dict[str, str]:
        return {
            "CallSid": row["sid"],
            "AccountSid": row["account_sid"],
            "From": row["from"],
            "To": row["to"],
            "Caller": row["from"],
            "Called": row["to"],
            "CallStatus": row["status"],
            "Direction": row["direction"],
            "ApiVersion": "2010-04-01",
            **{f"{side}{part}": "" for side in ("From", "To", "Caller", "Called")
               for part in ("City", "State", "Zip", "Country")},
        }

    def _fetch(self, row: Row, url: str, method: str, extra: dict[str, str]) -> None:
        """Ask the application what to do next; its answer resumes the call (off the lock, after commit)."""
        token = self._wait(row, "webhook")
        params = {**self._webhook_params(row), **extra}
        auth_token = self.accounts[row["account_sid"]]
        call_sid = row["sid"]

        def request() -> None:
            try:
                answer = send(method, url, params, auth_token, WEBHOOK_DEADLINE)
                problem = None
            except Unreachable as exc:
                answer, problem = None, str(exc)
            with self.state.unit():
                current = self.state.rows.get(call_sid)
                if current is None or current["status"] != "in-progress" or current.get("_wait_token") != token:
                    return  # hung up, or moved on, while the application was answering
                if answer is None:
                    self._fail(current, 11200, f"HTTP retrieval failure: {url}: {problem}")
                elif not 200 <= answer.status < 300:
                    self._fail(current, 11200, f"HTTP retrieval failure: {url} answered {answer.status}")
                elif answer.content_type.split(";")[0].strip() not in ("text/xml", "application/xml", "text/html"):
                    self._fail(current, 12300, f"Invalid Content-Type {answer.content_type!r} from {url}")
                else:
                    self._start_document(current, answer.body, url)

        self._after(lambda: self._fetches.submit(request))

    def _start_document(self, row: Row, text: str, url: str) -> None:
        try:
            parse_twiml(text, url)
        except TwimlError as exc:
            self._fail(row, exc.code, str(exc))
            return
        self._set(row, _doc=text, _doc_url=url, _pc=0, _waiting=None)
        self._run(row)

    # -------------------------------------------------------------------- the interpreter

    def _run(self, row: Row) -> None:
        """Carry out verbs from where the call is, until one has to wait or the document ends."""
        verbs = parse_twiml(row["_doc"], row["_doc_url"])
        while row["status"] == "in-progress":
            pc = row["_pc"]
            if pc >= len(verbs):
                if row.get("_in_wait"):  # the waitUrl's document ended: ask for it again, on the clock
                    token = self._wait(row, "wait-loop")
                    elapsed = self.clock.now() - row["_wait_requested_ts"]
                    self._later(max(0.0, WAIT_LOOP_SECONDS - elapsed), row["sid"], token, self._request_wait_url)
                    return
                self._end(row, "completed", "the document ended")
                return
            verb = verbs[pc]
            self._set(row, _pc=pc + 1)
            if isinstance(verb, (Say, Play)):
                self._prompt(row, verb)
            elif isinstance(verb, Pause):
                if verb.length:
                    self._heard(row, "pause", seconds=verb.length)
                    token = self._wait(row, "pause")
                    self._later(verb.length, row["sid"], token, self._resume)
                    return
            elif isinstance(verb, Gather):
                for prompt in verb.prompts:
                    if isinstance(prompt, Pause):
                        self._heard(row, "pause", seconds=prompt.length)
                    else:
                        self._prompt(row, prompt)
                self._heard(row, "gather", num_digits=verb.num_digits, timeout=verb.timeout)
                token = self._wait(row, "gather")
                self._set(row, _gather={"pc": pc, "digits": ""})
                self._later(verb.timeout, row["sid"], token, self._gather_timed_out)
                if row["_digits"]:  # keys pressed before the Gather listened are not lost
                    buffered = row["_digits"]
                    self._set(row, _digits="")
                    self._digits_in(row, buffered)
                return
            elif isinstance(verb, Redirect):
                self._fetch(row, verb.url, verb.method, {})
                return
            elif isinstance(verb, Hangup):
                self._end(row, "completed", "<Hangup>")
                return
            elif isinstance(verb, Reject):
                self._end(row, "busy" if verb.reason == "busy" else "failed", f"<Reject reason={verb.reason}>")
                return
            elif isinstance(verb, Leave):
                if row.get("_queued"):
                    self._left_queue(row, "leave")
                    return
                continue  # outside a queue, <Leave> does nothing
            elif isinstance(verb, Enqueue):
                self._enqueue(row, verb)
                return
            elif isinstance(verb, DialQueue):
                self._dial_queue(row, verb)
                return

    def _resume(self, row: Row) -> None:
        self._set(row, _waiting=None)
        self._run(row)

    def _prompt(self, row: Row, verb: Say | Play) -> None:
        for _ in range(max(verb.loop, 1)):
            if isinstance(verb, Say):
                self._heard(row, "say", text=verb.text, language=verb.language)
            else:
                self._heard(row, "play", url=verb.url)

    def _gather_verb(self, row: Row) -> Gather:
        verb = parse_twiml(row["_doc"], row["_doc_url"])[row["_gather"]["pc"]]
        assert isinstance(verb, Gather)
        return verb

    def _digits_in(self, row: Row, digits: str) -> None:
        if row.get("_waiting") != "gather":
            self._set(row, _digits=row["_digits"] + digits)
            return
        verb = self._gather_verb(row)
        collected = row["_gather"]["digits"]
        for key in digits:
            if verb.finish_on_key and key == verb.finish_on_key:
                self._gather_done(row, verb, collected, finished_on_key=key)
                return
            collected += key
            if verb.num_digits is not None and len(collected) >= verb.num_digits:
                self._gather_done(row, verb, collected, finished_on_key="")
                return
        self._set(row, _gather={**row["_gather"], "digits": collected})

    def _gather_timed_out(self, row: Row) -> None:
        verb = self._gather_verb(row)
        digits = row["_gather"]["digits"]
        if digits or verb.action_on_empty_result:
            self._gather_done(row, verb, digits, finished_on_key="")
        else:  # no input: no request, on to the verb after the Gather (Twilio's documented behaviour)
            self._heard(row, "gather-timeout")
            self._set(row, _gather=None)
            self._resume(row)

    def _gather_done(self, row: Row, verb: Gather, digits: str, finished_on_key: str) -> None:
        self._heard(row, "digits", digits=digits)
        self._set(row, _gather=None)
        self._fetch(row, verb.action, verb.method, {"Digits": digits, "FinishedOnKey": finished_on_key})

    def _progress(self, row: Row, event: str) -> None:
        """A signed status callback for this call's progress, if the call asked for this event."""
        spec = row.get("_status_callback")
        if not spec or event not in spec["events"]:
            return
        sequence = row.get("_sequence", 0)
        self._set(row, _sequence=sequence + 1)
        status = {"initiated": "initiated", "ringing": "ringing", "answered": "in-progress"}.get(event, row["status"])
        params = {**self._webhook_params(row), "CallStatus": status, "CallbackSource": "call-progress-events",
                  "SequenceNumber": str(sequence), "Timestamp": rfc2822(self.clock.now())}
        if event == "completed":
            duration = int(row["_end_ts"] - row["_start_ts"]) if row["_start_ts"] and row["_end_ts"] else 0
            params.update(CallDuration=str(duration), Duration=str(max(1, -(-duration // 60)) if duration else 0))
        self._report(row, spec["method"], spec["url"], params)

    def _report(self, row: Row, method: str, url: str, params: dict[str, str]) -> None:
        """A signed request whose answer is not read (status callbacks, a finished call's action): in the
        outbox with this unit's change, sent after commit in the call's order (reports.py)."""
        self.state.queue_callback(reports.KIND, reports.due(row, method, url, params), self._reports.send)
