"""The room's local TaskRouter: where it keeps its data, the address attendees use, and its accounts.

The room has a data dir of its own ("workshop", beside the user's usual one): a facilitator who also follows
the notebooks keeps their own workspace out of the room's, and `clean` can delete the room's data without
touching theirs. The room's host, port and cards directory are recorded there (workshop.json), so `status`,
`stop` and `clean` find the room without being told again.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ..callback_host import is_loopback, url_host
from ..callback_host import lan_address as network_address
from ..errors import TutorialError
from ..local_twilio.accounts import facilitator_token
from ..local_twilio.defaults import DEFAULT_HOST, DEFAULT_PORT, default_data_dir
from ..local_twilio.ensure import ensure_running, probe
from ..local_twilio.instance import INSTANCE_FILE, is_mine, whose
from .cards import Card

RECORD = "workshop.json"
ACCOUNTS = "/_local/Accounts"
BOARD = "/_local/Board"
MAX_ATTENDEES = 500


class RoomError(TutorialError, RuntimeError):
    """Something the facilitator must act on, said in words."""


def workshop_data_dir() -> Path:
    """The room's default data dir: beside the user's own local TaskRouter's, never the same."""
    return default_data_dir().parent / "workshop"


def is_wildcard(host: str) -> bool:
    return host in ("0.0.0.0", "::", "")


def lan_address() -> str | None:
    """This machine's address on its network (callback_host.lan_address, found without the internet), or None
    when it has none but loopback: a card must not send attendees to their own machine."""
    found = network_address()
    return None if is_loopback(found) else found


def local_url(host: str, port: int) -> str:
    """The room's URL as seen from this machine (a wildcard bind answers on loopback)."""
    return f"http://{'127.0.0.1' if is_wildcard(host) else url_host(host)}:{port}"


def advertised_url(host: str, port: int, advertise: str | None) -> str:
    """The LOCAL_TASKROUTER_URL on the cards: what attendees' machines must use."""
    if advertise:
        return advertise.rstrip("/") if "://" in advertise else f"http://{url_host(advertise)}:{port}"
    if is_wildcard(host):
        found = lan_address()
        if found is None:
            raise RoomError("could not find this machine's address on the network (is it connected?); "
                            "pass --advertise ADDRESS (the address attendees reach this machine at)")
        return f"http://{found}:{port}"
    return f"http://{url_host(host)}:{port}"


@dataclass(frozen=True)
class Record:
    """What `start` remembers in the room's data dir, for `status`, `stop` and `clean`."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    advertise: str | None = None  # --advertise as given, if it was
    out: str | None = None

    @classmethod
    def read(cls, data_dir: Path) -> Record | None:
        try:
            raw = json.loads((data_dir / RECORD).read_text())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None
        return cls(str(raw.get("host", DEFAULT_HOST)), int(raw.get("port", DEFAULT_PORT)),
                   raw.get("advertise"), raw.get("out"))

    def write(self, data_dir: Path) -> None:
        (data_dir / RECORD).write_text(json.dumps(self.__dict__, indent=2) + "\n")


def looks_like_room(data_dir: Path) -> bool:
    """True when data_dir holds a local TaskRouter's data: `clean` deletes nothing else (not a mistyped $HOME)."""
    return any((data_dir / name).exists() for name in (INSTANCE_FILE, RECORD, "room.key", "taskrouter.sqlite3"))


def start_server(host: str, port: int, data_dir: Path) -> str:
    """Start the room's server, or reuse it when it already runs; its URL from this machine.

    A server of another data dir on the port (the facilitator's own `make lab` one, another user's) is
    neither used nor stopped: the room must not hand out accounts in someone's own workspace's server.
    """
    url = local_url(host, port)
    found = probe(url)
    if found.health is not None and not is_mine(found.health, data_dir):
        raise RoomError(
            f"--port {port}: the local TaskRouter at {url} {whose(found.health, data_dir)}. If it is your own "
            f"`make lab` one, stop it (`make stop`) or give the room another port (--port {free_port(port)}, "
            f"or `make workshop PORT={free_port(port)}`)")
    if found.other_program:
        raise RoomError(f"--port {port}: another program (not a local TaskRouter) answers at {url}; "
                        f"give the room another port (--port {free_port(port)})")
    data_dir.mkdir(parents=True, exist_ok=True)
    ensure_running(host, port, data_dir)  # raises with its own message if the port is taken meanwhile
    return url


def free_port(after: int) -> int:
    for candidate in range(after + 1, min(after + 100, 65536)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    return after + 1


class Facilitator:
    """The room's /_local/Accounts, with the facilitator's token computed from the room's data dir."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self.token = facilitator_token(data_dir)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.http.request(method, self.url + path, timeout=30, **kwargs)
        if not response.ok:
            raise RoomError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        return response

    def accounts(self) -> list[dict[str, Any]]:
        """The room's accounts, oldest first (no tokens: those were shown once, at creation)."""
        return self._call("GET", ACCOUNTS).json()["accounts"]

    def create(self, name: str, url: str) -> Card:
        made = self._call("POST", ACCOUNTS, data={"FriendlyName": name}).json()
        return Card(made["friendly_name"], url, made["sid"], made["auth_token"])

    def delete(self, sid: str) -> None:
        self._call("DELETE", f"{ACCOUNTS}/{sid}")

    def close(self) -> None:
        self.http.close()
