"""IncomingPhoneNumbers: every account's local numbers, bought ones, and what a number's Voice URL is."""

from __future__ import annotations

import re

from ...core.exceptions import Duplicate, InvalidParameter, NotFound
from ...core.state import Row, new_sid
from ...core.validators import E164, valid_method, valid_url
from .base import (
    MAX_FRIENDLY_NAME,
    VoiceBase,
    friendly_phone_number,
)


class NumbersMixin(VoiceBase):
    """The numbers of every account."""

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
                left = next((n for n in free if n not in taken), None)
                if left is None:
                    raise InvalidParameter(f"No local number is left in area code {area_code}")
                number = left
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
            method = params.get(field)
            if method is not None:
                changes[field] = valid_method(method, _wire_name(field))
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


def _wire_name(field: str) -> str:
    return "".join(part.title() for part in field.split("_"))
