"""TutorialError: the base of the helpers' errors whose message tells the learner (or a facilitator) what to do.

In a notebook, IPython shows what `_render_traceback_` returns instead of a traceback: the frames would be
the helpers', which the learner did not write, and the message already says where to act. Each error keeps
its standard base too (ValueError, OSError, ...), so code that catches those still catches it.
"""

from __future__ import annotations


class TutorialError(Exception):
    """An error the reader acts on from its message alone: shown as one line, never a traceback."""

    # The line starts with this instead of the class's name (a pause is not an error, and says so).
    headline: str | None = None
    # Said after every message of the class: the way out that applies to all of them.
    postscript: str = ""

    def _render_traceback_(self) -> list[str]:
        line = f"{self.headline or type(self).__name__}: {self}"
        return [f"{line} {self.postscript}" if self.postscript else line]
