"""The two faces of /v1/wschannels on the local server's Flask app: the tunnel (POST, and its CORS
preflight) and the websocket (GET with Upgrade), whose token is checked before the handshake.

The websocket is simple-websocket's `Server`, the engine flask-sock runs on;
the route is written out here (as flask-sock writes it) only so that a bad
token is refused with a plain 401 before the handshake instead of a socket
that opens and closes.
"""

from __future__ import annotations

import json
import logging
import time
from queue import Empty

from flask import Flask, Response, g, request
from simple_websocket import ConnectionClosed, Server

from ..core.exceptions import InvalidParameter, TwilioError
from ..taskrouter.models import Backend
from .hub import CLOSE, HEARTBEAT_SECONDS, Connection, Hub
from .rest_route import RestRoute
from .tokens import verify

log = logging.getLogger(__name__)

PATH = "/v1/wschannels"
FEED_PATH = "/_local/Events/stream"
WAKE_SECONDS = 0.5  # how often an idle socket looks at its token's expiry and its peer
CORS = {
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "clientversion, apiversion, content-type, if-match",
    "Access-Control-Max-Age": "600",
}


def _json(body: object, status: int = 200) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    # The worker page is served by the learner's app, another origin: the SDK's requests are cross-origin.
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
    response.headers["Vary"] = "Origin"
    return response


def install(app: Flask, backend: Backend, key_secret) -> Hub:
    """Add the tunnel and the websocket to `app`; `key_secret(account_sid, key_sid)` verifies tokens."""
    hub = Hub(backend)
    tunnel = RestRoute(backend)

    def grant_for(token: str | None):
        return verify(token, key_secret, backend.now())

    def tunnel_request() -> Response:
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
            if not isinstance(body, dict):
                raise InvalidParameter("the tunnel's body must be a JSON object {url, method, params, token}")
            grant = grant_for(body.get("token"))
            payload = tunnel.handle(grant, str(body.get("method") or "GET"), str(body.get("url") or ""),
                                    body.get("params") or {})
        except ValueError:
            return _json(InvalidParameter("the tunnel's body is not JSON").body(), 400)
        except TwilioError as exc:
            return _json(exc.body(), exc.status)
        return _json({"payload": payload})

    def preflight() -> Response:
        response = _json({})
        response.headers.update(CORS)
        return response

    def served(conn: Connection, serve) -> Response:
        """Serve an accepted socket until it ends, then let the hub forget it and close it."""
        try:
            ws = Server(request.environ)
        except Exception:  # the handshake failed: nothing to serve
            hub.forget(conn)
            raise
        try:
            serve(ws)
        except ConnectionClosed:
            pass
        finally:
            hub.forget(conn)
            try:
                ws.close(reason=1000, message=conn.closed_by_server or "")
            except Exception:  # already closed by the other side
                pass
        # As flask-sock does under werkzeug: the socket has been served; this empty answer ends the request.
        return Response()

    def websocket() -> Response:
        try:
            grant = grant_for(request.args.get("token"))
            # A worker deleted (or in a deleted workspace) has nothing to follow: refused as the tunnel would.
            backend.child(grant.account_sid, grant.workspace_sid, "worker", grant.worker_sid, "Workers")
        except TwilioError as exc:
            return _json(exc.body(), exc.status)
        close_existing = (request.args.get("closeExistingSessions") or "").lower() == "true"
        conn = hub.open(grant, close_existing)
        return served(conn, lambda ws: _serve(ws, conn, hub))

    def feed() -> Response:
        """GET /_local/Events/stream?WorkspaceSid=WS (websocket, Basic auth): every event of the workspace, as it
        commits: what the notebook's widgets follow instead of polling."""
        ws_sid = request.args.get("WorkspaceSid") or ""
        backend.workspace(g.account_sid, ws_sid)  # 404 for a workspace of another account
        conn = hub.open_feed(ws_sid)
        return served(conn, lambda ws: _pump(ws, conn, lambda: False))

    app.add_url_rule(FEED_PATH, endpoint="eventbridge.feed", view_func=feed, methods=["GET"], websocket=True,
                     provide_automatic_options=False)
    app.add_url_rule(PATH, endpoint="eventbridge.tunnel", view_func=tunnel_request, methods=["POST"],
                     provide_automatic_options=False)
    app.add_url_rule(PATH, endpoint="eventbridge.preflight", view_func=preflight, methods=["OPTIONS"],
                     provide_automatic_options=False)
    app.add_url_rule(PATH, endpoint="eventbridge.websocket", view_func=websocket, methods=["GET"], websocket=True,
                     provide_automatic_options=False)
    return hub


def _serve(ws: Server, conn: Connection, hub: Hub) -> None:
    """A worker page's socket: `init`, then what the hub queues for her, until her token expires."""
    ws.send(hub.init_frame(conn.grant))

    def expired() -> bool:
        if hub.backend.now() >= conn.grant.expires_at:
            conn.closed_by_server = "the access token expired"
            return True
        return False

    _pump(ws, conn, expired)


def _pump(ws: Server, conn: Connection, over) -> None:
    """Send every frame queued for `conn`, with a blank heartbeat when quiet, until `over()` or a close."""
    last_sent = time.monotonic()
    while ws.connected and not over():
        try:
            frame = conn.frames.get(timeout=WAKE_SECONDS)
        except Empty:
            if time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
                ws.send(" ")  # any frame is a heartbeat to the SDK; a blank one is otherwise ignored
                last_sent = time.monotonic()
            continue
        if frame is CLOSE:
            return
        ws.send(frame)
        last_sent = time.monotonic()
