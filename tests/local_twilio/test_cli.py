"""The local server's command as a real process (`python -m tutorial_helpers.local_twilio`, the installed
`local-taskrouter`): SIGTERM stops cleanly, the console script serves from any directory, --stop ends only its own
server, bad flags are argparse errors. (What survives a SIGKILL: core/test_durability.py.)"""

import signal
import subprocess
import sys

import pytest
import requests
from cli_support import CONSOLE_SCRIPT, ROOT

from tutorial_helpers.local_twilio.ensure import stop_running


def test_sigterm_stops_cleanly(cli):
    process = cli()
    assert process.get("/_local/health")["status"] == "ok"
    assert process.stop(signal.SIGTERM) == 0
    assert process.lines[-1].strip() == "Local TaskRouter stopped."
    assert "Traceback" not in process.proc.stderr.read()


def test_the_installed_console_script_serves_from_any_directory(cli, tmp_path):
    """`local-taskrouter` comes from the installed package, not from a checkout on the path."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    process = cli(command=CONSOLE_SCRIPT, cwd=elsewhere)
    assert process.get("/_local/health")["service"] == "local-taskrouter"
    assert process.stop(signal.SIGTERM) == 0
    usage = subprocess.run([*CONSOLE_SCRIPT, "--help"], cwd=elsewhere, capture_output=True, text=True, timeout=30)
    assert usage.returncode == 0 and usage.stdout.startswith("usage: local-taskrouter")


def test_stop_ends_the_standalone_server_and_keeps_its_data(cli, tmp_path):
    process = cli()
    ws = process.client().taskrouter.v1.workspaces.create(friendly_name="Kept")
    port = process.base_url.rsplit(":", 1)[1]
    # --stop stops only the server of its --data-dir (test_shared_machine.py: never another user's).
    command = [*CONSOLE_SCRIPT, "--stop", "--port", port, "--data-dir", str(tmp_path / "data")]
    stop = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert stop.returncode == 0 and "Stopped the local TaskRouter" in stop.stdout
    assert process.proc.wait(timeout=15) == 0
    again = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "nothing to stop" in again.stdout
    assert cli().client().taskrouter.v1.workspaces(ws.sid).fetch().friendly_name == "Kept"


def test_stop_never_kills_a_program_that_runs_the_server_inside_it(taskrouter):
    """An in-process server (a test, a notebook kernel) does not say its pid: --stop refuses."""
    code, message = stop_running("127.0.0.1", taskrouter.port)
    assert code == 1 and "runs inside another program" in message
    assert requests.get(f"{taskrouter.base_url}/_local/health", timeout=5).json()["status"] == "ok"


@pytest.mark.parametrize(("flags", "words"), [
    (["--account-sid", "bad"], "--account-sid must be AC followed by 32 hex digits"),
    (["--auth-token", ""], "--auth-token must not be empty"),
    (["--phone-numbers", "+1202555010,555"], "--phone-numbers must be E.164 numbers like +12025550100, got 555"),
])
def test_bad_flags_are_argparse_errors(tmp_path, flags, words):
    result = subprocess.run(
        [sys.executable, "-m", "tutorial_helpers.local_twilio", "--port", "0", "--data-dir", str(tmp_path),
         *flags],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert words in result.stderr
    assert result.stderr.startswith("usage: python -m tutorial_helpers.local_twilio")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "taskrouter.sqlite3").exists(), "nothing is started on bad flags"
