"""Find the local TaskRouter, or start it in the background: `make lab` and notebook 00 use this.

    python -m tutorial_helpers.local_twilio.ensure --port 8765

Only this user's own server is reused or stopped: the one whose instance id (instance.py) is the one in this
data dir. A local TaskRouter of another user, or of another data dir, on the port is left alone, and the
message says how to pick another port.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from .defaults import DEFAULT_HOST, DEFAULT_PORT, default_data_dir
from .instance import instance_id, is_mine, whose

READY_TIMEOUT = 20.0


class LocalTaskRouterUnavailable(RuntimeError):
    pass


class NotYours(LocalTaskRouterUnavailable):
    """The port has a local TaskRouter of another user (or of another data dir): not used, not stopped."""


@dataclass(frozen=True)
class Answer:
    """What answers at a base URL: nothing, another program, or a local TaskRouter and its /_local/health."""

    health: dict[str, Any] | None = None
    other_program: bool = False


def probe(base_url: str) -> Answer:
    """Ask base_url's /_local/health who is there."""
    try:
        answer = requests.get(f"{base_url}/_local/health", timeout=1)
    except requests.RequestException:
        return Answer()
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.ok and isinstance(body, dict) and body.get("service") == "local-taskrouter":
        return Answer(health=body)
    return Answer(other_program=True)


def is_running(base_url: str) -> bool:
    """True when a local TaskRouter (not some other program) answers at base_url, whoever's it is."""
    return probe(base_url).health is not None


def another_port(host: str, port: int) -> str:
    """How to use another port, with one that is free right now, for `make lab` and for notebooks."""
    free = _free_port_after(host, port)
    return (f"Use another port: `make lab LOCAL_TASKROUTER_PORT={free}` (and `make stop LOCAL_TASKROUTER_PORT={free}` "
            f"to stop it); for notebooks started another way, set LOCAL_TASKROUTER_URL=http://127.0.0.1:{free} in the "
            "environment or .env, then restart the kernel.")


def not_yours(host: str, port: int, health: dict[str, Any], data_dir: str | Path) -> str:
    """The message for a local TaskRouter on host:port that is not this data dir's."""
    base_url = f"http://{host}:{port}"
    if "instance" not in health:
        return (f"The local TaskRouter at {base_url} is from an older version of this project and does not say "
                f"whose it is, so it was not used. If it is yours, stop it (`make stop`, or `local-taskrouter --stop "
                f"--port {port}`) and start again. If not, leave it: {another_port(host, port)}")
    return (f"The local TaskRouter at {base_url} {whose(health, data_dir)}; it was neither used nor stopped. "
            f"{another_port(host, port)}")


def _free_port_after(host: str, port: int) -> int:
    for candidate in range(port + 1, min(port + 100, 65536)):
        with socket.socket() as probe_socket:
            try:
                probe_socket.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return port + 1


def ensure_running(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, data_dir: str | Path | None = None
) -> str:
    """Return the base URL of this data dir's local TaskRouter, starting it if nothing answers on the port.

    Raises NotYours when a local TaskRouter of another data dir answers there, LocalTaskRouterUnavailable when
    another program holds the port or the server does not start.
    """
    base_url = f"http://{host}:{port}"
    data_dir = Path(data_dir or default_data_dir())
    found = probe(base_url)
    if found.health is not None:
        if is_mine(found.health, data_dir):
            return base_url
        raise NotYours(not_yours(host, port, found.health, data_dir))
    if found.other_program:
        raise LocalTaskRouterUnavailable(
            f"Another program (not a local TaskRouter) answers at {base_url}. {another_port(host, port)}")
    # Created before the server starts (it loads the same file), so its health can be told from a stranger's.
    mine = instance_id(data_dir)
    log_path = data_dir / "server.log"
    with open(log_path, "ab") as log:
        # A new session: the server outlives the notebook kernel or make target that started it.
        process = subprocess.Popen(
            [sys.executable, "-m", "tutorial_helpers.local_twilio", "--host", host, "--port", str(port),
             "--data-dir", str(data_dir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        found = probe(base_url)
        if found.health is not None and found.health.get("instance") == mine:
            return base_url
        if process.poll() is not None:
            if found.health is not None:  # someone else's server took the port first
                raise NotYours(not_yours(host, port, found.health, data_dir))
            tail = log_path.read_text(errors="replace")[-800:]
            raise LocalTaskRouterUnavailable(
                f"the local TaskRouter could not start on {host}:{port} (is the port taken by another "
                f"program?). {another_port(host, port)} Its log ({log_path}) ends with:\n{tail}"
            )
        time.sleep(0.1)
    raise LocalTaskRouterUnavailable(f"the local TaskRouter did not answer on {base_url} within {READY_TIMEOUT:g} s")


def stop_running(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, timeout: float = 15.0, data_dir: str | Path | None = None
) -> tuple[int, str]:
    """Stop this data dir's standalone local TaskRouter at host:port (SIGTERM: it finishes and closes cleanly).

    Returns (exit code, one line for the user). Its data dir is kept. Another data dir's server is never
    stopped, even when the OS would let us (another data dir of the same user).
    """
    base_url = f"http://{host}:{port}"
    found = probe(base_url)
    if found.other_program:
        return 1, f"{base_url} is not a local TaskRouter; nothing stopped."
    health = found.health
    if health is None:
        return 0, f"No local TaskRouter is running at {base_url}; nothing to stop."
    pid = health.get("pid")
    if not isinstance(pid, int):
        return 1, (f"The local TaskRouter at {base_url} runs inside another program (a test or a notebook "
                   "kernel); stop that program instead.")
    data_dir = Path(data_dir or default_data_dir())
    # A server that reports no instance id is from before ids existed: the OS still refuses another user's.
    if "instance" in health and not is_mine(health, data_dir):
        return 1, f"The local TaskRouter at {base_url} {whose(health, data_dir)}; it was not stopped."
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0, f"The local TaskRouter at {base_url} has just stopped."
    except PermissionError:
        return 1, f"The local TaskRouter at {base_url} (pid {pid}) belongs to another user; it was not stopped."
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = probe(base_url).health
        gone = now is None or now.get("instance") != health.get("instance") or now.get("pid") != pid
        # Not answering is not yet stopped: the process still closes its database (and removes the WAL file)
        # after its last answer, and whoever deletes the data dir next must not race with that.
        if gone and not _alive(pid):
            return 0, f"Stopped the local TaskRouter at {base_url} (its data is kept; `make lab` starts it again)."
        time.sleep(0.1)
    return 1, f"The local TaskRouter at {base_url} (pid {pid}) did not stop within {timeout:g} s."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now has the number: ours is gone
        return False
    try:
        # A zombie has finished (its parent, a test or a shell, has not read its exit status yet).
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (macOS): kill -0 is all there is
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start the local TaskRouter unless it is already running.")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    try:
        url = ensure_running(args.host, args.port, args.data_dir)
    except LocalTaskRouterUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Local TaskRouter running at {url}/v1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
