"""Phone numbers and API keys: their verbs and rules. Rows share the TaskRouter's state and store."""

import re
import secrets

from ..core.clock import Clock
from ..core.exceptions import Duplicate, InUse, InvalidParameter, NotFound
from ..core.limits import QUEUE_MAX_SIZE
from ..core.ports import TaskRouterPort
from ..core.state import Row, State, new_sid
from ..core.timers import Timers
from .calls import CallsMixin
from .instructions import InstructionsMixin
from .validators import E164, valid_method, valid_url

# Fictional numbers (555-0100 to 555-0199 are set aside for fiction): every account gets these.
DEFAULT_PHONE_NUMBERS = ("+12025550100", "+12025550101", "+12025550102")
DEFAULT_QUEUE_SIZE = 100  # Twilio's default MaxSize for a queue
MAX_FRIENDLY_NAME = 64


def friendly_phone_number(number: str) -> str:
    """How Twilio names a North American number: (202) 555-0100."""
    digits = number[2:] if number.startswith("+1") and len(number) == 12 else None
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if digits else number


class VoiceBackend(InstructionsMixin, CallsMixin):
    """IncomingPhoneNumbers, Keys, Queues and Calls of every account, and the voice instructions TaskRouter gives."""

    def __init__(self, state: State, clock: Clock, timers: Timers, accounts: dict[str, str],
                 taskrouter: TaskRouterPort, phone_numbers: tuple[str, ...] = DEFAULT_PHONE_NUMBERS):
        self.state = state
        self.taskrouter = taskrouter  # the TaskRouter Backend, for <Enqueue workflowSid>
        self.clock = clock
        self.timers = timers
        self.accounts = accounts
        for number in phone_numbers:
            if not E164.match(number):
                raise ValueError(f"local phone numbers must be E.164 (+ and digits), got {number!r}")
        self.phone_numbers = phone_numbers
        self._calls_init()

    def _stamp(self) -> dict:
        now = self.clock.now()
        return {"_created_ts": now, "_updated_ts": now}

    def _touch(self, row: Row, **changes: object) -> Row:
        return self.state.update(row, _updated_ts=self.clock.now(), **changes)

    # -------------------------------------------------------------------- phone numbers

    def seed_numbers(self) -> None:
        """An account with no numbers yet gets the local ones (a first start, or a new account)."""
        with self.state.unit():
            for account_sid in self.accounts:
                self.seed_account(account_sid)

    def seed_account(self, account_sid: str) -> None:
        """The local numbers, for an account that has none yet (in the caller's unit of work)."""
        with self.state.unit():
            if not self.state.of(account_sid, "incoming_phone_number"):
                for number in self.phone_numbers:
                    self._insert_number(account_sid, number, None)

    def drop_account(self, account_sid: str) -> None:
        """Everything of a deleted account: its calls still going end first (their timers and webhooks then
        find nothing to do), then its numbers, keys, queues, softphones and calls go."""
        with self.state.unit():
            calls = self.state.of(account_sid, "call")
            for row in sorted(calls.values(), key=lambda r: r["_created_ts"]):
                self._end(row, "canceled" if row["status"] in ("queued", "ringing") else "completed",
                          "the account was deleted")
            for kind in ("call", "softphone", "queue", "key", "incoming_phone_number"):
                for row in list(self.state.of(account_sid, kind).values()):
                    self.state.delete(row)

    def _insert_number(self, account_sid: str, number: str, friendly_name: str | None) -> Row:
        return self.state.insert("incoming_phone_number", {
            "sid": new_sid("PN"),
            "account_sid": account_sid,
            "phone_number": number,
            "friendly_name": friendly_name or friendly_phone_number(number),
            "voice_url": None,
            "voice_method": "POST",
            "voice_fallback_url": None,
            "voice_fallback_method": "POST",
            "status_callback": None,
            "status_callback_method": "POST",
            **self._stamp(),
        })

    def numbers(self, account_sid: str, phone_number: str | None = None,
                friendly_name: str | None = None) -> list[Row]:
        rows = self.state.of(account_sid, "incoming_phone_number").values()
        wanted = re.sub(r"[^\d+]", "", phone_number) if phone_number else None
        return [
            r for r in rows
            if (wanted is None or wanted in r["phone_number"])
            and (friendly_name is None or r["friendly_name"] == friendly_name)
        ]

    def number(self, account_sid: str, sid: str) -> Row:
        row = self.state.rows.get(sid)
        if not row or row["_kind"] != "incoming_phone_number" or row["account_sid"] != account_sid:
            raise NotFound(f"/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json")
        return row

    def number_for(self, phone_number: str, account_sid: str) -> Row | None:
        """The local number a call to `phone_number` from this account reaches: the account's own, else the one
        in any account. Every account gets the same local numbers, so without the first rule a call to
        +12025550100 would run whichever account's Voice URL was made first."""
        for row in self.state.of(account_sid, "incoming_phone_number").values():
            if row["phone_number"] == phone_number:
                return row
        for row in self.state.rows.values():
            if row["_kind"] == "incoming_phone_number" and row["phone_number"] == phone_number:
                return row
        return None

    def create_number(self, account_sid: str, phone_number: str | None, area_code: str | None,
                      **params: str | None) -> Row:
        with self.state.unit():
            self._account_still_there(account_sid)
            if phone_number:
                number = re.sub(r"[\s()\-.]", "", phone_number)
                if not E164.match(number):
                    raise InvalidParameter(f"PhoneNumber must be E.164, like +12025550123, got {phone_number!r}")
            elif area_code:
                if not re.fullmatch(r"[2-9]\d\d", area_code):
                    raise InvalidParameter(f"AreaCode must be three digits, got {area_code!r}")
                taken = {r["phone_number"] for r in self.state.rows.values()
                         if r["_kind"] == "incoming_phone_number"}
                free = (f"+1{area_code}555{n:04d}" for n in range(100, 200))
                number = next((n for n in free if n not in taken), None)
                if number is None:
                    raise InvalidParameter(f"No local number is left in area code {area_code}")
            else:
                raise InvalidParameter("PhoneNumber or AreaCode is required")
            if self.number_for(number, account_sid) is not None:
                raise Duplicate(f"Phone number {number} is already in use")
            row = self._insert_number(account_sid, number, None)
            self._apply_number_params(row, params)
            return dict(row)

    def update_number(self, account_sid: str, sid: str, **params: str | None) -> Row:
        with self.state.unit():
            row = self.number(account_sid, sid)
            self._apply_number_params(row, params)
            return dict(row)

    def _apply_number_params(self, row: Row, params: dict[str, str | None]) -> None:
        changes: dict[str, object] = {}
        for field in ("voice_url", "voice_fallback_url", "status_callback"):
            if params.get(field) is not None:
                changes[field] = valid_url(params[field], _wire_name(field))
        for field in ("voice_method", "voice_fallback_method", "status_callback_method"):
            if params.get(field) is not None:
                changes[field] = valid_method(params[field], _wire_name(field))
        name = params.get("friendly_name")
        if name is not None:
            if len(name) > MAX_FRIENDLY_NAME:
                raise InvalidParameter(f"FriendlyName is longer than {MAX_FRIENDLY_NAME} characters")
            changes["friendly_name"] = name or friendly_phone_number(row["phone_number"])
        if changes:
            self._touch(row, **changes)

    def delete_number(self, account_sid: str, sid: str) -> None:
        with self.state.unit():
            self.state.delete(self.number(account_sid, sid))

    # -------------------------------------------------------------------- queues

    def queues(self, account_sid: str) -> list[Row]:
        return list(self.state.of(account_sid, "queue").values())

    def queue(self, account_sid: str, sid: str) -> Row:
        row = self.state.rows.get(sid)
        if not row or row["_kind"] != "queue" or row["account_sid"] != account_sid:
            raise NotFound(f"/Accounts/{account_sid}/Queues/{sid}.json")
        return row

    def queue_named(self, account_sid: str, name: str) -> Row:
        """The queue with this friendly name, made on first use (what <Enqueue> does on Twilio)."""
        for row in self.state.of(account_sid, "queue").values():
            if row["friendly_name"] == name:
                return row
        return self._insert_queue(account_sid, name, DEFAULT_QUEUE_SIZE)

    def _insert_queue(self, account_sid: str, name: str, max_size: int) -> Row:
        return self.state.insert("queue", {
            "sid": new_sid("QU"), "account_sid": account_sid, "friendly_name": name, "max_size": max_size,
            **self._stamp(),
        })

    def members(self, queue: Row) -> list[Row]:
        """The calls waiting in a queue, the longest waiting first."""
        waiting = [r for r in self.state.of(queue["account_sid"], "call").values()
                   if r.get("_queue_sid") == queue["sid"] and r["status"] == "in-progress" and r.get("_queued")]
        return sorted(waiting, key=lambda r: r["_queue_entered_ts"])

    def create_queue(self, account_sid: str, friendly_name: str | None, max_size: int | None) -> Row:
        with self.state.unit():
            self._account_still_there(account_sid)
            name = _queue_name(friendly_name)
            if any(r["friendly_name"] == name for r in self.state.of(account_sid, "queue").values()):
                raise Duplicate(f"Queue named {name} already exists")
            return dict(self._insert_queue(account_sid, name, _queue_size(max_size, DEFAULT_QUEUE_SIZE)))

    def update_queue(self, account_sid: str, sid: str, friendly_name: str | None, max_size: int | None) -> Row:
        with self.state.unit():
            row = self.queue(account_sid, sid)
            changes: dict[str, object] = {}
            if friendly_name is not None:
                changes["friendly_name"] = _queue_name(friendly_name)
            if max_size is not None:
                changes["max_size"] = _queue_size(max_size, row["max_size"])
            self._touch(row, **changes)
            return dict(row)

    def delete_queue(self, account_sid: str, sid: str) -> None:
        with self.state.unit():
            row = self.queue(account_sid, sid)
            if self.members(row):
                raise InUse(f"Queue {sid} cannot be deleted: calls are waiting in it")
            self.state.delete(row)

    # -------------------------------------------------------------------- API keys

    def create_key(self, account_sid: str, friendly_name: str | None) -> Row:
        """A new API key; its secret is shown in this answer only, as on Twilio."""
        if friendly_name is not None and len(friendly_name) > MAX_FRIENDLY_NAME:
            raise InvalidParameter(f"FriendlyName is longer than {MAX_FRIENDLY_NAME} characters")
        with self.state.unit():
            self._account_still_there(account_sid)
            row = self.state.insert("key", {
                "sid": new_sid("SK"),
                "account_sid": account_sid,
                "friendly_name": friendly_name or None,
                # Kept, not hashed: it is the key that signs and verifies access tokens (HS256).
                "_secret": secrets.token_urlsafe(24),
                **self._stamp(),
            })
            return dict(row)

    def keys(self, account_sid: str) -> list[Row]:
        return list(self.state.of(account_sid, "key").values())

    def key(self, account_sid: str, sid: str) -> Row:
        row = self.state.rows.get(sid)
        if not row or row["_kind"] != "key" or row["account_sid"] != account_sid:
            raise NotFound(f"/Accounts/{account_sid}/Keys/{sid}.json")
        return row

    def update_key(self, account_sid: str, sid: str, friendly_name: str | None) -> Row:
        with self.state.unit():
            row = self.key(account_sid, sid)
            if friendly_name is not None:
                if len(friendly_name) > MAX_FRIENDLY_NAME:
                    raise InvalidParameter(f"FriendlyName is longer than {MAX_FRIENDLY_NAME} characters")
                self._touch(row, friendly_name=friendly_name or None)
            return dict(row)

    def delete_key(self, account_sid: str, sid: str) -> None:
        with self.state.unit():
            self.state.delete(self.key(account_sid, sid))

    def key_secret(self, account_sid: str, sid: str) -> str | None:
        """The secret of an account's key (for verifying what the key signed), or None."""
        row = self.state.rows.get(sid)
        if row and row["_kind"] == "key" and row["account_sid"] == account_sid:
            return row["_secret"]
        return None


def _wire_name(field: str) -> str:
    return "".join(part.title() for part in field.split("_"))


def _queue_name(value: str | None) -> str:
    if value is None or not value.strip():
        raise InvalidParameter("FriendlyName is required")
    if len(value) > MAX_FRIENDLY_NAME:
        raise InvalidParameter(f"FriendlyName is longer than {MAX_FRIENDLY_NAME} characters")
    return value


def _queue_size(value: int | None, default: int) -> int:
    if value is None:
        return default
    return QUEUE_MAX_SIZE.check(value, "MaxSize")
