"""The local TaskRouter's CLI as a real process, for the tests that start, stop or kill it (test_cli.py,
core/test_durability.py, core/test_kill_soak.py, accounts/test_accounts.py, test_shared_machine.py)."""

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import requests

from tutorial_helpers.local_twilio import make_local_client

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = ("AC" + "d" * 32, "durability-token")
READY = re.compile(r"Local TaskRouter ready at (http://\S+)/v1")
MODULE = [sys.executable, "-m", "tutorial_helpers.local_twilio"]
# The console script pip put next to this interpreter (`local-taskrouter`).
CONSOLE_SCRIPT = [str(Path(sys.executable).with_name("local-taskrouter"))]


class Cli:
    """`python -m tutorial_helpers.local_twilio` (or `command`) on a free port and a given data dir."""

    def __init__(self, data_dir: Path, *extra: str, command: list[str] = MODULE, cwd: Path = ROOT):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
        self.proc = subprocess.Popen(
            [*command, "--port", "0", "--data-dir", str(data_dir),
             "--account-sid", ACCOUNT[0], "--auth-token", ACCOUNT[1], *extra],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        ready = threading.Event()

        def read() -> None:
            for line in self.proc.stdout:
                self.lines.append(line)
                if READY.search(line):
                    ready.set()
            ready.set()  # the process ended

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30) or self.proc.poll() is not None:
            self.proc.kill()
            raise AssertionError(f"the CLI did not print its ready line: {self.lines} {self.proc.stderr.read()}")
        self.base_url = READY.search(self.lines[-1]).group(1)
        self.http = requests.Session()
        self.http.auth = ACCOUNT

    def client(self):
        return make_local_client(self.base_url, *ACCOUNT)

    def get(self, path: str) -> dict:
        response = self.http.get(self.base_url + path, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self, sig: int) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=15)
        finally:
            self.http.close()

    def kill_if_running(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=15)
