"""The room key: one secret file in the data dir from which every created account's token is derived.

SQLite keeps only a hash of each token (a leaked database gives nobody a token), yet callbacks must be signed
with the plain token (X-Twilio-Signature is HMAC-SHA1 keyed by it), after a restart too. So a token is not
random: it is HMAC-SHA256(room key, "account:" + sid), cut to 32 hex digits, and can be derived again whenever
the server starts. The facilitator's token is the same HMAC of "facilitator". The key is 32 random bytes in
`room.key`, mode 0600, never in SQLite and never logged.
"""

import hashlib
import hmac
import logging
import os
import secrets
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

KEY_FILE = "room.key"
KEY_BYTES = 32
TOKEN_HEX_DIGITS = 32  # as long as a Twilio auth token


class RoomKeyError(Exception):
    """The room key is missing, malformed, or not the one the stored accounts were made with."""


def key_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / KEY_FILE


def read_room_key(data_dir: str | Path) -> bytes | None:
    """The room key, or None when there is none yet."""
    path = key_path(data_dir)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:  # not "could not listen": the CLI reports a RoomKeyError as what it is
        raise RoomKeyError(f"{path} cannot be read: {exc.strerror}") from None
    if len(key) != KEY_BYTES:
        raise RoomKeyError(f"{path} is not a room key: {KEY_BYTES} bytes expected, found {len(key)}")
    if os.name == "posix" and path.stat().st_mode & 0o077:
        log.warning("%s can be read by other users of this machine: chmod 600 it", path)
    return key


def room_key(data_dir: str | Path) -> bytes:
    """The room key, made on first need."""
    return read_room_key(data_dir) or _create(key_path(data_dir))


def _create(path: Path) -> bytes:
    """Write a new key where no reader can see it half-written, and never over a key that is already there.

    The bytes go to a temporary file (0600 from the start) that is then linked to its name: a link, unlike a
    rename, fails when the name exists, so when the server and the facilitator's command make the key at the
    same moment, both end up with the same one (a second key would silently void the first one's tokens).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{KEY_FILE}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError:  # a file system without hard links: rename, unless the key appeared meanwhile
            if not path.exists():
                os.rename(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    key = read_room_key(path.parent)
    assert key is not None
    return key


def derive(key: bytes, label: str) -> str:
    """HMAC-SHA256(key, label), as the first 32 hex digits."""
    return hmac.new(key, label.encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX_DIGITS]


def account_token(key: bytes, account_sid: str) -> str:
    return derive(key, "account:" + account_sid)


def token_hash(token: str) -> str:
    """What SQLite keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def facilitator_token(data_dir: str | Path) -> str:
    """The facilitator's token for the local TaskRouter whose data dir this is (the room key is made if need be).

    It is what `Authorization: Bearer ...` must carry on /_local/Accounts. Whoever can read the data dir can
    compute it, which is the point: the facilitator's command runs on the same machine as the server.
    """
    return derive(room_key(data_dir), "facilitator")
