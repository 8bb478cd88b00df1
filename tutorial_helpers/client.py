"""The official twilio SDK client, aimed at the TaskRouter of the chosen mode.

    settings = prepare()
    client = make_client(settings)       # twilio.rest.Client, nothing patched
    client.taskrouter.v1.workspaces.list()

Local mode points `client.taskrouter.base_url` at the local TaskRouter; twilio
mode leaves the client exactly as Twilio's own docs create it (unless the testing-only
TWILIO_API_BASE_URL names a stand-in for Twilio: then it is aimed there, as in local mode).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from twilio.rest import Client

from tutorial_helpers.local_twilio.client import make_client as make_local_client
from tutorial_helpers.settings import Settings, load_settings

if TYPE_CHECKING:
    from tutorial_helpers.workspace import QuickstartWorkspace


def make_client(settings: Settings | None = None) -> Client:
    """A `twilio.rest.Client` for the settings' mode (default: `load_settings()`)."""
    settings = settings or load_settings()
    if settings.mode == "local":
        return make_local_client(settings.local_base_url, settings.account_sid, settings.auth_token)
    if settings.twilio_base_url:
        # Testing only: the same official client, its TaskRouter and 2010-04-01 API hosts replaced by the stand-in.
        return make_local_client(settings.twilio_base_url, settings.account_sid, settings.auth_token)
    return Client(settings.account_sid, settings.auth_token)


def clone_client(client: Client) -> Client:
    """A second client with the same credentials and TaskRouter URL, for a background thread.

    The SDK's HTTP client keeps per-request state, so pollers get their own.
    """
    copy = Client(client.username, client.password, account_sid=client.account_sid)
    copy.region, copy.edge = client.region, client.edge
    copy.taskrouter.base_url = client.taskrouter.base_url
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
