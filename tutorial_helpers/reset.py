"""Start over: delete the tutorial's workspace (both modes), so notebook 01 builds it afresh.

In a notebook (the last cell of 03):

    reset_tutorial(client)

From a shell:

    python -m tutorial_helpers.reset            # local mode (asks in twilio mode)
    TUTORIAL_MODE=twilio python -m tutorial_helpers.reset --yes

Deleting a Workspace deletes its activities, workers, queues, workflows and
tasks with it, on Twilio as on the local TaskRouter. Nothing else on the
account is touched.
"""

from __future__ import annotations

import argparse
import sys

from twilio.rest import Client

from tutorial_helpers.callback_server import CallbackServer
from tutorial_helpers.workspace import WORKSPACE_NAME


def reset_tutorial(client: Client, *, friendly_name: str = WORKSPACE_NAME, stop_server: bool = True) -> list[str]:
    """Delete every workspace named `friendly_name`; return their SIDs.

    Also stops this kernel's callback server (and its ngrok tunnel), unless
    `stop_server` is false.
    """
    deleted = []
    for workspace in client.taskrouter.v1.workspaces.list():
        if workspace.friendly_name == friendly_name:
            client.taskrouter.v1.workspaces(workspace.sid).delete()
            deleted.append(workspace.sid)
    server = CallbackServer.current()
    if stop_server and server is not None:
        server.stop()
    return deleted


def main(argv: list[str] | None = None) -> int:
    from tutorial_helpers.client import make_client
    from tutorial_helpers.environment import SetupError, prepare
    from tutorial_helpers.settings import SettingsError

    parser = argparse.ArgumentParser(description=f"Delete the tutorial's workspace ({WORKSPACE_NAME!r}).")
    parser.add_argument("--mode", choices=("local", "twilio"), help="default: TUTORIAL_MODE, else local")
    parser.add_argument("--yes", action="store_true", help="do not ask before deleting on a real Twilio account")
    args = parser.parse_args(argv)
    try:
        settings = prepare(args.mode, quiet=True)
    except (SettingsError, SetupError) as exc:
        print(exc, file=sys.stderr)
        return 1
    if settings.mode == "twilio" and not args.yes:
        answer = input(f"Delete the workspace {WORKSPACE_NAME!r} on your Twilio account? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return 1
    deleted = reset_tutorial(make_client(settings), stop_server=False)
    where = settings.taskrouter_url
    print(f"Deleted {len(deleted)} workspace(s) named {WORKSPACE_NAME!r} at {where}." if deleted
          else f"No workspace named {WORKSPACE_NAME!r} at {where}; nothing to do.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
