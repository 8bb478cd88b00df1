"""Local Twilio services for the tutorial: one server, one SQLite store, one clock, a folder per service.

    core/        the ground floor, importing no service: state and the unit of work, store, clock, timers,
                 webhooks, errors, validators, the parameter readers and ranges, ports (what services offer)
    local_api/   the server-wide /_local routes: health, the clock, reachability
    taskrouter/  TaskRouter v1, in moto's layout (urls, handlers, rendering, models/ by resource)
    voice/       the 2010-04-01 API's voice parts and TaskRouter's voice instructions (the same layout)
    eventbridge/ the worker SDK's websocket and REST route
    accounts/    a workshop room's accounts; board/ the facilitator's board
    server.py    LocalTwilio: builds the floor and the services, wires their ports, serves them
    ensure.py, __main__.py, defaults.py, instance.py, sdk_client.py: starting, finding and reaching a server

    with LocalTaskRouter() as tr:
        client = tr.client()          # the official twilio SDK, aimed at 127.0.0.1
        client.taskrouter.v1.workspaces.create(friendly_name="Quickstart")
"""

from .defaults import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_HOST, DEFAULT_PORT
from .sdk_client import make_local_client
from .server import LocalTaskRouter, LocalTwilio, create_app

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "LocalTaskRouter",
    "LocalTwilio",
    "create_app",
    "make_local_client",
]
