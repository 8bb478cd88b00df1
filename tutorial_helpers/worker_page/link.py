"""Notebook 06's way to the worker page: a link and the page itself in the output, and a headless stand-in.

    alice_page = WorkerPageLink(server.browser_url(f"/agents?WorkerSid={alice_sid}"))
    display(alice_page)        # a link (opens a browser tab) and the page inline
    alice_page.autopilot()     # headless runs: what the learner's clicks on the page do

The URL is the browser's: under a Jupyter server a path through it (`/user/alice/proxy/5000/agents?...`),
else the callback server's own. The autopilot does what the page's JavaScript
does, on the same wire, from the kernel and so directly: it loads the page from
your app (so it gets the token your route made), opens the EventBridge socket,
sets the worker Idle through the tunnel, and accepts the next reservation the
socket announces. The browser test runs the real SDK.
"""

from __future__ import annotations

import html
import json
import re
import threading
from typing import Any
from urllib.parse import urlsplit

import requests

from tutorial_helpers.callback_server import CallbackServer
from tutorial_helpers.socket_client import connect

ACCEPT_WITHIN_SECONDS = 120.0  # heartbeats come every 10 s: a longer silence means the server is gone


class WorkerPageLink:
    """Shown by display(): the page's link, and the page inline (an iframe), as JupyterLab renders HTML."""

    def __init__(self, url: str, *, height: int = 460):
        self.url = url
        self.height = height
        self.accepted: list[str] = []
        self.problem: str | None = None
        self._thread: threading.Thread | None = None

    def _repr_html_(self) -> str:
        url = html.escape(self.url, quote=True)
        return (f"<div class='tr-worker-page-link'><a href='{url}' target='_blank' rel='noopener'>Open Alice's page "
                f"in a new browser tab</a> <small>({url})</small></div>"
                f"<iframe class='tr-worker-page' src='{url}' style='width:100%; height:{self.height}px; "
                "border:1px solid #ccc' title=\"Alice's worker page\"></iframe>")

    def autopilot(self, activity: str = "Idle") -> None:
        """Headless runs: click `activity` and then Accept on the next reservation, as the learner would."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._drive, args=(activity,), name="worker-page", daemon=True)
        self._thread.start()

    def _drive(self, activity: str) -> None:
        try:
            page = requests.get(_direct(self.url), timeout=10)
            page.raise_for_status()
            token = json.loads(re.search(r"TaskRouter\.Worker\((\"[^\"]+\")", page.text).group(1))
            options = json.loads(re.search(r"TaskRouter\.Worker\(\"[^\"]+\", eventBridge\((\{.*?\})\)\)",
                                           page.text).group(1))
            socket = connect(f"{options['wsServer']}?token={token}&closeExistingSessions=false")
            try:
                init = json.loads(socket.receive(timeout=10))["payload"]
                path = f"Workspaces/{init['workspace_sid']}/Workers/{init['channel_id']}"

                def tunnel(url: str, method: str = "GET", **params: Any) -> Any:
                    answer = requests.post(options["ebServer"], timeout=10, data=json.dumps(
                        {"url": url, "method": method, "params": params, "token": token}))
                    answer.raise_for_status()
                    return answer.json()["payload"]

                activities = tunnel(f"Workspaces/{init['workspace_sid']}/Activities", PageSize=1000)["contents"]
                wanted = next(a["sid"] for a in activities if a["friendly_name"] == activity)
                def attempt(what: str, url: str, method: str = "GET", **params: Any) -> Any:
                    """A click whose request the server may refuse (a re-run cell tidied the task away)."""
                    try:
                        return tunnel(url, method, **params)
                    except requests.HTTPError as exc:
                        self.problem = f"{what}: {exc}"
                        return None

                def accept(sid: str) -> None:
                    if attempt(f"accepting {sid}", f"{path}/Reservations/{sid}", "POST",
                               ReservationStatus="accepted") is not None:
                        self.accepted.append(sid)

                attempt(f"setting {activity}", path, "POST", ActivitySid=wanted)
                # What the page shows at `ready`: reservations made before its socket was open.
                for res in (attempt("listing", f"{path}/Reservations", Active="true") or {"contents": []})["contents"]:
                    if res["reservation_status"] == "pending":
                        accept(res["sid"])
                # Like a diligent agent: accept what arrives, and when a task is finished go back to `activity`
                # (a re-run cell completes the old task and makes a new one), for as long as the page is open.
                while (frame := socket.receive(timeout=ACCEPT_WITHIN_SECONDS)) is not None:
                    if not frame.strip():
                        continue
                    event = json.loads(frame)
                    if event["event_type"] == "reservation.created":
                        accept(event["payload"]["sid"])
                    elif event["event_type"] == "reservation.completed":
                        attempt(f"setting {activity}", path, "POST", ActivitySid=wanted)
            finally:
                socket.close()
        except Exception as exc:  # reported by the check cell, which says what it saw
            self.problem = f"{type(exc).__name__}: {exc}"


def _direct(url: str) -> str:
    """The kernel's own way to a page `CallbackServer.browser_url` made: a path through the learner's Jupyter
    server (`.../proxy/<port>/agents?...`) is the callback server's `/agents?...`, reached directly."""
    server = CallbackServer.current()
    if urlsplit(url).scheme or server is None:
        return url
    _, marker, rest = url.partition(f"/proxy/{server.port}/")
    return f"http://127.0.0.1:{server.port}/{rest}" if marker else url
