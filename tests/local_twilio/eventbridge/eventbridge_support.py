"""Alice's side of EventBridge spoken from Python, for the tests in this folder (a uniquely named module:
conftest modules of several folders share one name)."""

import json

import requests
from simple_websocket import Client
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import TaskRouterGrant

from tutorial_helpers.socket_client import connect
from tutorial_helpers.workspace import build_quickstart


class Bridge:
    """Alice's side of EventBridge, spoken from Python: her token, her socket, the tunnel."""

    def __init__(self, taskrouter):
        self.taskrouter = taskrouter
        self.client = taskrouter.client()
        self.qs = build_quickstart(self.client)
        self.ws = self.client.taskrouter.v1.workspaces(self.qs.workspace_sid)
        self.key = self.client.new_keys.create(friendly_name="worker page")
        self.sockets: list[Client] = []

    def token(self, worker: str = "Alice", ttl: int = 3600, secret: str | None = None, **grant) -> str:
        token = AccessToken(self.taskrouter.account_sid, self.key.sid, secret or self.key.secret,
                            identity=worker.lower(), ttl=ttl)
        token.add_grant(TaskRouterGrant(workspace_sid=grant.get("workspace_sid", self.qs.workspace_sid),
                                        worker_sid=grant.get("worker_sid", self.qs.workers[worker]), role="worker"))
        return token.to_jwt()

    def connect(self, token: str | None = None, close_existing: bool = True) -> Client:
        url = (self.taskrouter.base_url.replace("http", "ws", 1) + f"/v1/wschannels?token={token or self.token()}"
               f"&closeExistingSessions={'true' if close_existing else 'false'}&clientVersion=2.1.1")
        sock = connect(url)
        self.sockets.append(sock)
        return sock

    def tunnel(self, url: str, method: str = "GET", token: str | None = None, **params) -> requests.Response:
        body = {"url": url, "method": method, "params": params, "token": token or self.token()}
        return requests.post(self.taskrouter.base_url + "/v1/wschannels", data=json.dumps(body),
                             headers={"Content-Type": "text/plain;charset=UTF-8"}, timeout=10)

    def alice_path(self, rest: str = "") -> str:
        return f"Workspaces/{self.qs.workspace_sid}/Workers/{self.qs.workers['Alice']}" + rest

    def close(self) -> None:
        for sock in self.sockets:
            try:
                sock.close()
            except Exception:
                pass


def frames(sock: Client, count: int, timeout: float = 15.0) -> list[dict]:
    """The next `count` non-blank frames, parsed."""
    got = []
    while len(got) < count:
        text = sock.receive(timeout=timeout)
        assert text is not None, f"only {len(got)} of {count} frames arrived: {got}"
        if text.strip():
            got.append(json.loads(text))
    return got
