"""The accounts a facilitator creates: their rules, kept in SQLite with the rest, their tokens in memory only.

The account given on the command line (`--account-sid`, `--auth-token`) is not one of them: it is served as
before and never stored. A created account's token is derived from the room key (room_key.py), so the
store keeps only its hash; at start-up every stored account's token is derived again and checked against
that hash, and a mismatch (the key file replaced or lost) stops the start with a message naming the file.

Tokens live in one dict, sid -> token, shared with the TaskRouter and voice backends, which authenticate
requests and sign callbacks with it. It changes in place, at commit, under the state's lock: a new account
works, and a deleted one stops working, as soon as its unit of work is written.
"""

import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..core.clock import iso
from ..core.exceptions import Duplicate, InvalidParameter, NotFound
from ..taskrouter.models import Backend
from ..voice.models import VoiceBackend
from .room_key import RoomKeyError, account_token, derive, key_path, read_room_key, room_key, token_hash

MAX_FRIENDLY_NAME = 64


@dataclass(frozen=True)
class Account:
    sid: str
    friendly_name: str
    date_created: str


def valid_account_name(value: str | None) -> str:
    """1 to 64 printable characters (surrounding spaces are dropped: a card should not hide one)."""
    name = (value or "").strip()
    if not name:
        raise InvalidParameter("FriendlyName is required")
    if len(name) > MAX_FRIENDLY_NAME or not name.isprintable():
        raise InvalidParameter(f"FriendlyName must be 1 to {MAX_FRIENDLY_NAME} printable characters, "
                               f"got {value[:80]!r}{'...' if len(value) > 80 else ''}")
    return name


class Accounts:
    """The created accounts of one local TaskRouter, and the facilitator's token that manages them."""

    def __init__(self, taskrouter: Backend, voice: VoiceBackend | None, data_dir: Path):
        self.taskrouter = taskrouter
        self.voice = voice  # None when only TaskRouter is served (the app factory's own tests)
        self.state = taskrouter.state
        self.tokens = taskrouter.accounts  # sid -> token: what authenticates and signs, shared, changed in place
        self.data_dir = Path(data_dir)
        self._accounts: dict[str, Account] = {}
        self._key: bytes | None = None
        self._load()

    def _load(self) -> None:
        """The stored accounts, each with its token derived again and checked against the stored hash."""
        stored = self.state.store.accounts()
        if not stored:
            return  # no key is needed yet: it is made when the facilitator first needs it
        path, database = key_path(self.data_dir), self.state.store.path
        key = read_room_key(self.data_dir)
        if key is None:
            raise RoomKeyError(
                f"{path} is missing, but the {len(stored)} accounts stored in {database} were made with it: "
                "put the original room.key back (their tokens cannot be recovered without it)")
        wrong = [row["sid"] for row in stored if token_hash(account_token(key, row["sid"])) != row["token_sha256"]]
        if wrong:
            raise RoomKeyError(
                f"{path} is not the room key the accounts stored in {database} were made with "
                f"({len(wrong)} of {len(stored)} tokens do not match, {wrong[0]} first): it was replaced or "
                "changed. Put the original room.key back; the server did not start and changed nothing")
        self._key = key
        for row in stored:
            self._accounts[row["sid"]] = Account(row["sid"], row["friendly_name"], row["date_created"])
            # An account also given on the command line keeps the token given there.
            self.tokens.setdefault(row["sid"], account_token(key, row["sid"]))

    def _room_key(self) -> bytes:
        if self._key is None:
            self._key = room_key(self.data_dir)
        return self._key

    def is_facilitator(self, token: str | None) -> bool:
        """Whether a bearer token is the facilitator's (compared in constant time)."""
        if not token:
            return False
        expected = derive(self._room_key(), "facilitator")
        return hmac.compare_digest(expected.encode(), token.encode())

    # -- the verbs ---------------------------------------------------------------------------------------------

    def created(self) -> list[Account]:
        """The created accounts, oldest first."""
        return list(self._accounts.values())

    def create(self, friendly_name: str | None) -> tuple[Account, str]:
        """A new account and its token, which is shown here only (the store keeps its hash)."""
        name = valid_account_name(friendly_name)
        with self.state.unit():
            if any(a.friendly_name.lower() == name.lower() for a in self._accounts.values()):
                raise Duplicate(f"Account named {name} already exists")
            sid = "AC" + secrets.token_hex(16)
            token = account_token(self._room_key(), sid)
            account = Account(sid, name, iso(self.taskrouter.now()))
            self.state.store_account(sid, {"friendly_name": name, "date_created": account.date_created,
                                           "token_sha256": token_hash(token)})
            if self.voice is not None:
                self.voice.seed_account(sid)  # its local phone numbers, as every account has

            def served() -> None:
                self._accounts[sid] = account
                self.tokens[sid] = token

            self.state.at_commit(served)
        return account, token

    def delete(self, sid: str) -> None:
        """The account and everything it owns, in one unit of work; its token stops working at commit."""
        with self.state.unit():
            if sid not in self._accounts:
                raise NotFound(f"/_local/Accounts/{sid}")
            if self.voice is not None:
                self.voice.drop_account(sid)
            for ws in self.taskrouter.list_workspaces(sid):
                self.taskrouter.delete_workspace(sid, ws["sid"])
            self.state.store_account(sid, None)

            def gone() -> None:
                del self._accounts[sid]
                self.tokens.pop(sid, None)

            self.state.at_commit(gone)
