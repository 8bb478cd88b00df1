"""API Keys: the SID and secret a worker page's token is signed with; the secret is shown once."""

from __future__ import annotations

import secrets

from ...core.exceptions import InvalidParameter, NotFound
from ...core.state import Row, new_sid
from .base import (
    MAX_FRIENDLY_NAME,
    VoiceBase,
)


class KeysMixin(VoiceBase):
    """The API keys of every account."""

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
