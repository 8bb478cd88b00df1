"""The route table of the facilitator's control endpoints: URL rule, methods, handler. Nothing else."""

from . import handlers as h

PREFIX = "/_local/Accounts"  # every path here takes the facilitator's bearer token, not an account's Basic auth

URLS = [
    (PREFIX, ["GET"], h.list_accounts),
    (PREFIX, ["POST"], h.create_account),
    (f"{PREFIX}/<sid>", ["DELETE"], h.delete_account),
]
