"""Twilio mode end to end (issue 15): notebooks 00-03 as a learner with credentials runs them, settings only.

The two ends that need the internet are stood in for, and nothing else is changed:
- Twilio: a LocalTaskRouter started with the learner's (fake but realistic) account SID and auth token,
  reached through the testing-only setting TWILIO_API_BASE_URL in the learner's .env;
- the ngrok agent: tests/twilio_mode/fake_ngrok.py, set with pyngrok's own ngrok_path configuration
  (PYNGROK_NGROK_PATH). pyngrok starts it, reads its log lines, asks its local API for a tunnel; the
  tunnel's public URL is a real forwarder back to the kernel's callback server.

Everything else is the twilio-mode path: TUTORIAL_MODE=twilio and the credentials come from a .env next
to the notebooks (a working copy, as `make lab` serves my-notebooks/), the callback server opens its
tunnel through pyngrok, the workflow's AssignmentCallbackUrl is the tunnel's public URL, and the callback
server checks TaskRouter's signatures against that public URL. Any HTTP request meant for the internet
goes to a recording proxy (HTTP(S)_PROXY, with NO_PROXY for 127.0.0.1/localhost), which must stay unused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import shutil
import signal
import socketserver
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell
from test_notebooks import output_text

from tutorial_helpers.headless import add_autopilot
from tutorial_helpers.local_twilio import LocalTaskRouter

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
FAKE_NGROK = Path(__file__).resolve().parent / "fake_ngrok.py"
ORDER = ["00_setup.ipynb", "01_workspace.ipynb", "02_accept_through_rest.ipynb", "03_accept_with_instruction.ipynb"]
CLICKED = {"02_accept_through_rest.ipynb": 1, "03_accept_with_instruction.ipynb": 1}
CELL_TIMEOUT = 60

# What a learner copies from the Twilio Console and the ngrok dashboard (made up, shaped like the real ones).
ACCOUNT_SID = "AC5e0f3c9d27b14a6e8f0d1c2b3a4e5f60"
AUTH_TOKEN = "9c1d7e3f5a2b4c6d8e0f1a3b5c7d9e1f"
NGROK_AUTHTOKEN = "2hQk7Zr3TtP0WnX9yLc4VbMd1sE_6fGj8KaR5uNpYw2oHxBiCe"
SECRETS = (AUTH_TOKEN, NGROK_AUTHTOKEN, base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode())
# Whatever the developer's shell has must not leak into the learner's settings.
AMBIENT = (
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN", "TWILIO_REGION", "TWILIO_EDGE", "TUTORIAL_MODE",
    "LOCAL_TASKROUTER_URL", "TWILIO_API_BASE_URL", "NGROK_PATH", "PYNGROK_NGROK_PATH", "NGROK_API_KEY",
    "NGROK_CONFIG", "ALL_PROXY", "all_proxy",
)

# Appended to notebook 03 and run in its kernel after everything else: what the kernel's server saw, and a
# forged callback sent to the public URL (so through the tunnel), which the signature check must refuse.
PROBE = """
import json as _json, requests as _requests
from pyngrok import conf as _conf
from tutorial_helpers.widgets import EventFeed as _EventFeed
_forged = _requests.post(server.url_for("/assignment_callback"), timeout=5,
                         data={"TaskSid": task.sid, "ReservationSid": "WR" + "0" * 32},
                         headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
print("PROBE " + _json.dumps({
    "public_url": server.public_url, "local_url": server.local_url, "ngrok_path": _conf.get_default().ngrok_path,
    "task": task.sid, "workspace": quickstart.workspace_sid, "workflow": quickstart.workflow_sid,
    "alice": quickstart.workers["Alice"], "forged_status": _forged.status_code,
    "local_feeds": [_sid for _url, _sid in _EventFeed._feeds],
    "log": [{"path": e.path, "task": e.params.get("TaskSid"), "valid": e.signature_valid, "status": e.status,
             "signature": e.signature, "body": e.body} for e in server.log.entries()],
}))
"""


class _Recorder(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _RecordFirstLine)


class _RecordFirstLine(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.server.seen.append(self.rfile.readline(2048).decode("latin-1").strip())  # type: ignore[attr-defined]
        self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@pytest.fixture
def internet_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every HTTP(S) client that honours the proxy variables (requests, urllib, curl) ends up here, not online."""
    proxy = _Recorder()
    threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True).start()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.server_address[1]}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    yield proxy.seen
    proxy.shutdown()
    proxy.server_close()


@dataclass
class Learner:
    twilio: LocalTaskRouter  # playing Twilio
    folder: Path  # the learner's notebooks and their .env
    agent: Path  # the stand-in ngrok, as pyngrok's ngrok_path
    agent_log: Path
    config_home: Path
    outputs: dict[str, str] = field(default_factory=dict)

    def agent_events(self, event: str) -> list[dict]:
        if not self.agent_log.exists():
            return []
        lines = self.agent_log.read_text().splitlines()
        return [e for e in map(json.loads, lines) if e["event"] == event]


@pytest.fixture
def learner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, internet_proxy: list[str]) -> Iterator[Learner]:
    for name in AMBIENT:
        monkeypatch.delenv(name, raising=False)
    # pyngrok writes its ngrok.yml under XDG_CONFIG_HOME; the local services' data under XDG_DATA_HOME.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))

    # The stand-in agent as an executable named ngrok; the wrapper fixes its Python and its request log.
    agent, agent_log = tmp_path / "bin" / "ngrok", tmp_path / "fake-ngrok.jsonl"
    agent.parent.mkdir()
    agent.write_text(
        "#!/bin/sh\n"
        f"FAKE_NGROK_LOG={shlex.quote(str(agent_log))}; export FAKE_NGROK_LOG\n"
        f"exec {shlex.quote(sys.executable)} {shlex.quote(str(FAKE_NGROK))} \"$@\"\n"
    )
    agent.chmod(0o755)
    monkeypatch.setenv("PYNGROK_NGROK_PATH", str(agent))  # pyngrok's own ngrok_path configuration

    with LocalTaskRouter(data_dir=tmp_path / "twilio", account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as twilio:
        folder = tmp_path / "my-notebooks"
        folder.mkdir()
        for name in ORDER:
            shutil.copy(NOTEBOOKS / name, folder / name)
        # What the learner puts in .env (notebook 00's form writes the first four), plus the stand-in's address.
        (folder / ".env").write_text(
            "TUTORIAL_MODE=twilio\n"
            f"TWILIO_ACCOUNT_SID={ACCOUNT_SID}\n"
            f"TWILIO_AUTH_TOKEN={AUTH_TOKEN}\n"
            f"NGROK_AUTHTOKEN={NGROK_AUTHTOKEN}\n"
            f"TWILIO_API_BASE_URL={twilio.base_url}\n"
        )
        learner = Learner(twilio, folder, agent, agent_log, tmp_path / "config")
        try:
            yield learner
        finally:
            _stop_leftover_agents(learner)


def _stop_leftover_agents(learner: Learner) -> None:
    """The kernels stop their agents; an agent left by a failed run is stopped here, by its pid."""
    for session in learner.agent_events("session"):
        try:
            ours = "fake_ngrok.py" in Path(f"/proc/{session['pid']}/cmdline").read_text()
        except OSError:
            continue  # gone
        if ours:
            os.kill(session["pid"], signal.SIGTERM)


def execute(learner: Learner, name: str, probe: str | None = None) -> nbformat.NotebookNode:
    nb = nbformat.read(learner.folder / name, as_version=4)
    assert add_autopilot(nb) == CLICKED.get(name, 0), f"{name}: where does the learner click?"
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(learner.folder)}})
    with client.setup_kernel():
        for index, cell in enumerate(list(nb.cells)):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        if probe:
            nb.cells.append(new_code_cell(probe))
            client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
    learner.outputs[name] = output_text(nb)
    return nb


def assert_no_secret(nb: nbformat.NotebookNode) -> None:
    text = nbformat.writes(nb)  # outputs and metadata (widget state included), as the file would be saved
    for secret in SECRETS:
        assert secret not in text


def probe_result(text: str) -> dict:
    line = next(line for line in text.splitlines() if line.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE "))


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_notebooks_00_to_03_in_twilio_mode_with_settings_only(learner: Learner, internet_proxy: list[str]) -> None:
    for name in ORDER:
        nb = execute(learner, name, probe=PROBE if name.startswith("03") else None)
        assert_no_secret(nb)
        assert "Not yet" not in learner.outputs[name], name
    out = learner.outputs

    # 00: twilio mode from .env, the stand-in accepted the learner's credentials, the check agrees.
    assert "twilio mode: account AC5e…5f60" in out["00_setup.ipynb"]
    assert f"stand-in at {learner.twilio.base_url}" in out["00_setup.ipynb"]
    assert "credentials accepted" in out["00_setup.ipynb"]
    assert "Correct (environment)" in out["00_setup.ipynb"]
    assert f"ngrok agent: {learner.agent}" in out["00_setup.ipynb"]  # the agent the tunnels run (PYNGROK_NGROK_PATH)
    assert f"TaskRouter base URL: {learner.twilio.base_url}" in out["00_setup.ipynb"]

    # One agent per kernel that served callbacks (01, 02, 03), each started by pyngrok with the learner's token.
    sessions, tunnels = learner.agent_events("session"), learner.agent_events("tunnel")
    assert len(sessions) == 3 and len(tunnels) == 3
    assert {s["authtoken_sha256"] for s in sessions} == {hashlib.sha256(NGROK_AUTHTOKEN.encode()).hexdigest()}
    assert all(t["api"] == "endpoints" for t in tunnels)  # pyngrok's own request for a tunnel

    # 01: the workflow was given the tunnel's public URL, and the check says the workspace is right.
    first = tunnels[0]["public_url"]
    assert f"Assignment Callback URL: {first}/assignment_callback" in out["01_workspace.ipynb"]
    assert "Correct (workspace)" in out["01_workspace.ipynb"]
    assert "Correct (accept a reservation through REST)" in out["02_accept_through_rest.ipynb"]
    assert "Correct (accept with an assignment instruction)" in out["03_accept_with_instruction.ipynb"]

    # 03: the kernel's server is exposed through the stand-in's tunnel, found through pyngrok's ngrok_path.
    result = probe_result(out["03_accept_with_instruction.ipynb"])
    public_url = tunnels[-1]["public_url"]
    assert result["public_url"] == public_url != result["local_url"]
    assert tunnels[-1]["upstream"] == result["local_url"]
    assert result["ngrok_path"] == str(learner.agent)
    # The widgets polled, as against Twilio: the stand-in's local-only event feed was never opened.
    assert result["local_feeds"] == []

    # "Twilio" holds the workflow with the tunnel's URL, the task assigned and Alice Busy.
    ws = learner.twilio.client().taskrouter.v1.workspaces(result["workspace"])
    assert ws.workflows(result["workflow"]).fetch().assignment_callback_url == f"{public_url}/assignment_callback"
    task = ws.tasks(result["task"]).fetch()
    assert task.assignment_status == "assigned"
    assert ws.workers(result["alice"]).fetch().activity_name == "Busy"

    # The assignment callback travelled through the tunnel, signed for the public URL, and was accepted:
    # the server saw Host 127.0.0.1:<its own port> (the stand-in rewrites it), so only the check against
    # the public URL could accept the signature.
    [callback] = [e for e in result["log"] if e["task"] == result["task"] and e["signature"] != "Zm9yZ2Vk"]
    assert callback["path"] == "/assignment_callback" and callback["valid"] and callback["status"] == 200
    assert json.loads(callback["body"]) == {"instruction": "accept"}
    through = [r for r in learner.agent_events("request") if r["signature"] == callback["signature"]]
    assert [(r["tunnel"], r["method"], r["path"], r["status"]) for r in through] == [
        (public_url, "POST", "/assignment_callback", 200)]
    # A forged callback sent to the same public URL was refused (and also went through the tunnel).
    assert result["forged_status"] == 403
    assert any(r["signature"] == "Zm9yZ2Vk" and r["status"] == 403 for r in learner.agent_events("request"))

    # Each kernel closed its tunnel and stopped its agent when it shut down.
    # Each kernel stopped its agent as it shut down (pyngrok terminates it at exit), freeing the account's one
    # agent session; none was left to notice on its own that its kernel had gone.
    assert wait_until(lambda: not any(_alive(s["pid"]) for s in sessions))
    assert learner.agent_events("parent-gone") == []

    # pyngrok's config went to this test's XDG_CONFIG_HOME, without the token; no secret in the agent's log.
    config = learner.config_home / "ngrok" / "ngrok.yml"
    assert config.is_file() and NGROK_AUTHTOKEN not in config.read_text()
    assert not any(secret in learner.agent_log.read_text() for secret in SECRETS)

    # Nothing tried to reach the internet.
    assert internet_proxy == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent kernel) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True
