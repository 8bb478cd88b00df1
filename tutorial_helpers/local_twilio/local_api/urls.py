"""The server-wide /_local route table: URL rule, methods, handler. Nothing else (documented in
docs/local-server.md)."""

from . import handlers as h
from .reachability import reachability

URLS = [
    ("/_local/health", ["GET"], h.health),
    ("/_local/Clock", ["GET"], h.get_clock),
    ("/_local/Clock", ["POST"], h.advance_clock),
    ("/_local/Reachability", ["POST"], reachability),
]

UNAUTHENTICATED = {"/_local/health"}
