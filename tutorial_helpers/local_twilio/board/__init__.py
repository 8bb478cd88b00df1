"""The facilitator's live board (issue 16): one row per attendee, their step in the walkthrough, their last problem.

`progress.py` computes the figures from each account's own rows; `urls.py` and `handlers.py` serve them as
/_local/Board.json (facilitator's bearer token, checked in the server's `authenticate`) and the page that polls
it, /_local/Board (plain HTML and JavaScript in templates/, no build step, nothing fetched from elsewhere).
"""

from .progress import STEPS, board

__all__ = ["STEPS", "board"]
