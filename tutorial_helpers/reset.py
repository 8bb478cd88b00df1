"""Start over: delete the tutorial's workspace (both modes), so notebook 01 builds it afresh.

Always a deliberate act, never a flag left in a notebook: in notebook 03 a
button that first says what it will delete and asks again,

    start_over(client)

and from a shell a command that asks before it deletes:

    make reset                                  # or: python -m tutorial_helpers.reset
    python -m tutorial_helpers.reset --yes      # scripts: no question

Deleting a Workspace deletes its activities, workers, queues, workflows and
tasks with it, on Twilio as on the local TaskRouter. Nothing else on the
account is touched.
"""

from __future__ import annotations

import argparse
import html
import sys
from typing import Any

import ipywidgets as widgets
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


def what_would_be_deleted(client: Client, friendly_name: str = WORKSPACE_NAME) -> list[str]:
    """One line per workspace that start over would delete, with what is inside it."""
    tr = client.taskrouter.v1
    lines = []
    for workspace in tr.workspaces.list():
        if workspace.friendly_name != friendly_name:
            continue
        ws = tr.workspaces(workspace.sid)
        workers = [w.friendly_name for w in ws.workers.list()]
        lines.append(
            f"the workspace {friendly_name!r} ({workspace.sid}) with {len(ws.activities.list())} activities, "
            f"the workers {', '.join(workers) or '(none)'}, {len(ws.task_queues.list())} TaskQueues, "
            f"{len(ws.workflows.list())} Workflow(s) and {len(ws.tasks.list())} Task(s)"
        )
    return lines


class StartOverButton(widgets.VBox):
    """Delete the tutorial's workspace in two clicks: the first says what goes, the second deletes it."""

    def __init__(self, client: Client, *, friendly_name: str = WORKSPACE_NAME) -> None:
        self.client = client
        self.friendly_name = friendly_name
        self.ask = widgets.Button(description="Start over…", button_style="warning", icon="trash",
                                  tooltip=f"Delete the workspace {friendly_name!r} (asks first)")
        self.confirm = widgets.Button(description="Yes, delete it", button_style="danger")
        self.cancel = widgets.Button(description="Cancel")
        self.message = widgets.HTML("")
        self.message.add_class("tr-note")
        self._answers = widgets.HBox([self.confirm, self.cancel])
        self._answers.layout.display = "none"
        self.ask.on_click(self._on_ask)
        self.confirm.on_click(self._on_confirm)
        self.cancel.on_click(self._on_cancel)
        super().__init__([self.ask, self.message, self._answers])
        self.add_class("tr-start-over")

    def _say(self, text: str, color: str = "inherit") -> None:
        self.message.value = f"<div style='color:{color}; white-space:normal'>{text}</div>"

    def _on_ask(self, _button: Any = None) -> None:
        try:
            found = what_would_be_deleted(self.client, self.friendly_name)
        except Exception as exc:  # a click's error must show in the widget, not vanish
            self._say(f"Could not look at the account: {html.escape(str(exc))}", "#b00")
            return
        if not found:
            self._say(f"There is no workspace named {html.escape(repr(self.friendly_name))}: nothing to delete. "
                      "Notebook 01 builds it.")
            return
        items = "".join(f"<li>{html.escape(line)}</li>" for line in found)
        self._say(f"<b>This deletes</b><ul>{items}</ul>and stops this kernel's callback server. Nothing else on the "
                  "account is touched. Delete it?")
        self._answers.layout.display = "flex"

    def _on_confirm(self, _button: Any = None) -> None:
        self._answers.layout.display = "none"
        try:
            deleted = reset_tutorial(self.client, friendly_name=self.friendly_name)
        except Exception as exc:
            self._say(f"Could not delete the workspace: {html.escape(str(exc))}", "#b00")
            return
        self._say(f"Deleted {len(deleted)} workspace(s). To start again, open <b>01_workspace.ipynb</b> and run it "
                  "from the top; the other notebooks build what they need if you skip it.", "#2e7d32")

    def _on_cancel(self, _button: Any = None) -> None:
        self._answers.layout.display = "none"
        self._say("Nothing deleted.")


def start_over(client: Client) -> StartOverButton:
    """The start-over button for the end of notebook 03; display it (it is the cell's last value)."""
    return StartOverButton(client)


def main(argv: list[str] | None = None) -> int:
    from tutorial_helpers.client import make_client
    from tutorial_helpers.environment import SetupError, prepare
    from tutorial_helpers.settings import SettingsError

    parser = argparse.ArgumentParser(prog="python -m tutorial_helpers.reset",
                                     description=f"Delete the tutorial's workspace ({WORKSPACE_NAME!r}).")
    parser.add_argument("--mode", choices=("local", "twilio"), help="default: TUTORIAL_MODE, else local")
    parser.add_argument("--yes", action="store_true", help="do not ask before deleting")
    args = parser.parse_args(argv)
    try:
        settings = prepare(args.mode, quiet=True)
    except (SettingsError, SetupError) as exc:
        print(exc, file=sys.stderr)
        return 1
    client = make_client(settings)
    where = settings.taskrouter_url
    found = what_would_be_deleted(client)
    if not found:
        print(f"No workspace named {WORKSPACE_NAME!r} at {where}; nothing to do.")
        return 0
    if not args.yes:
        print(f"At {where} ({settings.mode} mode) this deletes:")
        for line in found:
            print(f"  - {line}")
        if not sys.stdin or not sys.stdin.isatty():
            print("Nothing deleted: no one to ask. Add --yes (make reset YES=1) to delete without asking.")
            return 1
        if input("Delete it? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return 1
    deleted = reset_tutorial(client, stop_server=False)
    print(f"Deleted {len(deleted)} workspace(s) named {WORKSPACE_NAME!r} at {where}. Notebook 01 builds it again.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
