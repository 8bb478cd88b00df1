"""Shared set-up for the helper tests: the quickstart workspace plus a callback server, in-process."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response
from polling import wait_until  # noqa: F401  (re-exported for the test modules)

from tutorial_helpers.callback_server import CallbackServer, start_callback_server
from tutorial_helpers.local_twilio import LocalTaskRouter
from tutorial_helpers.settings import Settings
from tutorial_helpers.workspace import QuickstartWorkspace, build_quickstart

ACCEPT = '{"instruction": "accept"}'




def local_settings(tr: LocalTaskRouter) -> Settings:
    return Settings("local", tr.account_sid, tr.auth_token, None, tr.base_url)


def callback_app(body: str = "{}", mimetype: str = "application/json", status: int = 200,
                 side_effect: Callable[[], None] | None = None) -> Flask:
    """The learner's route, answering `body`; `side_effect` runs first when given."""
    app = Flask("learner")
    app.calls = 0  # type: ignore[attr-defined]

    @app.route("/assignment_callback", methods=["GET", "POST"])
    def assignment_callback() -> Response:
        app.calls += 1  # type: ignore[attr-defined]
        if side_effect is not None:
            side_effect()
        return Response(response=body, status=status, mimetype=mimetype)

    return app


@dataclass
class Tutorial:
    tr: LocalTaskRouter
    client: Any
    settings: Settings
    server: CallbackServer
    quickstart: QuickstartWorkspace

    @property
    def ws(self) -> Any:
        return self.client.taskrouter.v1.workspaces(self.quickstart.workspace_sid)

    def serve(self, app: Flask) -> None:
        start_callback_server(app, self.settings)

    def set_activity(self, worker: str, activity: str) -> Any:
        return self.ws.workers(self.quickstart.workers[worker]).update(
            activity_sid=self.quickstart.activities[activity]
        )

    def spanish_task(self) -> Any:
        return self.ws.tasks.create(
            attributes=json.dumps({"selected_language": "es"}), workflow_sid=self.quickstart.workflow_sid
        )

    def worker(self, name: str) -> Any:
        return self.ws.workers(self.quickstart.workers[name]).fetch()


def make_tutorial(tr: LocalTaskRouter, app: Flask | None = None) -> Tutorial:
    client = tr.client()
    settings = local_settings(tr)
    server = start_callback_server(app or callback_app(), settings)
    quickstart = build_quickstart(client, server.url_for("/assignment_callback"))
    return Tutorial(tr, client, settings, server, quickstart)
