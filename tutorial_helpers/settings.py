"""Which TaskRouter the notebooks talk to, and with which credentials.

"local" (the default) needs nothing: our own TaskRouter on 127.0.0.1 with the
account it uses itself (TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN from the
environment when set, else a fixed local account). Its address is
http://127.0.0.1:LOCAL_TASKROUTER_PORT (default 8765; `make lab` passes its
own) unless LOCAL_TASKROUTER_URL names another server on purpose (a workshop
room's, a test's): see Settings.own_local_server. "twilio" needs real credentials and an ngrok authtoken,
read from the environment or a `.env` file, and is checked here before any
notebook cell touches the network. NGROK_PATH (twilio mode, optional) names an
installed ngrok agent, read the same way; so is notebook 05's ALICE_PHONE_NUMBER
(read_setting), which the softphone reads when it is made.

A workshop room's card (local mode): LOCAL_TASKROUTER_URL, TWILIO_ACCOUNT_SID and
TWILIO_AUTH_TOKEN together, all in the environment or all in `.env` (room_card),
is the room's TaskRouter and the attendee's account on it; only then are
credentials taken from `.env` in local mode. CALLBACK_HOST (local mode) is where
the kernel's callback server listens and what its URLs carry (callback_host.py):
127.0.0.1 unless a room's TaskRouter on another machine must reach it; CALLBACK_PORT
(local mode) is its port, any free one unless a firewall opens only one.

One advanced twilio-mode setting is for testing only: TWILIO_API_BASE_URL (e.g.
http://127.0.0.1:8766) sends the SDK's TaskRouter and 2010-04-01 API requests to
a stand-in for Twilio (the local TaskRouter, started with the same credentials)
instead of https://taskrouter.twilio.com and https://api.twilio.com. It is never
needed with real Twilio; everything else (credentials, ngrok tunnel, signature
checks) stays the twilio-mode path.

No other helper reads the environment: where a value comes from (the environment, else .env) is decided
here, once, so a message that says "put it in .env" is true wherever the value is used.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

from tutorial_helpers.callback_host import DEFAULT as CALLBACK_DEFAULT
from tutorial_helpers.callback_host import CallbackHostError, is_loopback
from tutorial_helpers.callback_host import check as check_callback_host
from tutorial_helpers.errors import TutorialError
from tutorial_helpers.local_twilio.defaults import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_HOST,
    DEFAULT_PORT,
    default_credentials,
)

Mode = Literal["local", "twilio"]
MODES: tuple[Mode, ...] = ("local", "twilio")
DEFAULT_LOCAL_BASE_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
TWILIO_TASKROUTER_URL = "https://taskrouter.twilio.com"
TWILIO_REQUIRED = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN")
# A workshop room's card: the room's TaskRouter and the attendee's account on it (room_card).
CARD = ("LOCAL_TASKROUTER_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
# Testing only: where twilio mode's REST requests go instead of Twilio (see the module docstring).
STAND_IN_VARIABLE = "TWILIO_API_BASE_URL"

REPO_ROOT = Path(__file__).resolve().parent.parent
# Every twilio-mode failure ends with the way back.
BACK_TO_LOCAL = (
    "To go back to local mode (no account, no internet): choose local in notebook 00's settings form and restart "
    "the kernel, or set TUTORIAL_MODE=local."
)
_SID_SHAPE = re.compile(r"AC[0-9a-fA-F]{32}")


class SettingsError(TutorialError, ValueError):
    """The settings cannot work; the message says what to change and where."""


@dataclass(frozen=True)
class Settings:
    mode: Mode
    account_sid: str
    auth_token: str = field(repr=False)
    ngrok_authtoken: str | None = field(default=None, repr=False)
    local_base_url: str = DEFAULT_LOCAL_BASE_URL
    # twilio mode only, for testing: a stand-in for Twilio's REST hosts (TWILIO_API_BASE_URL); None means Twilio.
    twilio_base_url: str | None = None
    # twilio mode only: the ngrok agent to run (NGROK_PATH); None lets tunnel.agent_path look for one.
    ngrok_path: str | None = None
    # local mode: the port of the learner's own local TaskRouter, the one `make lab` starts (LOCAL_TASKROUTER_PORT).
    own_port: int = DEFAULT_PORT
    # local mode: where the kernel's callback server listens and what its URLs carry (CALLBACK_HOST, callback_host.py).
    callback_host: str = CALLBACK_DEFAULT
    # local mode: the port the kernel's callback server listens on (CALLBACK_PORT); 0, the default, takes any free
    # one. A room whose attendees' firewalls open one port sets it.
    callback_port: int = 0
    # local mode: the TaskRouter is a workshop room's, from a card (LOCAL_TASKROUTER_URL and the account's SID and
    # token together, see room_card); notebook 00 then checks that the room can reach this kernel.
    room: bool = False

    @property
    def own_local_server(self) -> bool:
        """True when local_base_url is the learner's own local TaskRouter's address: this machine, own_port.

        That is where `make lab` and notebook 00 start the learner's server, so whatever answers there must be
        theirs (environment.ensure_local_taskrouter checks). Any other LOCAL_TASKROUTER_URL was set on purpose:
        a workshop room's server, a second server of theirs, a test's.
        """
        parts = urlsplit(self.local_base_url)
        return parts.hostname is not None and is_loopback(parts.hostname) and parts.port == self.own_port

    @property
    def taskrouter_on_this_machine(self) -> bool:
        """True when the TaskRouter is at a loopback address (twilio mode: never)."""
        host = urlsplit(self.taskrouter_url).hostname
        return self.mode == "local" and host is not None and is_loopback(host)

    @property
    def taskrouter_url(self) -> str:
        """Base URL of the TaskRouter this mode talks to (without /v1, as the SDK wants it)."""
        if self.mode == "local":
            return self.local_base_url
        return self.twilio_base_url or TWILIO_TASKROUTER_URL

    def describe(self) -> str:
        """One line for the learner; safe to display because it holds no token."""
        account = f"account {_abbreviate(self.account_sid)}"
        if self.mode == "local" and self.room:
            return (f"local mode in a workshop room: the room's TaskRouter at {self.local_base_url}, {account} "
                    f"(from your card), callbacks to this machine at {self.callback_host}")
        if self.mode == "local":
            return f"local mode: TaskRouter at {self.local_base_url}, {account}, no tunnel needed"
        if self.twilio_base_url:
            return (f"twilio mode: {account}, callback exposed through ngrok; REST requests go to the stand-in "
                    f"at {self.twilio_base_url} ({STAND_IN_VARIABLE}), not to Twilio")
        return f"twilio mode: {account}, callback exposed through ngrok"


def load_settings(
    mode: str | None = None,
    *,
    env_file: str | Path | None = None,
    prompt: bool | None = None,
) -> Settings:
    """Settings from the argument, the environment and a `.env` file (environment wins).

    In twilio mode, missing values are asked for with getpass when `prompt` is
    true (default: only when someone can answer), otherwise SettingsError
    lists exactly what is missing.
    """
    values = _read_values(env_file)
    chosen = (mode or values.get("TUTORIAL_MODE") or "local").strip().lower()
    if chosen not in MODES:
        raise SettingsError(
            f"Unknown tutorial mode {chosen!r}: use one of {', '.join(map(repr, MODES))} "
            "(argument to load_settings or TUTORIAL_MODE)."
        )
    chosen_url = values.get("LOCAL_TASKROUTER_URL")

    if chosen == "local":
        own_port = _own_port(values.get("LOCAL_TASKROUTER_PORT"))
        base_url = (chosen_url or f"http://{DEFAULT_HOST}:{own_port}").rstrip("/")
        # Exactly what the local TaskRouter itself uses (its CLI defaults): the environment's
        # TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN when set, else the fixed local account. Not the
        # .env file: the server never reads it, so using it here would fail authentication.
        # The one exception is a workshop room's card in .env: that server is the room's, and its
        # account is the one on the card.
        card = room_card(env_file)
        sid, token = (card.account_sid, card.auth_token) if card else default_credentials()
        _check_sid(sid, "TWILIO_ACCOUNT_SID")
        return Settings("local", sid, token, None, base_url, own_port=own_port,
                        callback_host=_callback_host(values.get("CALLBACK_HOST")),
                        callback_port=_callback_port(values.get("CALLBACK_PORT")), room=card is not None)

    found = {name: values.get(name) for name in TWILIO_REQUIRED}
    if prompt is None:
        prompt = _can_prompt()
    if prompt:
        for name, value in found.items():
            found[name] = value or _ask(name)
    missing = [name for name, value in found.items() if not value]
    if missing:
        names = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
        it = "them" if len(missing) > 1 else "it"
        raise SettingsError(
            f"Twilio mode needs {names}. Enter {it} in notebook 00's settings form (it writes {env_path()}), "
            f"or set {it} in the environment or in a .env file (see .env.example). {BACK_TO_LOCAL}"
        )
    _check_sid(found["TWILIO_ACCOUNT_SID"], "TWILIO_ACCOUNT_SID")
    return Settings(
        "twilio",
        found["TWILIO_ACCOUNT_SID"],
        found["TWILIO_AUTH_TOKEN"],
        found["NGROK_AUTHTOKEN"],
        (chosen_url or DEFAULT_LOCAL_BASE_URL).rstrip("/"),
        _stand_in_url(values.get(STAND_IN_VARIABLE)),
        values.get("NGROK_PATH"),
    )


@dataclass(frozen=True)
class Card:
    """A workshop room's card: the room's TaskRouter and the attendee's account on it."""

    url: str
    account_sid: str
    auth_token: str = field(repr=False)
    source: str  # "the environment" or the .env file's path, for messages


def room_card(env_file: str | Path | None = None) -> Card | None:
    """The card's three values (CARD), when the environment holds all three or the .env file does.

    A card is the three values together, from one place: LOCAL_TASKROUTER_URL alone (a test's server, a
    second server of the learner's) keeps the local credentials, and twilio-mode credentials left in .env are
    not mixed with a URL from the environment. In .env it counts only when the environment sets none of the
    three (the environment wins, whole). Twilio mode (TUTORIAL_MODE=twilio) has no card.
    """
    values = _read_values(env_file)
    if (values.get("TUTORIAL_MODE") or "local").strip().lower() != "local":
        return None
    from_environment = _cleaned(os.environ)
    if all(from_environment.get(name) for name in CARD):
        found, source = from_environment, "the environment"
    elif any(from_environment.get(name) for name in CARD):
        return None
    else:
        path = _env_file(env_file)
        found = _cleaned(dotenv_values(path)) if path else {}
        source = str(path)
        if not all(found.get(name) for name in CARD):
            return None
    url, sid, token = (found[name] for name in CARD)
    if sid == DEFAULT_ACCOUNT_SID:
        return None  # the fixed local account is nobody's card
    return Card(url.rstrip("/"), sid, token, source)


def read_setting(name: str, env_file: str | Path | None = None) -> str | None:
    """`name` read as every setting is: the environment, else the .env file; None when unset or a placeholder.

    For a value one helper needs later (notebook 05's ALICE_PHONE_NUMBER), read where the learner was told
    to put it.
    """
    return _read_values(env_file).get(name)


def from_environment(name: str) -> str | None:
    """`name` from this process's environment only, never .env; None when unset or empty.

    For the questions only the environment answers: what JupyterLab's kernels inherit, and which values
    override what the settings form writes to .env.
    """
    return os.environ.get(name) or None


def env_path() -> Path:
    """The .env file these settings are read from, and the one the settings form writes.

    The first that exists of ./.env (the notebook's folder) and the project's
    .env; else the project's (in a checkout), else ./.env.
    """
    candidates = [Path.cwd() / ".env", REPO_ROOT / ".env"]
    for path in candidates:
        if path.is_file():
            return path
    return candidates[1] if (REPO_ROOT / "pyproject.toml").is_file() else candidates[0]


def _read_values(env_file: str | Path | None) -> dict[str, str]:
    """The .env values overlaid with the environment; empty and placeholder values dropped."""
    path = _env_file(env_file)
    from_file: Mapping[str, str | None] = dotenv_values(path) if path else {}
    return _cleaned({**from_file, **os.environ})


def _env_file(env_file: str | Path | None) -> Path | None:
    """The .env file read: `env_file`, else the first of ./.env and the project's that exists."""
    if env_file is not None:
        path = Path(env_file)
        if not path.is_file():
            raise SettingsError(f"env_file {str(path)!r} does not exist.")
        return path
    # The first file found wins whole: a notebook folder's .env replaces the root one.
    return next((p for p in (Path.cwd() / ".env", REPO_ROOT / ".env") if p.is_file()), None)


def _cleaned(values: Mapping[str, str | None]) -> dict[str, str]:
    """Empty and placeholder values dropped, the rest stripped."""
    return {k: v.strip() for k, v in values.items() if v and v.strip() and not _placeholder(v)}


def _callback_host(value: str | None) -> str:
    if not value:
        return CALLBACK_DEFAULT
    try:
        return check_callback_host(value)
    except CallbackHostError as exc:
        raise SettingsError(str(exc)) from None


def _callback_port(value: str | None) -> int:
    if not value:
        return 0
    if value.isascii() and value.isdigit() and 1024 <= int(value) < 65536:
        return int(value)
    raise SettingsError(f"CALLBACK_PORT must be a port number from 1024 to 65535, like 8780 (or unset: any free "
                        f"port); got {value!r}.")


def _own_port(value: str | None) -> int:
    if not value:
        return DEFAULT_PORT
    if value.isdigit() and 0 < int(value) < 65536:
        return int(value)
    raise SettingsError(f"LOCAL_TASKROUTER_PORT must be a port number like 8766; got {value!r}.")


def _stand_in_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
        raise SettingsError(
            f"{STAND_IN_VARIABLE} must be a base URL like http://127.0.0.1:8766 (no path); got {value!r}. "
            f"It is for testing against a stand-in for Twilio: with a real Twilio account, remove it."
        )
    return value.rstrip("/")


def _placeholder(value: str) -> bool:
    # .env.example's values copied unchanged must read as "missing", not as credentials.
    value = value.strip()
    return value.startswith("your_") or (len(value) > 2 and set(value[2:]) == {"x"})


def _check_sid(sid: str, name: str) -> None:
    if not _SID_SHAPE.fullmatch(sid):
        # Show only the shape: the value may be a token pasted into the wrong variable.
        raise SettingsError(
            f"{name} must be 'AC' followed by 32 hex digits (34 characters); got "
            f"{len(sid)} characters starting with {sid[:2]!r}. Copy the Account SID "
            "from the Twilio Console (console.twilio.com)."
        )


def _can_prompt() -> bool:
    # A Jupyter kernel relays getpass to the browser even though stdin is not a tty.
    if "ipykernel" in sys.modules:
        return True
    return sys.stdin is not None and sys.stdin.isatty()


def _ask(name: str) -> str | None:
    try:
        answer = getpass.getpass(f"{name} (not shown; leave empty to skip): ")
    except (EOFError, KeyboardInterrupt, OSError, RuntimeError):
        # No stdin (e.g. a kernel run with allow_stdin=False): fall through to the error.
        return None
    return answer.strip() or None


def _abbreviate(sid: str) -> str:
    return f"{sid[:4]}…{sid[-4:]}" if len(sid) > 8 else sid
