"""Two users on one machine (two XDG_DATA_HOMEs and HOMEs, real processes): each gets their own local TaskRouter,
or a clear message; nobody's `ensure` uses, and nobody's `--stop` stops, another's server (issue 16)."""

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cli_support import CONSOLE_SCRIPT, ROOT

from tutorial_helpers.local_twilio.ensure import stop_running
from tutorial_helpers.local_twilio.instance import INSTANCE_FILE, instance_id, read_instance_id

ENSURE = [sys.executable, "-m", "tutorial_helpers.local_twilio.ensure"]


@dataclass
class User:
    """Someone on this machine: their own HOME and XDG_DATA_HOME, so their own default data dir."""

    name: str
    home: Path
    started: list[int] = field(default_factory=list)  # ports where this user's server was started

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "LOCAL_TASKROUTER_"))}
        return {**env, "HOME": str(self.home), "XDG_DATA_HOME": str(self.home / ".local" / "share")}

    @property
    def data_dir(self) -> Path:
        return self.home / ".local" / "share" / "taskrouter-notebooks" / "local-taskrouter"

    def ensure(self, port: int) -> subprocess.CompletedProcess:
        """What `make lab` runs, as this user."""
        return subprocess.run([*ENSURE, "--port", str(port)], env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=60)

    def stop(self, port: int) -> subprocess.CompletedProcess:
        """What `make stop` runs, as this user."""
        return subprocess.run([*CONSOLE_SCRIPT, "--stop", "--port", str(port)], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(port: int) -> dict:
    return requests.get(f"http://127.0.0.1:{port}/_local/health", timeout=10).json()


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[dict[str, User]]:
    """alice and bob; whatever server either started is stopped at the end, by its owner."""
    users = {name: User(name, tmp_path / name) for name in ("alice", "bob")}
    yield users
    for user in users.values():
        for port in user.started:
            code, _ = stop_running("127.0.0.1", port, data_dir=user.data_dir)
            if code:  # did not stop: kill it, if it is still this user's
                left = health(port)
                if left.get("instance") == read_instance_id(user.data_dir) and isinstance(left.get("pid"), int):
                    os.kill(left["pid"], signal.SIGKILL)


def start(user: User, port: int | None = None) -> int:
    """The user's `make lab` on a free port (or `port`): it must start, or reuse, their own server."""
    port = port or free_port()
    result = user.ensure(port)
    assert result.returncode == 0, result.stderr
    assert f"running at http://127.0.0.1:{port}/v1" in result.stdout
    if port not in user.started:
        user.started.append(port)
    return port


def suggested_port(message: str) -> int:
    return int(re.search(r"make lab LOCAL_TASKROUTER_PORT=(\d+)", message).group(1))


def test_another_users_taskrouter_is_neither_used_nor_stopped(machine):
    alice, bob = machine["alice"], machine["bob"]
    port = start(alice)
    before = health(port)
    assert before["instance"] == read_instance_id(alice.data_dir) and isinstance(before["pid"], int)

    refused = bob.ensure(port)
    assert refused.returncode == 1
    message = refused.stderr
    assert message.startswith(f"The local TaskRouter at http://127.0.0.1:{port} is not yours: it keeps its data in "
                              f"another data dir than yours ({bob.data_dir}; another XDG_DATA_HOME or --data-dir); "
                              "it was neither used nor stopped.")
    other = suggested_port(message)
    assert other != port and f"LOCAL_TASKROUTER_URL=http://127.0.0.1:{other}" in message
    assert "Traceback" not in message
    assert read_instance_id(bob.data_dir) is None  # bob started nothing

    stop = bob.stop(port)
    assert stop.returncode == 1 and "not yours" in stop.stderr and "it was not stopped" in stop.stderr
    assert health(port) == before  # the same process, still alice's


def test_each_user_gets_their_own_server_and_reuses_it(machine):
    alice, bob = machine["alice"], machine["bob"]
    alice_port = start(alice)
    alice_server = health(alice_port)

    bob_port = start(bob)  # on another free port: bob's own
    bob_server = health(bob_port)
    assert bob_server["instance"] == read_instance_id(bob.data_dir) != alice_server["instance"]
    assert bob_server["pid"] != alice_server["pid"]

    start(alice, alice_port)  # reused, not started again
    assert health(alice_port) == alice_server
    assert bob.ensure(alice_port).returncode == 1 and alice.ensure(bob_port).returncode == 1

    stopped = bob.stop(bob_port)
    assert stopped.returncode == 0 and "Stopped the local TaskRouter" in stopped.stdout
    assert health(alice_port) == alice_server


def test_a_restarted_server_keeps_its_instance_id_and_stays_its_owners(machine):
    alice, bob = machine["alice"], machine["bob"]
    port = start(alice)
    first = health(port)
    stopped = alice.stop(port)
    assert stopped.returncode == 0, stopped.stderr

    start(alice, port)  # make lab again: a new process on the same data dir
    second = health(port)
    assert second["pid"] != first["pid"] and second["instance"] == first["instance"]
    assert bob.ensure(port).returncode == 1  # still not bob's


def test_the_instance_id_is_made_once_per_data_dir(tmp_path):
    assert read_instance_id(tmp_path / "data") is None  # reading creates nothing
    first = instance_id(tmp_path / "data")
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert instance_id(tmp_path / "data") == first == read_instance_id(tmp_path / "data")
    assert instance_id(tmp_path / "other") != first
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [INSTANCE_FILE]  # no scratch file left
    assert (tmp_path / "data" / INSTANCE_FILE).stat().st_mode & 0o777 == 0o600  # not readable by other users
