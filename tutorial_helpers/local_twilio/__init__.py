"""Local Twilio services for the tutorial: one server, one SQLite store, one clock, a folder per service.

The shared core is here (the server and its app factory, the store, the clock
and timers, credentials, `ensure`, the command line); each Twilio service has a
folder of its own, in moto's manner: `taskrouter/` (TaskRouter v1) first, the
voice side and EventBridge later. `tutorial_helpers.local_taskrouter` is the
old name and still works.

    with LocalTaskRouter() as tr:
        client = tr.client()          # the official twilio SDK, aimed at 127.0.0.1
        client.taskrouter.v1.workspaces.create(friendly_name="Quickstart")
"""

from .defaults import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_HOST, DEFAULT_PORT
from .sdk_client import make_local_client
from .server import LocalTaskRouter, create_app

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "LocalTaskRouter",
    "create_app",
    "make_local_client",
]
