"""A local, persistent implementation of Twilio TaskRouter v1 for the tutorial.

    with LocalTaskRouter() as tr:
        client = tr.client()          # the official twilio SDK, aimed at 127.0.0.1
        client.taskrouter.v1.workspaces.create(friendly_name="Quickstart")
"""

from .client import make_client
from .defaults import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_HOST, DEFAULT_PORT
from .server import LocalTaskRouter, create_app

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "LocalTaskRouter",
    "create_app",
    "make_client",
]
