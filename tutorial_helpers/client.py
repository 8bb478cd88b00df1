"""The official twilio SDK client, aimed at the TaskRouter of the chosen mode.

    settings = prepare()
    client = make_client(settings)       # twilio.rest.Client, nothing patched
    client.taskrouter.v1.workspaces.list()

Local mode points `client.taskrouter.base_url` at the local TaskRouter; twilio
mode leaves the client exactly as Twilio's own docs create it (unless the testing-only
TWILIO_API_BASE_URL names a stand-in for Twilio: then it is aimed there, as in local mode).

`mode_of(client)` says which mode a client was made for; the widgets and the
checks ask it before using anything only the local TaskRouter has (its event
feed, its alerts), so twilio mode behaves the same whoever plays Twilio.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from twilio.rest import Client

from tutorial_helpers.local_twilio.sdk_client import make_local_client
from tutorial_helpers.settings import Mode, Settings, load_settings

if TYPE_CHECKING:
    from tutorial_helpers.workspace import QuickstartWorkspace

# The mode of each client make_client (or clone_client) made, without touching the client itself.
_modes: WeakKeyDictionary[Client, Mode] = WeakKeyDictionary()


def make_client(settings: Settings | None = None) -> Client:
    """A `twilio.rest.Client` for the settings' mode (default: `load_settings()`)."""
    settings = settings or load_settings()
    if settings.mode == "local":
        client = make_local_client(settings.local_base_url, settings.account_sid, settings.auth_token)
    elif settings.twilio_base_url:
        # Testing only: the same official client, its TaskRouter and 2010-04-01 API hosts replaced by the stand-in.
        client = make_local_client(settings.twilio_base_url, settings.account_sid, settings.auth_token)
    else:
        client = Client(settings.account_sid, settings.auth_token)
    _modes[client] = settings.mode
    return client


def mode_of(client: Client) -> Mode:
    """"local" or "twilio": the mode of the settings the client was made for.

    Only local mode has the local TaskRouter's own endpoints (/_local/...); twilio mode
    never uses them, even when TWILIO_API_BASE_URL aims it at a stand-in for Twilio.
    A client made without settings (a plain `Client(...)`, `LocalTaskRouter.client()`)
    goes by its URL: Twilio's own host is twilio mode, any other is the local TaskRouter.
    """
    mode = _modes.get(client)
    if mode is not None:
        return mode
    return "twilio" if "twilio.com" in client.taskrouter.base_url else "local"


def clone_client(client: Client) -> Client:
    """A second client with the same credentials, TaskRouter URL and mode, for a background thread.

    The SDK's HTTP client keeps per-request state, so pollers get their own.
    """
    copy = Client(client.username, client.password, account_sid=client.account_sid)
    copy.region, copy.edge = client.region, client.edge
    copy.taskrouter.base_url = client.taskrouter.base_url
    _modes[copy] = mode_of(client)
    return copy


def export_shell_variables(settings: Settings, quickstart: QuickstartWorkspace) -> list[str]:
    """Put what the quickstart's curl command needs into this kernel's environment.

    Sets TASKROUTER_URL, WORKSPACE_SID, WORKFLOW_SID, TWILIO_ACCOUNT_SID and
    TWILIO_AUTH_TOKEN, so a `%%bash` cell can say `-u $TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN`
    without the token ever appearing in a cell. Returns the names (never the values).
    """
    values = {
        "TASKROUTER_URL": settings.taskrouter_url,
        "WORKSPACE_SID": quickstart.workspace_sid,
        "WORKFLOW_SID": quickstart.workflow_sid,
        # In local mode these equal what the local TaskRouter already reads (default_credentials).
        "TWILIO_ACCOUNT_SID": settings.account_sid,
        "TWILIO_AUTH_TOKEN": settings.auth_token,
    }
    os.environ.update(values)
    return list(values)
