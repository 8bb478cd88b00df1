"""Table 6: the whole walkthrough. Every notebook in notebooks/, in order, each in a fresh kernel.

Local mode against one fresh TaskRouter shared by the notebooks in order, as a learner runs
them; tutorial_helpers.headless inserts the click on Alice's Idle button that a learner makes.
"""

import os
import time
from pathlib import Path

from .config import ROOT
from .harness import ACCOUNT_SID, AUTH_TOKEN, Context, Table

NOTEBOOKS = ROOT / "notebooks"
STARTUP_TIMEOUT = 120


def _error_line(exc: BaseException) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1:] or ''}"
    return text.strip()[:200]


def _run_one(path: Path, env: dict[str, str], cell_timeout: int) -> tuple[str, int, int, str]:
    """(result, code cells run, code cells, detail) for one notebook."""
    import nbformat
    from nbclient import NotebookClient

    from tutorial_helpers.headless import add_autopilot

    nb = nbformat.read(path, as_version=4)
    add_autopilot(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    client = NotebookClient(nb, timeout=cell_timeout, startup_timeout=STARTUP_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute(env=env)
    except Exception as exc:  # a failing notebook is a row of the table, not the end of the bench
        ran = sum(1 for c in code if c.get("execution_count"))
        return "**failed**", ran, len(code), _error_line(exc)
    return "ok", len(code), len(code), ""


def run(ctx: Context) -> Table:
    table = Table(
        6, "The whole walkthrough (every notebook, fresh kernel, local mode)",
        ["notebook", "result", "code cells run", "seconds", "detail"],
        caption=(
            f"nbclient, cell timeout {ctx.cfg.cell_timeout} s; one fresh local TaskRouter for the whole walkthrough "
            "(`LOCAL_TASKROUTER_URL`), the learner's click inserted; notebooks run in name order."
        ),
    )
    notebooks = sorted(p for p in NOTEBOOKS.glob("*.ipynb") if not p.name.startswith("."))
    if not notebooks:
        table.rows.append(["—", "**not run**", "0", "—", "notebooks/ has no notebooks yet"])
        return table
    total = 0.0
    with ctx.server("walkthrough") as server:
        env = {
            **os.environ,
            "TUTORIAL_MODE": "local",
            "LOCAL_TASKROUTER_URL": server.base_url,
            # Local mode signs and authenticates with these; they must be the bench server's.
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        }
        for path in notebooks:
            start = time.monotonic()
            result, ran, cells, detail = _run_one(path, env, ctx.cfg.cell_timeout)
            seconds = time.monotonic() - start
            total += seconds
            table.rows.append([path.name, result, f"{ran}/{cells}", f"{seconds:.1f}", detail])
    failed = sum(1 for row in table.rows if row[1] != "ok")
    table.notes.append(f"{len(notebooks) - failed} of {len(notebooks)} notebooks ran clean in {total:.1f} s.")
    return table
