"""Accounts a facilitator creates in one local TaskRouter, for a workshop: one per attendee.

`room_key.py` holds the secret every created account's token is derived from, and `facilitator_token()`;
`models.py` the accounts' rules; `urls.py` and `handlers.py` the control endpoints under /_local/Accounts,
which take the facilitator's token as `Authorization: Bearer ...` (checked in the server's `authenticate`).
"""

from .models import Account, Accounts
from .room_key import RoomKeyError, facilitator_token

__all__ = ["Account", "Accounts", "RoomKeyError", "facilitator_token"]
