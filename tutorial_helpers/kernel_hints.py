"""A kernel that explains itself: a NameError after a restart says what happened and what to do.

After a kernel restart, a learner who runs a cell in the middle of a notebook
gets `NameError: name 'workspace' is not defined`, which says nothing about the
restart. This IPython extension turns that into one sentence: the kernel has
not run the notebook's first cell, so run the notebook from the top. A
NameError after the first cell ran (a typo) keeps its ordinary traceback.

`make install` loads it into every kernel of the project's venv
(scripts/venv_defaults.py writes the IPython config); elsewhere
`%load_ext tutorial_helpers.kernel_hints` does the same.
"""

from __future__ import annotations

import sys
from typing import Any


def first_cell_ran() -> bool:
    """True once this kernel ran a notebook's first cell (it calls environment.prepare())."""
    environment = sys.modules.get("tutorial_helpers.environment")
    return bool(getattr(environment, "prepared", False))


def restart_hint(name_error: BaseException) -> str:
    return (
        f"{name_error}. This kernel has not run the notebook's first cell: it was restarted, or this cell "
        "ran before the cells above it. Run the notebook from the top (Run > Run All Cells)."
    )


def _on_name_error(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> Any:
    if first_cell_ran():
        # An ordinary NameError (a typo): the usual traceback, with the line that failed.
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    else:
        stb = [f"NameError: {restart_hint(value)}"]
    # IPython leaves showing to the handler; ipykernel sends this as the cell's error output.
    shell._showtraceback(etype, value, stb)
    return stb


def load_ipython_extension(ipython: Any) -> None:
    ipython.set_custom_exc((NameError,), _on_name_error)


def unload_ipython_extension(ipython: Any) -> None:
    ipython.set_custom_exc((), None)
