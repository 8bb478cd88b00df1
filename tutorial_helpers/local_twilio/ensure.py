"""Find the local TaskRouter, or start it in the background: `make lab` and notebook 00 use this.

    python -m tutorial_helpers.local_twilio.ensure --port 8765
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from .defaults import DEFAULT_HOST, DEFAULT_PORT, default_data_dir

READY_TIMEOUT = 20.0


class LocalTaskRouterUnavailable(RuntimeError):
    pass


def is_running(base_url: str) -> bool:
    """True when a local TaskRouter (not some other program) answers at base_url."""
    try:
        answer = requests.get(f"{base_url}/_local/health", timeout=1)
    except requests.RequestException:
        return False
    try:
        return answer.ok and answer.json().get("service") == "local-taskrouter"
    except ValueError:
        return False


def ensure_running(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, data_dir: str | Path | None = None
) -> str:
    """Return the base URL of a running local TaskRouter, starting one if none answers."""
    base_url = f"http://{host}:{port}"
    if is_running(base_url):
        return base_url
    data_dir = Path(data_dir or default_data_dir())
    data_dir.mkdir(parents=True, exist_ok=True)
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
        if is_running(base_url):
            return base_url
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-800:]
            raise LocalTaskRouterUnavailable(
                f"the local TaskRouter could not start on {host}:{port} (is the port taken by another "
                f"program?). Its log ({log_path}) ends with:\n{tail}"
            )
        time.sleep(0.1)
    raise LocalTaskRouterUnavailable(f"the local TaskRouter did not answer on {base_url} within {READY_TIMEOUT:g} s")


def stop_running(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, timeout: float = 15.0) -> tuple[int, str]:
    """Stop the standalone local TaskRouter at host:port (SIGTERM: it finishes and closes cleanly).

    Returns (exit code, one line for the user). Its data dir is kept.
    """
    base_url = f"http://{host}:{port}"
    try:
        health = requests.get(f"{base_url}/_local/health", timeout=2).json()
    except (requests.RequestException, ValueError):
        return 0, f"No local TaskRouter is running at {base_url}; nothing to stop."
    if health.get("service") != "local-taskrouter":
        return 1, f"{base_url} is not a local TaskRouter; nothing stopped."
    pid = health.get("pid")
    if not isinstance(pid, int):
        return 1, (f"The local TaskRouter at {base_url} runs inside another program (a test or a notebook "
                   "kernel); stop that program instead.")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0, f"The local TaskRouter at {base_url} has just stopped."
    except PermissionError:
        return 1, f"The local TaskRouter at {base_url} (pid {pid}) belongs to another user; it was not stopped."
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(base_url):
            return 0, f"Stopped the local TaskRouter at {base_url} (its data is kept; `make lab` starts it again)."
        time.sleep(0.1)
    return 1, f"The local TaskRouter at {base_url} (pid {pid}) did not stop within {timeout:g} s."


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
