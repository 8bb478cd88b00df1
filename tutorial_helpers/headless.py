"""Running the notebooks with nobody at the keyboard: the tests and `make bench`.

Where the learner clicks Alice -> Idle, a headless run needs a cell that clicks
for her. The notebooks carry no such cell, so they read as the learner's own
code; `add_autopilot` inserts one after each cell that builds the worker
controls, the way the tests append their probe cells.
"""

from __future__ import annotations

import re

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

# `controls = WorkerActivityControls(client, quickstart)`: the name the click goes through.
CONTROLS = re.compile(r"^(\w+)\s*=\s*WorkerActivityControls\(", re.MULTILINE)


def add_autopilot(nb: NotebookNode, worker: str = "Alice", activity: str = "Idle") -> int:
    """After each cell that builds WorkerActivityControls, insert a cell that clicks `activity` for
    `worker` (only while she is Offline, so re-running it is harmless). Returns how many were inserted."""
    inserted = 0
    index = 0
    while index < len(nb.cells):
        cell = nb.cells[index]
        found = CONTROLS.search(cell.source) if cell.cell_type == "code" else None
        if found:
            click = new_code_cell(f"{found.group(1)}.autopilot({worker!r}, {activity!r})  # inserted: a headless run")
            click.metadata["tags"] = ["autopilot"]
            nb.cells.insert(index + 1, click)
            inserted += 1
            index += 1
        index += 1
    return inserted
