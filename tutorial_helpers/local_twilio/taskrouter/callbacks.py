"""Signed assignment and event callbacks, sent off the request path.

Each workspace gets its own small thread pools, so a slow or dead callback
server delays only that workspace's callbacks, never the API or another
workspace. Problems with an answer are recorded as alerts (Twilio's Monitor
alerts, with Twilio's error codes), never raised.

Every callback comes from the store's outbox (written with the change that
made it due) and is marked done there once it is settled: delivered, or
finally failed. `resume()` at start-up sends what a killed process left due,
in order, except an assignment callback whose reservation is no longer
pending (accepted, rejected, or timed out meanwhile), which Twilio would not
send either.
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any

from ..core.exceptions import InvalidParameter, TwilioError
from ..core.state import Row
from ..core.webhooks import Answer, TooSlow, Unreachable, send
from .instructions import BASIC, VOICE, from_callback
from .models import Backend

log = logging.getLogger(__name__)

ASSIGNMENT_DEADLINE = 5.0
EVENT_DEADLINE = 15.0

# Twilio's codes for what can be wrong with a callback's answer.
HTTP_RETRIEVAL_FAILURE = 11200
WRONG_CONTENT_TYPE = 40000
NOT_JSON = 40001
NO_INSTRUCTION = 40005
UNKNOWN_INSTRUCTION = 55555


class AccountGone(Exception):
    """The callback's account was deleted (its workspace with it) after the callback was due: nobody can sign it,
    and nobody is left to hear it."""


class CallbackProblem(Exception):
    def __init__(self, code: int, text: str, retry_fallback: bool = False):
        super().__init__(text)
        self.code = code
        self.text = text
        self.retry_fallback = retry_fallback


def camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def event_params(ws: Row, event: Row) -> dict[str, str]:
    params = {
        "EventType": event["event_type"],
        "AccountSid": ws["account_sid"],
        "WorkspaceSid": ws["sid"],
        "WorkspaceName": ws["friendly_name"],
        "EventDescription": event["description"],
        "ResourceType": event["resource_type"],
        "ResourceSid": event["resource_sid"],
        "Sid": event["sid"],
        "Timestamp": str(event["event_date_ms"] // 1000),
        "TimestampMs": str(event["event_date_ms"]),
    }
    for key, value in event["event_data"].items():
        if value is None:
            continue
        params.setdefault(camel(key), value if isinstance(value, str) else json.dumps(value))
    return params


def interpret(status: int, content_type: str, body: str) -> dict[str, Any] | None:
    """Read an assignment callback's answer: an instruction, None for 'decide later', or a problem."""
    if not 200 <= status < 300:
        raise CallbackProblem(
            HTTP_RETRIEVAL_FAILURE, f"assignment callback answered HTTP {status}", retry_fallback=True
        )
    if not body.strip():
        return None
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise CallbackProblem(
            WRONG_CONTENT_TYPE,
            f"assignment callback answered Content-Type {content_type or '(none)'!r}; "
            "an instruction must be sent as application/json",
        )
    try:
        answer = json.loads(body)
    except ValueError:
        raise CallbackProblem(NOT_JSON, "assignment callback body is not valid JSON") from None
    if not isinstance(answer, dict):
        raise CallbackProblem(NOT_JSON, "assignment callback body is not a JSON object")
    if not answer:
        return None
    instruction = answer.get("instruction")
    if instruction is None:
        raise CallbackProblem(NO_INSTRUCTION, "assignment callback JSON has no 'instruction'")
    if instruction not in BASIC + VOICE:
        raise CallbackProblem(UNKNOWN_INSTRUCTION, f"unknown instruction {instruction!r}")
    return answer


class Dispatcher:
    def __init__(self, backend: Backend):
        self.backend = backend
        self._pools: dict[tuple[str, str], ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._outstanding: set[Future] = set()

    def _pool(self, ws_sid: str, purpose: str) -> ThreadPoolExecutor | None:
        with self._lock:
            if self._closed:
                return None
            key = (ws_sid, purpose)
            pool = self._pools.get(key)
            if pool is None:
                # Events go one at a time so an app sees them in order.
                workers = 1 if purpose == "event" else 8
                pool = ThreadPoolExecutor(workers, thread_name_prefix=f"taskrouter-{purpose}")
                self._pools[key] = pool
            return pool

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)

    def _submit(self, pool: ThreadPoolExecutor, fn: Callable[..., None], *args: Any) -> None:
        future = pool.submit(fn, *args)
        with self._lock:
            self._outstanding.add(future)
        future.add_done_callback(self._finished)

    def _finished(self, future: Future) -> None:
        with self._lock:
            self._outstanding.discard(future)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every callback sent so far has been answered and acted on.

        Callbacks run off the request path, so without this a caller cannot tell "the answer
        was {} and nothing happened" from "the answer has not been read yet". A callback that
        answers by making more (an accept that rescinds, events) is waited for too.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._outstanding)
            remaining = deadline - time.monotonic()
            if not pending:
                return True
            if remaining <= 0:
                return False
            wait_futures(pending, timeout=remaining)

    def _post(self, account_sid: str, url: str, params: dict[str, str], deadline: float) -> Answer:
        """POST a signed callback; the whole answer must arrive within `deadline` (webhooks.send)."""
        token = self.backend.accounts.get(account_sid)
        if token is None:
            raise AccountGone(account_sid)
        return send("POST", url, params, token, deadline)

    # -- assignment callbacks ---------------------------------------------------------

    def resume(self) -> int:
        """Send the callbacks a previous process left due; returns how many were still worth sending."""
        sent = 0
        for outbox_id, kind, due in self.backend.state.store.outbox(("assignment", "event")):
            if kind == "assignment":
                res = self.backend.state.rows.get(due["reservation"]["sid"])
                if res is None or res["reservation_status"] != "pending" or (
                        res.get("_timeout_at") is not None and res["_timeout_at"] <= self.backend.now()):
                    self.backend.state.store.outbox_done(outbox_id)
                    continue
                self.assignment(due["workflow"], due["reservation"], due["params"], outbox_id)
            else:
                self.event(due["workspace"], due["event"], outbox_id)
            sent += 1
        return sent

    def _settled(self, outbox_id: int | None) -> None:
        try:
            self.backend.state.store.outbox_done(outbox_id)
        except Exception:  # the store closed under us at shutdown: it is sent again at the next start
            log.debug("outbox %s not marked done", outbox_id)

    def assignment(self, workflow: Row, reservation: Row, params: dict[str, str],
                   outbox_id: int | None = None) -> None:
        pool = self._pool(workflow["workspace_sid"], "assignment")
        if pool is not None:
            self._submit(pool, self._deliver_assignment, workflow, reservation, params, outbox_id)

    def _deliver_assignment(self, workflow: Row, reservation: Row, params: dict[str, str],
                            outbox_id: int | None = None) -> None:
        try:
            self._try_assignment(workflow, reservation, params)
        except AccountGone as exc:
            log.info("assignment callback for %s not sent: account %s was deleted", reservation["sid"], exc)
        except Exception:  # never lose the pool thread; the reservation simply stays pending
            log.exception("assignment callback for %s failed", reservation["sid"])
        self._settled(outbox_id)

    def _try_assignment(self, workflow: Row, reservation: Row, params: dict[str, str]) -> None:
        urls = [workflow["assignment_callback_url"], workflow["fallback_assignment_callback_url"]]
        for url in [u for u in urls if u]:
            status, ctype, body = 0, "", ""
            try:
                status, ctype, body = self._post(params["AccountSid"], url, params, ASSIGNMENT_DEADLINE)
                answer = interpret(status, ctype, body)
            except TooSlow:
                problem = CallbackProblem(
                    HTTP_RETRIEVAL_FAILURE,
                    f"assignment callback did not answer within {ASSIGNMENT_DEADLINE:g} seconds",
                    retry_fallback=True,
                )
            except Unreachable as exc:
                problem = CallbackProblem(
                    HTTP_RETRIEVAL_FAILURE,
                    f"assignment callback could not be reached: {exc}",
                    retry_fallback=True,
                )
            except CallbackProblem as exc:
                problem = exc
            else:
                if answer is not None:
                    self._apply(params, reservation, url, answer, status, body)
                return
            self.backend.record_alert(
                params["AccountSid"], params["WorkspaceSid"], problem.code, problem.text,
                url, reservation["sid"], status, body,
            )
            if not problem.retry_fallback:
                return

    def _apply(self, params: dict, reservation: Row, url: str, answer: dict, status: int,
               body: str) -> None:
        code = UNKNOWN_INSTRUCTION
        try:
            outcome = self.backend.apply_instruction(
                params["AccountSid"], params["WorkspaceSid"], reservation["sid"], from_callback(answer)
            )
        except TwilioError as exc:
            # A voice instruction's refusal has its own code (40130 bad post-work activity, 40132 bad from, ...);
            # a bad parameter of accept or reject is an invalid instruction (55555).
            if not isinstance(exc, InvalidParameter):
                code = exc.code
            outcome = f"instruction refused: {exc.message}"
        except Exception as exc:
            log.exception("instruction for %s failed", reservation["sid"])
            outcome = f"instruction refused: {exc}"
        if outcome.startswith(("instruction refused", "reservation")):
            self.backend.record_alert(
                params["AccountSid"], params["WorkspaceSid"], code,
                f"instruction {answer.get('instruction')!r} not carried out: {outcome}",
                url, reservation["sid"], status, body,
            )

    # -- event callbacks -----------------------------------------------------------

    def event(self, ws: Row, event: Row, outbox_id: int | None = None) -> None:
        pool = self._pool(ws["sid"], "event")
        if pool is not None:
            self._submit(pool, self._deliver_event, ws, event, outbox_id)

    def _deliver_event(self, ws: Row, event: Row, outbox_id: int | None = None) -> None:
        try:
            self._try_event(ws, event)
        except AccountGone as exc:
            log.info("event callback %s not sent: account %s was deleted", event["sid"], exc)
        finally:
            self._settled(outbox_id)

    def _try_event(self, ws: Row, event: Row) -> None:
        url = ws["event_callback_url"]
        try:
            status = self._post(ws["account_sid"], url, event_params(ws, event), EVENT_DEADLINE).status
            if not 200 <= status < 300:
                raise CallbackProblem(HTTP_RETRIEVAL_FAILURE, f"event callback answered HTTP {status}")
        except (Unreachable, CallbackProblem) as exc:
            text = exc.text if isinstance(exc, CallbackProblem) else f"event callback could not be reached: {exc}"
            try:
                self.backend.record_alert(
                    ws["account_sid"], ws["sid"], HTTP_RETRIEVAL_FAILURE, text, url,
                    event["resource_sid"], 0, "",
                )
            except Exception:
                log.exception("could not record an alert")
