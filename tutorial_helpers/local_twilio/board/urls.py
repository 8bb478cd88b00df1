"""The route table of the facilitator's board: URL rule, methods, handler. Nothing else."""

from . import handlers as h

PAGE = "/_local/Board"  # checks its own token (?token= once, then a cookie), and answers in HTML
JSON = "/_local/Board.json"  # takes the facilitator's bearer token, like /_local/Accounts

URLS = [
    (PAGE, ["GET"], h.page),
    (JSON, ["GET"], h.figures),
]
