"""Running the notebooks with nobody at the keyboard: the tests and `make bench`.

Where the learner clicks Alice -> Idle, dials and presses 1, or answers Alice's phone, a headless run
needs a cell that does it for her. The notebooks carry no such cell, so they
read as the learner's own code; `add_autopilot` inserts one after each cell
that builds the worker controls or a phone, the way the tests append their
probe cells.
"""

from __future__ import annotations

import re

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

# Where the learner acts, and the line a headless run inserts after that cell (with the name it was given).
CLICKS = [
    # `controls = WorkerActivityControls(client, quickstart)`: click Alice -> Idle.
    (re.compile(r"^(\w+)\s*=\s*WorkerActivityControls\(", re.MULTILINE), "{name}.autopilot({worker!r}, {activity!r})"),
    # `phone = Phone(client, settings, number)`: call the number shown and press 1.
    (re.compile(r"^(\w+)\s*=\s*Phone\(", re.MULTILINE), "{name}.autopilot({name}.number.value, {digits!r})"),
    # `alice_phone = Softphone(client, settings)`: answer the next call that rings there.
    (re.compile(r"^(\w+)\s*=\s*Softphone\(", re.MULTILINE), "{name}.autopilot()"),
    # `alice_page = WorkerPageLink(url)`: on the page, click Idle, then Accept the reservation that arrives.
    (re.compile(r"^(\w+)\s*=\s*WorkerPageLink\(", re.MULTILINE), "{name}.autopilot({activity!r})"),
]


def add_autopilot(nb: NotebookNode, worker: str = "Alice", activity: str = "Idle", digits: str = "1") -> int:
    """After each cell where the learner acts (the worker controls, the phone), insert a cell that does what
    the learner would (clicks `activity` for `worker`; dials and presses `digits`). Returns how many."""
    inserted = 0
    index = 0
    while index < len(nb.cells):
        cell = nb.cells[index]
        for pattern, template in CLICKS if cell.cell_type == "code" else ():
            found = pattern.search(cell.source)
            if found:
                line = template.format(name=found.group(1), worker=worker, activity=activity, digits=digits)
                click = new_code_cell(f"{line}  # inserted: a headless run")
                click.metadata["tags"] = ["autopilot"]
                nb.cells.insert(index + 1, click)
                inserted += 1
                index += 1
                break
        index += 1
    return inserted
