"""Every notebook, executed headless in local mode against a LocalTaskRouter on a free port.

The notebooks find it through LOCAL_TASKROUTER_URL; XDG_DATA_HOME points into
tmp_path so nothing here can touch the user's ~/.local data or port 8765.
Where the learner clicks Alice -> Idle, a cell inserted by tutorial_helpers.headless
clicks the widget's button the same way; the notebooks carry no test hooks.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell

from tutorial_helpers.headless import add_autopilot
from tutorial_helpers.local_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, LocalTaskRouter

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
ORDER = [
    "00_setup.ipynb",
    "01_workspace.ipynb",
    "02_accept_through_rest.ipynb",
    "03_accept_with_instruction.ipynb",
    "04_tasks_from_phone_calls.ipynb",
    "05_dequeue_a_call.ipynb",
    "06_worker_page.ipynb",
    "07_wallboard.ipynb",
]
CELL_TIMEOUT = 60
AMBIENT = (
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN", "TWILIO_REGION", "TWILIO_EDGE",
    "TUTORIAL_MODE", "LOCAL_TASKROUTER_URL", "CALLBACK_HOST", "CALLBACK_PORT",
)
SECRETS = (
    DEFAULT_AUTH_TOKEN,
    base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}".encode()).decode(),
)

# Where the learner acts (clicks Alice -> Idle, dials and presses 1, answers Alice's phone), so a headless run
# inserts the same action: how many places, by notebook.
CLICKED = {"02_accept_through_rest.ipynb": 1, "03_accept_with_instruction.ipynb": 1,
           "04_tasks_from_phone_calls.ipynb": 1, "05_dequeue_a_call.ipynb": 3, "06_worker_page.ipynb": 1,
           "07_wallboard.ipynb": 1}

# Printed by a probe cell appended to notebook 03, after everything else ran in its kernel.
PROBE = """
import json as _json, requests as _requests
_forged = _requests.post(server.url_for("/assignment_callback"), timeout=5,
                         data={"TaskSid": task.sid, "ReservationSid": "WR" + "0" * 32},
                         headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
print("PROBE " + _json.dumps({"task": task.sid, "workspace": quickstart.workspace_sid,
                              "alice": quickstart.workers["Alice"], "forged_status": _forged.status_code,
                              "log": len(server.log)}))
"""


@pytest.fixture
def local_tutorial(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LocalTaskRouter]:
    """A LocalTaskRouter with fresh data, and an environment that sends the notebooks to it."""
    for name in AMBIENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TUTORIAL_MODE", "local")
    with LocalTaskRouter(data_dir=tmp_path / "taskrouter") as tr:
        monkeypatch.setenv("LOCAL_TASKROUTER_URL", tr.base_url)
        yield tr


def execute(name: str, *, twice: bool = False, probe: str | None = None) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in a fresh kernel; `twice` runs every code cell twice in a row."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert add_autopilot(nb) == CLICKED.get(name, 0), f"{name}: where does the learner click?"
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    with client.setup_kernel():
        for index, cell in enumerate(list(nb.cells)):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)
            if twice:
                client.execute_cell(cell, index)
        if probe:
            nb.cells.append(new_code_cell(probe))
            client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
    return nb


def output_text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(
        output.get("text", "") or json.dumps(output.get("data", {}))
        for cell in nb.cells if cell.cell_type == "code"
        for output in cell.outputs
    )


def probe_result(nb: nbformat.NotebookNode) -> dict:
    line = next(line for line in output_text(nb).splitlines() if line.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE "))


def assert_no_secret(nb: nbformat.NotebookNode) -> None:
    # Outputs and metadata (widget state included), as the file would be saved.
    text = nbformat.writes(nb)
    for secret in SECRETS:
        assert secret not in text


def assert_seed_step_done(tr: LocalTaskRouter, result: dict) -> None:
    ws = tr.client().taskrouter.v1.workspaces(result["workspace"])
    task = ws.tasks(result["task"]).fetch()
    assert task.assignment_status == "assigned"
    assert ws.workers(result["alice"]).fetch().activity_name == "Busy"
    accepted = [r for r in ws.tasks(task.sid).reservations.list() if r.reservation_status == "accepted"]
    assert [r.worker_name for r in accepted] == ["Alice"]


def test_committed_notebooks_are_clean() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == ORDER
    for name in ORDER:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata["kernelspec"]["name"] == "python3", name  # no "Select Kernel" dialog
        assert "widgets" not in nb.metadata, name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, (
                    f"notebooks/{name} has outputs saved into it (a notebook run and saved in place). "
                    "`git restore notebooks/` brings back the committed, clean files; `make lab` opens your "
                    "own copies in my-notebooks/, so saving there never touches notebooks/."
                )
        assert nb.cells[0].cell_type == "markdown" and "What you will see" in nb.cells[0].source, name
        assert "autopilot" not in nbformat.writes(nb), f"{name}: test hooks belong in the tests, not the lesson"


def test_notebooks_in_order_end_with_the_task_assigned_and_alice_busy(local_tutorial: LocalTaskRouter) -> None:
    for name in ORDER:
        nb = execute(name, probe=PROBE if name.startswith("03") else None)
        assert_no_secret(nb)
        assert "Not yet" not in output_text(nb), name
        if name.startswith("03"):  # the seed step, checked before notebook 04 puts Alice Offline again
            result = probe_result(nb)
            assert_seed_step_done(local_tutorial, result)
            # A forged callback was refused before the route ran, and changed nothing.
            assert result["forged_status"] == 403
            assert_seed_step_done(local_tutorial, result)
        if name.startswith("04"):
            assert "Correct" in output_text(nb) and "the call made Task" in output_text(nb)
        if name.startswith("05"):
            assert "Correct" in output_text(nb) and "moved her to WrapUp" in output_text(nb)
            assert "5. The caller hangs up: Task wrapping, Alice WrapUp." in output_text(nb)
        if name.startswith("06"):
            assert "Correct" in output_text(nb) and "accepted Task" in output_text(nb)
        if name.startswith("07"):
            assert "Correct" in output_text(nb) and "the statistics agree with the tasks" in output_text(nb)
    workspaces = local_tutorial.client().taskrouter.v1.workspaces.list()
    assert [w.friendly_name for w in workspaces] == ["TaskRouter Quickstart"]


@pytest.mark.parametrize("name", ORDER)
def test_each_notebook_runs_alone_in_a_fresh_kernel(local_tutorial: LocalTaskRouter, name: str) -> None:
    nb = execute(name, probe=PROBE if name.startswith("03") else None)
    assert_no_secret(nb)
    text = output_text(nb)
    assert "Not yet" not in text
    if name.startswith("03"):
        assert_seed_step_done(local_tutorial, probe_result(nb))


@pytest.mark.parametrize("name", ORDER[1:])
def test_every_cell_can_run_twice(local_tutorial: LocalTaskRouter, name: str) -> None:
    """Re-running any cell (the callback server cell included) is safe: no errors, no duplicates."""
    nb = execute(name, twice=True, probe=PROBE if name.startswith("03") else None)
    assert_no_secret(nb)
    assert "Not yet" not in output_text(nb)
    tr = local_tutorial.client().taskrouter.v1
    workspaces = tr.workspaces.list()
    assert [w.friendly_name for w in workspaces] == ["TaskRouter Quickstart"]
    ws = tr.workspaces(workspaces[0].sid)
    assert sorted(w.friendly_name for w in ws.workers.list()) == ["Alice", "Bob"]
    assert len(ws.task_queues.list()) == 2 and len(ws.workflows.list()) == 1
    names = [a.friendly_name for a in ws.activities.list()]
    assert len(names) == len(set(names))
    assert ws.tasks.list(assignment_status=["pending", "reserved"]) == []  # no task left behind
    if name.startswith("03"):
        assert_seed_step_done(local_tutorial, probe_result(nb))


def test_a_cell_run_after_a_restart_says_to_run_from_the_top(local_tutorial: LocalTaskRouter) -> None:
    """make install loads tutorial_helpers.kernel_hints into the venv's kernels (scripts/venv_defaults.py)."""
    nb = nbformat.read(NOTEBOOKS / "03_accept_with_instruction.ipynb", as_version=4)
    later = next(c for c in nb.cells if c.cell_type == "code" and "workspace.tasks(task.sid).fetch()" in c.source)
    nb.cells = [later]  # a fresh kernel, and the learner runs a cell from the middle
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    with pytest.raises(CellExecutionError) as failure:
        client.execute()
    assert "This kernel has not run the notebook's first cell" in str(failure.value)
    assert "Run the notebook from the top" in str(failure.value)
    assert "Traceback" not in str(failure.value)


def test_twilio_mode_misconfiguration_is_explained_without_touching_the_network(
    local_tutorial: LocalTaskRouter, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TUTORIAL_MODE", "twilio")
    # Any HTTP request would go to a dead proxy; the message must come before one is tried.
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")
    monkeypatch.setenv("NGROK_PATH", str(tmp_path / "no-ngrok"))
    with pytest.raises(CellExecutionError) as failure:
        execute("00_setup.ipynb")
    message = str(failure.value)
    assert "SettingsError" in message
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN", ".env"):
        assert name in message
    assert "ProxyError" not in message and "ConnectionError" not in message
    assert not os.path.exists(tmp_path / "no-ngrok")


def test_notebook_00_says_whose_taskrouter_answers_at_the_learners_port(
    local_tutorial: LocalTaskRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another data dir's server where the learner's own should be (issue 16, shared machines): one clear line."""
    monkeypatch.setenv("LOCAL_TASKROUTER_PORT", str(local_tutorial.port))  # what `make lab` passes
    with pytest.raises(CellExecutionError) as failure:
        execute("00_setup.ipynb")
    message = str(failure.value)
    whose = f"SetupError: The local TaskRouter at {local_tutorial.base_url} is not yours: it keeps its data in"
    assert whose in message
    assert "neither used nor stopped" in message and "`make lab LOCAL_TASKROUTER_PORT=" in message
    assert "Traceback" not in message
