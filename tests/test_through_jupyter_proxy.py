"""The browser's way in through the learner's own Jupyter server (jupyter-server-proxy), and what it must not let
through.

The proxy passes the learner's Jupyter cookies and `?token=` on to the app behind it and leaves XSRF checks to
that app. So: the callback app never sees, logs or echoes them; and a page on another origin cannot use them to
drive Alice's page (change her activity, accept her reservation) through the proxy, while her own page, on
JupyterLab's origin, can. First with Flask's test client, then once through a real jupyter-server-proxy.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask, Response, render_template, request
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import TaskRouterGrant

from tutorial_helpers import worker_page
from tutorial_helpers.browser_urls import jupyter_prefix
from tutorial_helpers.callback_server import CallbackLog, protect, start_callback_server
from tutorial_helpers.settings import Settings
from tutorial_helpers.workspace import build_quickstart

JUPYTER_TOKEN = "learners-jupyter-token-0123456789"
JUPYTER_COOKIE = "username-127-0-0-1-8888=learners-jupyter-login-cookie"
PREFIX = "/user/alice/proxy/5000"
THROUGH_PROXY = {"X-Forwarded-Prefix": PREFIX, "X-Forwarded-Context": PREFIX, "Host": "hub.example.org"}
SAME_ORIGIN = {**THROUGH_PROXY, "Origin": "https://hub.example.org", "Sec-Fetch-Site": "same-origin",
               "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
# What Chromium sends when a page on another site makes the learner's browser fetch, post a form or frame a page.
CROSS_SITE = {**THROUGH_PROXY, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site",
              "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
SID = "AC" + "ab" * 16
TOKEN = "test-auth-token"


def page_app(settings: Settings, seen: list[dict], quickstart=None, api_key=None) -> Flask:
    """Notebook 06's app (its /agents renders the worker page), noting what each request showed the app."""
    app = Flask(__name__, template_folder=worker_page.TEMPLATES, static_folder=worker_page.STATIC)

    @app.route("/agents", methods=["GET"])
    def generate_view():
        seen.append({"cookie": request.headers.get("Cookie"), "authorization": request.headers.get("Authorization"),
                     "args": request.args.to_dict()})
        worker_sid = request.args.get("WorkerSid")
        if api_key is None:
            token = "no-token"
        else:
            access = AccessToken(settings.account_sid, api_key.sid, api_key.secret, identity=worker_sid, ttl=3600)
            access.add_grant(TaskRouterGrant(workspace_sid=quickstart.workspace_sid, worker_sid=worker_sid,
                                             role="worker"))
            token = access.to_jwt()
        return render_template("agents.html", worker_token=token, sdk_options=worker_page.sdk_options(settings))

    @app.route("/agents/broken", methods=["GET"])
    def broken():
        raise ValueError("a learner's bug")

    @app.route("/assignment_callback", methods=["POST"])
    def assignment_callback():
        return Response("{}", mimetype="application/json")

    return app


@pytest.fixture
def hub_prefix(monkeypatch):
    """The kernel's prefix is /user/alice/, as on a hub."""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    jupyter_prefix.cache_clear()
    yield
    jupyter_prefix.cache_clear()


@pytest.fixture
def page_client(hub_prefix):
    seen: list[dict] = []
    log = CallbackLog()
    app = page_app(Settings("local", SID, TOKEN), seen)
    protect(app, TOKEN, log=log)
    app.wsgi_app.browser_paths = worker_page.PAGE_PATHS  # what start_callback_server(browser_paths=...) sets
    return app.test_client(), seen, log


# ---------------------------------------------------------------------------------------- the callback app


def test_the_page_through_the_proxy_keeps_the_prefix_and_only_its_origin_frames_it(page_client):
    client, _seen, log = page_client
    answer = client.get("/agents?WorkerSid=WK1", headers={**SAME_ORIGIN, "Sec-Fetch-Dest": "iframe",
                                                           "Sec-Fetch-Mode": "navigate"})
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert f'src="{PREFIX}/static/twilio-taskrouter.js"' in page  # url_for under X-Forwarded-Prefix
    # EventBridge through the same Jupyter server, as a path the page turns into http(s) and ws(s) URLs.
    assert '"ebServer": "/user/alice/proxy/8765/v1/wschannels"' in page
    assert answer.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert log.last().path == "/agents"  # what notebook 06's check looks for, prefix or not
    direct = client.get("/agents?WorkerSid=WK1")
    assert 'src="/static/twilio-taskrouter.js"' in direct.get_data(as_text=True)
    assert "Content-Security-Policy" not in direct.headers
    assert '"ebServer": "http://127.0.0.1:8765/v1/wschannels"' in direct.get_data(as_text=True)


def test_jupyters_cookies_and_token_reach_neither_the_app_nor_the_log(page_client):
    client, seen, log = page_client
    headers = {**SAME_ORIGIN, "Cookie": JUPYTER_COOKIE, "Authorization": f"token {JUPYTER_TOKEN}"}
    answers = [
        client.get(f"/agents?WorkerSid=WK1&token={JUPYTER_TOKEN}&_xsrf=XSRF1", headers=headers),
        client.get(f"/agents/broken?token={JUPYTER_TOKEN}", headers=headers),  # the learner's route raises
        client.get(f"/nothing-here?token={JUPYTER_TOKEN}", headers=headers),  # refused: not a page
        client.get(f"/agents?token={JUPYTER_TOKEN}", headers={**CROSS_SITE, "Cookie": JUPYTER_COOKIE}),  # refused
    ]
    assert [a.status_code for a in answers] == [200, 500, 403, 403]
    assert seen == [{"cookie": None, "authorization": None, "args": {"WorkerSid": "WK1"}}]
    for answer in answers:
        body = answer.get_data(as_text=True)
        assert JUPYTER_TOKEN not in body and "learners-jupyter-login-cookie" not in body and "XSRF1" not in body
    logged = repr(log.entries())
    assert JUPYTER_TOKEN not in logged and "learners-jupyter-login-cookie" not in logged and "XSRF1" not in logged
    assert log.entries()[0].params == {"WorkerSid": "WK1"}


def test_a_token_in_a_direct_request_is_hidden_in_the_log(page_client):
    """Not through the proxy (a laptop's browser shares cookies across ports, a link pasted with its token):
    the app gets its request as sent, the log never shows a `token`."""
    client, seen, log = page_client
    assert client.get(f"/agents?WorkerSid=WK1&token={JUPYTER_TOKEN}").status_code == 200
    assert seen[-1]["args"]["token"] == JUPYTER_TOKEN
    assert log.last().params == {"WorkerSid": "WK1", "token": "(hidden)"}


@pytest.mark.parametrize("headers", [
    CROSS_SITE,
    {**CROSS_SITE, "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"},  # framed by another site
    {**CROSS_SITE, "Sec-Fetch-Site": "same-site"},  # another port of the same host
    {**THROUGH_PROXY, "Origin": "https://evil.example"},  # a browser without Sec-Fetch-*
    {**THROUGH_PROXY, "Origin": "null"},  # a sandboxed frame
], ids=["fetch", "iframe", "same-site", "origin-only", "null-origin"])
def test_another_origin_cannot_use_the_learners_login_on_the_page(page_client, headers):
    client, seen, log = page_client
    answer = client.get("/agents?WorkerSid=WK1", headers={**headers, "Cookie": JUPYTER_COOKIE})
    assert answer.status_code == 403 and "another" in answer.get_json()["error"]
    assert seen == [] and log.last().status == 403


def test_a_link_from_anywhere_still_opens_the_page(page_client):
    """A top-level navigation (the learner clicked a link, on another site or typed it) changes nothing."""
    client, seen, _ = page_client
    navigate = {**CROSS_SITE, "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    navigate.pop("Origin")
    assert client.get("/agents?WorkerSid=WK1", headers=navigate).status_code == 200
    assert client.get("/agents?WorkerSid=WK1", headers={**THROUGH_PROXY, "Sec-Fetch-Site": "none"}).status_code == 200
    assert len(seen) == 2


# ---------------------------------------------------------------------------------------- the local EventBridge


def worker_token(taskrouter, quickstart, key, worker: str = "Alice") -> str:
    access = AccessToken(taskrouter.account_sid, key.sid, key.secret, identity=worker, ttl=3600)
    access.add_grant(TaskRouterGrant(workspace_sid=quickstart.workspace_sid, worker_sid=quickstart.workers[worker],
                                     role="worker"))
    return access.to_jwt()


def tunnel_body(token: str, url: str, method: str = "GET", **params) -> str:
    return json.dumps({"url": url, "method": method, "params": params, "token": token})


def test_another_origin_cannot_change_alices_activity_or_accept_through_the_proxy(taskrouter, client):
    """EventBridge's tunnel, reached through the learner's Jupyter server: Alice's own page (same origin) acts;
    a cross-origin POST carrying the learner's cookies, even with her token, is refused (403, 20403) and
    changes nothing; reached directly (a laptop's page on the callback port), cross-origin works as before."""
    quickstart = build_quickstart(client)
    workspace = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    key = client.new_keys.create(friendly_name="worker page")
    token = worker_token(taskrouter, quickstart, key)
    alice = f"Workspaces/{quickstart.workspace_sid}/Workers/{quickstart.workers['Alice']}"
    bridge = taskrouter.app.test_client()
    through = {**THROUGH_PROXY, "Cookie": JUPYTER_COOKIE, "X-Forwarded-Prefix": "/user/alice/proxy/8765",
               "X-Forwarded-Context": "/user/alice/proxy/8765"}

    def post(headers: dict, method: str, url: str, **params):
        return bridge.post("/v1/wschannels", data=tunnel_body(token, url, method, **params), headers=headers)

    idle = quickstart.activities["Idle"]
    refused = post({**through, **{k: v for k, v in CROSS_SITE.items() if k not in THROUGH_PROXY}}, "POST", alice,
                   ActivitySid=idle)
    assert refused.status_code == 403 and refused.get_json()["code"] == 20403
    assert workspace.workers(quickstart.workers["Alice"]).fetch().activity_name == "Offline"
    for headers in ({**through, "Origin": "https://evil.example"}, {**through, "Sec-Fetch-Site": "same-site"}):
        assert post(headers, "POST", alice, ActivitySid=idle).status_code == 403
    preflight = bridge.options("/v1/wschannels", headers={**through, "Origin": "https://evil.example",
                                                          "Sec-Fetch-Site": "cross-site"})
    assert preflight.status_code == 403

    same_origin = {**through, **{k: v for k, v in SAME_ORIGIN.items() if k not in THROUGH_PROXY}}
    assert post(same_origin, "POST", alice, ActivitySid=idle).status_code == 200
    assert workspace.workers(quickstart.workers["Alice"]).fetch().activity_name == "Idle"

    # A reservation for Alice: another origin cannot accept it; her page can.
    task = workspace.tasks.create(attributes=json.dumps({"selected_language": "es"}),
                                  workflow_sid=quickstart.workflow_sid)
    reservation = _pending_reservation(workspace, task.sid)
    accept = f"{alice}/Reservations/{reservation}"
    forged = post({**through, **{k: v for k, v in CROSS_SITE.items() if k not in THROUGH_PROXY}}, "POST", accept,
                  ReservationStatus="accepted")
    assert forged.status_code == 403
    assert workspace.tasks(task.sid).fetch().assignment_status == "reserved"
    assert post(same_origin, "POST", accept, ReservationStatus="accepted").status_code == 200
    assert workspace.tasks(task.sid).fetch().assignment_status == "assigned"

    # Not through the proxy: the page on the callback server's port reaches EventBridge cross-origin, as before.
    direct = bridge.post("/v1/wschannels", data=tunnel_body(token, alice), headers={
        "Origin": "http://127.0.0.1:5000", "Sec-Fetch-Site": "same-site"})
    assert direct.status_code == 200 and direct.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:5000"


def _pending_reservation(workspace, task_sid: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pending = [r for r in workspace.tasks(task_sid).reservations.list() if r.reservation_status == "pending"]
        if pending:
            return pending[0].sid
        time.sleep(0.05)
    raise AssertionError("no reservation for Alice")


# ---------------------------------------------------------------------------------------- a real jupyter-server-proxy


@pytest.fixture
def jupyter_server(tmp_path: Path) -> Iterator[str]:
    """A plain Jupyter server behind a prefix, with a token, from this venv (jupyter-server-proxy enabled as
    `make install` leaves it); its URL with the prefix."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    env.pop("JUPYTERHUB_SERVICE_PREFIX", None)
    cmd = [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           "--ServerApp.base_url=/some/prefix/", f"--IdentityProvider.token={JUPYTER_TOKEN}",
           f"--ServerApp.root_dir={tmp_path}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "jupyter.log", "wb")
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/some/prefix"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                if requests.get(f"{url}/api/status?token={JUPYTER_TOKEN}", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("Jupyter did not start:\n" + (tmp_path / "jupyter.log").read_text()[-3000:])
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_through_a_real_jupyter_server_proxy(jupyter_server, taskrouter, client, no_callback_server_left,
                                             monkeypatch):
    """The page, its script, EventBridge's tunnel and socket, all through `{base_url}proxy/<port>/` with the
    learner's Jupyter login; a foreign origin is refused at each; Jupyter's token and cookie stay Jupyter's."""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/some/prefix/")  # the kernel's prefix, as a hub would say
    jupyter_prefix.cache_clear()
    origin = jupyter_server.split("/some/prefix")[0]
    settings = Settings("local", taskrouter.account_sid, taskrouter.auth_token, None, taskrouter.base_url)
    quickstart = build_quickstart(client)
    workspace = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    key = client.new_keys.create(friendly_name="worker page")
    seen: list[dict] = []
    server = start_callback_server(page_app(settings, seen, quickstart, key), settings,
                                   browser_paths=worker_page.PAGE_PATHS)
    try:
        browser = requests.Session()
        # The learner's login: the token once in a URL, then Jupyter's cookie, as a browser keeps it.
        assert browser.get(f"{jupyter_server}/api/status?token={JUPYTER_TOKEN}", timeout=10).ok
        assert browser.cookies, "Jupyter set no login cookie"
        alice_sid = quickstart.workers["Alice"]
        page_path = server.browser_url(f"/agents?WorkerSid={alice_sid}")
        assert page_path == f"/some/prefix/proxy/{server.port}/agents?WorkerSid={alice_sid}"
        same_origin = {"Origin": origin, "Sec-Fetch-Site": "same-origin"}

        anonymous = requests.get(origin + page_path, timeout=10, allow_redirects=False)
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]  # Jupyter's login

        page = browser.get(f"{origin}{page_path}&token={JUPYTER_TOKEN}", headers={"Sec-Fetch-Site": "none"},
                           timeout=10)
        assert page.status_code == 200
        assert seen[-1] == {"cookie": None, "authorization": None, "args": {"WorkerSid": alice_sid}}
        logged = repr(server.log.entries())
        assert JUPYTER_TOKEN not in logged and not any(c.value in logged for c in browser.cookies)
        script = f"/some/prefix/proxy/{server.port}/static/twilio-taskrouter.js"
        assert f'src="{script}"' in page.text
        assert browser.get(origin + script, headers=same_origin, timeout=10).status_code == 200
        options = json.loads(page.text.split("eventBridge(", 2)[2].split("));")[0])
        bridge = f"/some/prefix/proxy/{urlport(taskrouter.base_url)}/v1/wschannels"
        assert options == {"ebServer": bridge, "wsServer": bridge}
        token = json.loads(page.text.split("new TaskRouter.Worker(")[1].split(", eventBridge(")[0])
        alice = f"Workspaces/{quickstart.workspace_sid}/Workers/{alice_sid}"
        idle = tunnel_body(token, alice, "POST", ActivitySid=quickstart.activities["Idle"])

        forged = browser.post(origin + bridge, data=idle, timeout=10,
                              headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
        assert forged.status_code == 403 and forged.json()["code"] == 20403
        assert workspace.workers(alice_sid).fetch().activity_name == "Offline"
        framed = browser.get(origin + page_path, timeout=10, headers={"Sec-Fetch-Site": "cross-site",
                                                                        "Sec-Fetch-Dest": "iframe",
                                                                        "Sec-Fetch-Mode": "navigate"})
        assert framed.status_code == 403
        assert browser.post(origin + bridge, data=idle, headers=same_origin, timeout=10).status_code == 200
        assert workspace.workers(alice_sid).fetch().activity_name == "Idle"

        # The socket as Alice's page opens it: the SDK's ?token= is her worker token, which Jupyter does not
        # take for its own; the cookie logs her in. Another origin is refused by Jupyter before forwarding.
        socket_url = f"ws://{origin.split('//')[1]}{bridge}?token={token}&closeExistingSessions=false"
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
        with pytest.raises(HTTPClientError) as refused:
            first_frame(socket_url, {"Cookie": cookie, "Origin": "https://evil.example"})
        assert refused.value.code == 403
        init = json.loads(first_frame(socket_url, {"Cookie": cookie, "Origin": origin}))
        assert init["event_type"] == "init" and init["payload"]["channel_id"] == alice_sid
    finally:
        server.stop()
        jupyter_prefix.cache_clear()


def first_frame(url: str, headers: dict[str, str]) -> str:
    """The socket's first frame, opened as a browser does (tornado's client sends Host with its port, which
    Jupyter's login cookie is named after; simple-websocket's does not)."""

    async def receive() -> str:
        sock = await websocket_connect(HTTPRequest(url, headers=headers, connect_timeout=10, request_timeout=10))
        try:
            return await asyncio.wait_for(sock.read_message(), 10)
        finally:
            sock.close()

    return asyncio.run(receive())


def urlport(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def test_the_log_of_a_real_callback_server_shows_no_jupyter_credentials_of_a_direct_request(
        no_callback_server_left):
    """Direct (a laptop's browser sends JupyterLab's cookies to every port of 127.0.0.1): headers are never logged."""
    seen: list[dict] = []
    server = start_callback_server(page_app(Settings("local", SID, TOKEN), seen), Settings("local", SID, TOKEN),
                                   browser_paths=worker_page.PAGE_PATHS)
    try:
        answer = requests.get(server.url_for(f"/agents?token={JUPYTER_TOKEN}"), timeout=5,
                              headers={"Cookie": JUPYTER_COOKIE})
        assert answer.status_code == 200
        logged = repr(server.log.entries())
        assert JUPYTER_TOKEN not in logged and "learners-jupyter-login-cookie" not in logged
    finally:
        server.stop()
