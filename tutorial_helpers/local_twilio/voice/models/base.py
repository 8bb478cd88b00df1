"""What every part of the voice side shares: its declared state, the calls' constants, stamps.

`VoiceBase` declares the state the mixins work on, with its types; the resource modules are
mixins over it and `VoiceBackend` (models/__init__.py) composes them. The voice side's rows live in
the same State and units of work as TaskRouter's; TaskRouter itself is reached only through
`taskrouter: TaskRouterPort` (core/ports.py).
"""

from __future__ import annotations

from abc import abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ...core.clock import Clock
from ...core.exceptions import Unauthenticated
from ...core.ports import TaskRouterPort
from ...core.state import Row, State
from ...core.timers import Timers
from ...core.validators import E164
from .. import reports
from ..twiml import DialQueue, Enqueue

APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
WEBHOOK_DEADLINE = 15.0  # Twilio's default timeout for a voice webhook
RING_TIMEOUT = 60  # an unanswered call rings this long (Calls API `Timeout`, default 60)
DIGIT_WAIT = 0.5  # a `w` in SendDigits
# A waitUrl document is requested again when it ends; <Say> takes no time on the local clock, so at most
# this often (the time a short announcement or a hold-music track would take).
WAIT_LOOP_SECONDS = 10
ENDED = ("completed", "busy", "failed", "no-answer", "canceled")

# Fictional numbers (555-0100 to 555-0199 are set aside for fiction): every account gets these.
DEFAULT_PHONE_NUMBERS = ("+12025550100", "+12025550101", "+12025550102")
DEFAULT_QUEUE_SIZE = 100  # Twilio's default MaxSize for a queue
MAX_FRIENDLY_NAME = 64


def friendly_phone_number(number: str) -> str:
    """How Twilio names a North American number: (202) 555-0100."""
    digits = number[2:] if number.startswith("+1") and len(number) == 12 else None
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if digits else number


class VoiceBase:
    """The shared state of the voice side, and the helpers every voice module uses."""

    state: State
    clock: Clock
    timers: Timers
    accounts: dict[str, str]
    taskrouter: TaskRouterPort  # for <Enqueue workflowSid> and the calls of TaskRouter's voice instructions
    phone_numbers: tuple[str, ...]
    _fetches: ThreadPoolExecutor  # Voice URL and action requests, off the state lock
    _reports: reports.Reports  # status callbacks and Enqueue actions, through the outbox

    # What one voice module calls of another, declared with its real signature so that each module is
    # type-checked on its own (as TaskRouter's BackendBase does): for the type checker only, abstract, so an
    # incompatible definition or a VoiceBackend without one is an error, and at run time every call reaches
    # the one implementation through VoiceBackend's MRO.
    if TYPE_CHECKING:
        # numbers.py
        @abstractmethod
        def number_for(self, phone_number: str, account_sid: str) -> Row | None: ...

        # queues.py
        @abstractmethod
        def queue_named(self, account_sid: str, name: str) -> Row: ...
        @abstractmethod
        def members(self, queue: Row) -> list[Row]: ...
        @abstractmethod
        def _enqueue(self, row: Row, verb: Enqueue) -> None: ...
        @abstractmethod
        def _request_wait_url(self, row: Row) -> None: ...
        @abstractmethod
        def _left_queue(self, row: Row, result: str) -> None: ...
        @abstractmethod
        def _queue_result(self, row: Row, result: str) -> dict[str, str]: ...
        @abstractmethod
        def _tell_action(self, row: Row, result: str) -> None: ...

        # calls.py
        @abstractmethod
        def call(self, account_sid: str, sid: str) -> Row: ...
        @abstractmethod
        def _insert_call(self, account_sid: str, to: str, from_: str, direction: str, status: str,
                         phone_number_sid: str | None = None) -> Row: ...
        @abstractmethod
        def _end(self, row: Row, status: str, why: str) -> None: ...
        @abstractmethod
        def _fail(self, row: Row, code: int, why: str) -> None: ...
        @abstractmethod
        def _webhook_params(self, row: Row) -> dict[str, str]: ...
        @abstractmethod
        def _fetch(self, row: Row, url: str, method: str, extra: dict[str, str]) -> None: ...
        @abstractmethod
        def _run(self, row: Row) -> None: ...
        @abstractmethod
        def _resume(self, row: Row) -> None: ...
        @abstractmethod
        def _progress(self, row: Row, event: str) -> None: ...
        @abstractmethod
        def _report(self, row: Row, method: str, url: str, params: dict[str, str]) -> None: ...

        # worker_phone.py
        @abstractmethod
        def _dial_queue(self, row: Row, verb: DialQueue) -> None: ...
        @abstractmethod
        def _leg_over(self, row: Row, was: str) -> None: ...

    def __init__(self, state: State, clock: Clock, timers: Timers, accounts: dict[str, str],
                 taskrouter: TaskRouterPort, phone_numbers: tuple[str, ...] = DEFAULT_PHONE_NUMBERS):
        self.state = state
        self.taskrouter = taskrouter
        self.clock = clock
        self.timers = timers
        self.accounts = accounts
        for number in phone_numbers:
            if not E164.match(number):
                raise ValueError(f"local phone numbers must be E.164 (+ and digits), got {number!r}")
        self.phone_numbers = phone_numbers
        self._fetches = ThreadPoolExecutor(max_workers=4, thread_name_prefix="voice-webhook")
        self._reports = reports.Reports(self.state.store, self.accounts, WEBHOOK_DEADLINE)

    def _stamp(self) -> dict:
        now = self.clock.now()
        return {"_created_ts": now, "_updated_ts": now}

    def _touch(self, row: Row, **changes: object) -> Row:
        return self.state.update(row, _updated_ts=self.clock.now(), **changes)

    def _account_still_there(self, account_sid: str) -> None:
        """Inside a create's unit of work: an account deleted (a room's) after the request was authenticated
        gets a 401, and nothing is left behind that belongs to an account that is gone."""
        if account_sid not in self.accounts:
            raise Unauthenticated()

    # -------------------------------------------------------------------- a call's row

    def _set(self, row: Row, **changes: Any) -> None:
        self.state.update(row, _updated_ts=self.clock.now(), **changes)

    def _heard(self, row: Row, what: str, **details: Any) -> None:
        entry = {"at": round(self.clock.now(), 3), "what": what, **details}
        self._set(row, _transcript=[*row["_transcript"], entry])

    def _after(self, callback: Any) -> None:
        self.state.after_commit(callback)

    def _later(self, seconds: float, call_sid: str, token: int, callback: Any) -> None:
        """Run callback(row) in a unit of work after `seconds` on the clock, if the call still waits for it."""
        due = self.clock.now() + seconds

        def fire() -> None:
            with self.state.unit():
                row = self.state.rows.get(call_sid)
                if row is not None and row["status"] == "in-progress" and row.get("_wait_token") == token:
                    callback(row)

        self._after(lambda: self.timers.schedule(due, fire))

    def _wait(self, row: Row, what: str) -> int:
        token = row.get("_wait_token", 0) + 1
        self._set(row, _waiting=what, _wait_token=token)
        return token
