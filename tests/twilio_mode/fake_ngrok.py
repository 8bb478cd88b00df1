#!/usr/bin/env python3
"""A stand-in for the ngrok agent, for tests: pyngrok drives it exactly as it drives the real one.

Standard library only. It answers what pyngrok runs:

    ngrok start --none --log stdout [--authtoken TOKEN] [--config PATH] [--region R]
    ngrok --version | version                  -> "ngrok version 3.x.y"
    ngrok update                               -> "No update available"

`start` serves the agent's local API on a free 127.0.0.1 port (announced in the "starting web service ...
addr=" log line pyngrok reads), then logs "client session established" and "tunnel session started", the
lines pyngrok waits for. The API lists, creates and deletes tunnels under /api/tunnels (ngrok's v2 shape)
and /api/endpoints (v3, what pyngrok 9 uses by default). Each tunnel is a plain HTTP forwarder on another
free 127.0.0.1 port, and its public URL is http://127.0.0.1:PORT: a request there really reaches the
upstream (the kernel's callback server), with the same method, path, query, headers and body.

Two deliberate choices, so a test proves what real ngrok would make it prove:
- The Host header is rewritten to the upstream's (ngrok's `host_header: rewrite`), and X-Forwarded-*
  carry the public side. So the callback server's own URL (http://127.0.0.1:UPSTREAM/...) differs from
  the URL TaskRouter signed (the public one), as behind real ngrok (https outside, http inside): only a
  server that checks signatures against its public URL accepts them.
- Without an authtoken (--authtoken, NGROK_AUTHTOKEN, or `authtoken:` in the config file) it fails as
  ngrok does (ERR_NGROK_4018). It never prints or logs the token; its JSON-lines log (FAKE_NGROK_LOG, if
  set) records a SHA-256 of it, so a test can tell which token pyngrok passed.

It exits when its parent (the kernel that started it) is gone, so a killed kernel leaves nothing behind
(logged as "parent-gone"; a SIGTERM, pyngrok's way of stopping it at exit, is logged as "terminated").
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

VERSION = "3.19.0"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
_log_lock = threading.Lock()


def record(event: str, **fields: object) -> None:
    """One JSON line in FAKE_NGROK_LOG (a test's evidence); never the authtoken itself."""
    path = os.environ.get("FAKE_NGROK_LOG")
    if not path:
        return
    line = json.dumps({"event": event, "pid": os.getpid(), "time": time.time(), **fields}) + "\n"
    with _log_lock, open(path, "a", encoding="utf-8") as log:
        log.write(line)


def say(lvl: str, msg: str, **fields: str) -> None:
    """A log line in ngrok's logfmt, which pyngrok parses (t=, lvl=, msg=, then key=value pairs)."""
    stamp = datetime.now(UTC).astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")
    extra = "".join(f" {k}={json.dumps(v) if ' ' in v or not v else v}" for k, v in fields.items())
    print(f't={stamp} lvl={lvl} msg="{msg}"{extra}', flush=True)


class Tunnel:
    """One public URL: a forwarder on its own port, to the upstream."""

    def __init__(self, name: str, upstream: str, proto: str) -> None:
        self.name, self.upstream, self.proto = name, upstream, proto
        target = urlsplit(upstream)
        self.target_host, self.target_port = target.hostname or "127.0.0.1", target.port or 80
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _forwarder(self))
        self.server.daemon_threads = True
        self.public_url = f"http://127.0.0.1:{self.server.server_port}"
        self.id = uuid.uuid4().hex
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def as_tunnel(self) -> dict:  # GET /api/tunnels (v2)
        return {"name": self.name, "ID": self.id, "uri": f"/api/tunnels/{quote(self.name, safe='')}",
                "public_url": self.public_url, "proto": self.proto,
                "config": {"addr": self.upstream, "inspect": False}, "metrics": {}}

    def as_endpoint(self) -> dict:  # GET /api/endpoints (v3)
        return {"name": self.name, "id": self.id, "uri": f"/api/endpoints/{quote(self.name, safe='')}",
                "url": self.public_url, "public_url": self.public_url,
                "upstream": {"url": self.upstream, "protocol": "http1"}, "metrics": {}}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _forwarder(tunnel: Tunnel) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # stdout is pyngrok's log pipe; the JSON log is the request log

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            public = urlsplit(tunnel.public_url)
            headers.update({
                "Host": f"{tunnel.target_host}:{tunnel.target_port}",
                "X-Forwarded-For": self.client_address[0],
                "X-Forwarded-Host": public.netloc,
                "X-Forwarded-Proto": public.scheme,
            })
            try:
                upstream = http.client.HTTPConnection(tunnel.target_host, tunnel.target_port, timeout=30)
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                status, reason, answer_headers = answer.status, answer.reason, answer.getheaders()
                upstream.close()
            except OSError as exc:
                # ngrok's own answer when the upstream is down.
                status, reason = 502, "Bad Gateway"
                payload = f"ngrok: failed to reach {tunnel.upstream} ({type(exc).__name__}) ERR_NGROK_8012".encode()
                answer_headers = [("Content-Type", "text/plain")]
            record("request", tunnel=tunnel.public_url, method=self.command, path=self.path, status=status,
                   signature=self.headers.get("X-Twilio-Signature"))
            self.send_response(status, reason)
            for key, value in answer_headers:
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward

    return Forward


def _upstream_url(options: dict) -> str | None:
    url = (options.get("upstream") or {}).get("url") or options.get("addr")
    if url is None:
        return None
    url = str(url)
    if "://" not in url:
        url = f"http://localhost:{url}" if ":" not in url else f"http://{url}"
    return url


class Agent:
    def __init__(self) -> None:
        self.tunnels: dict[str, Tunnel] = {}
        self.lock = threading.Lock()
        self.api = ThreadingHTTPServer(("127.0.0.1", 0), self._api_handler())
        self.api.daemon_threads = True

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.api.server_port}"

    def _api_handler(self) -> type[BaseHTTPRequestHandler]:
        agent = self

        class Api(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _reply(self, status: int, body: dict | None = None) -> None:
                payload = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _route(self) -> tuple[str, str | None] | None:
                # A tunnel's name may hold "/" and ":" (pyngrok's "http-http://127.0.0.1:8000-<uuid>").
                found = re.fullmatch(r"/api/(tunnels|endpoints)(?:/(.+?))?/?", urlsplit(self.path).path)
                return (found.group(1), unquote(found.group(2)) if found.group(2) else None) if found else None

            def do_GET(self) -> None:
                route = self._route()
                if route is None:
                    return self._reply(404, {"error_code": 100, "status_code": 404, "msg": "not found"})
                kind, name = route
                shape = Tunnel.as_tunnel if kind == "tunnels" else Tunnel.as_endpoint
                with agent.lock:
                    if name is None:
                        return self._reply(200, {kind: [shape(t) for t in agent.tunnels.values()],
                                                 "uri": f"/api/{kind}"})
                    tunnel = agent.tunnels.get(name)
                if tunnel is None:
                    return self._reply(404, {"error_code": 100, "status_code": 404, "msg": "tunnel not found"})
                return self._reply(200, shape(tunnel))

            def do_POST(self) -> None:
                route = self._route()
                if route is None or route[1] is not None:
                    return self._reply(404, {"error_code": 100, "status_code": 404, "msg": "not found"})
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    options = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return self._reply(400, {"error_code": 102, "status_code": 400, "msg": "invalid JSON"})
                upstream = _upstream_url(options)
                proto = options.get("proto") or "http"
                if upstream is None or not upstream.startswith("http://") or proto not in ("http", "https"):
                    return self._reply(400, {"error_code": 102, "status_code": 400,
                                             "msg": f"this stand-in forwards http only, got {options!r}"})
                name = options.get("name") or f"http-{uuid.uuid4()}"
                with agent.lock:
                    if name in agent.tunnels:
                        return self._reply(400, {"error_code": 103, "status_code": 400,
                                                 "msg": f"a tunnel named {name!r} already exists"})
                    tunnel = agent.tunnels[name] = Tunnel(name, upstream, "http")
                record("tunnel", name=name, public_url=tunnel.public_url, upstream=upstream, api=route[0])
                say("info", "started tunnel", obj="tunnels", name=name, addr=upstream, url=tunnel.public_url)
                shape = tunnel.as_tunnel() if route[0] == "tunnels" else tunnel.as_endpoint()
                return self._reply(201, shape)

            def do_DELETE(self) -> None:
                route = self._route()
                name = route[1] if route else None
                with agent.lock:
                    tunnel = agent.tunnels.pop(name, None) if name else None
                if tunnel is None:
                    return self._reply(404, {"error_code": 100, "status_code": 404, "msg": "tunnel not found"})
                tunnel.close()
                record("closed", name=name, public_url=tunnel.public_url)
                return self._reply(204)

        return Api


def _config_authtoken(path: str | None) -> str | None:
    if not path or not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as config:
        found = re.search(r"^\s*authtoken:\s*['\"]?([^'\"\s]+)", config.read(), re.MULTILINE)
    return found.group(1) if found else None


def _option(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _exit_with_parent() -> None:
    parent = os.getppid()
    while True:
        time.sleep(0.3)
        if os.getppid() != parent:
            record("parent-gone")
            os._exit(0)


def _terminated(signum: int, frame: object) -> None:
    record("terminated")  # as pyngrok stops the agent at its process's exit (SIGKILL cannot be recorded)
    os._exit(0)


def start(args: list[str]) -> int:
    if "--none" not in args:
        print("ERROR: this stand-in only runs `ngrok start --none` (as pyngrok does)", file=sys.stderr)
        return 2
    token = _option(args, "--authtoken") or os.environ.get("NGROK_AUTHTOKEN") or _config_authtoken(
        _option(args, "--config"))
    if not token:
        say("eror", "failed to auth", obj="tunnels.session",
            err="authentication failed: Usage of ngrok requires a verified account and authtoken. ERR_NGROK_4018")
        return 1
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    signal.signal(signal.SIGTERM, _terminated)
    agent = Agent()
    threading.Thread(target=agent.api.serve_forever, daemon=True).start()
    record("session", api=f"http://{agent.addr}", authtoken_sha256=hashlib.sha256(token.encode()).hexdigest(),
           region=_option(args, "--region"), config=_option(args, "--config"))
    say("info", "no configuration paths supplied")
    say("info", "starting web service", obj="web", addr=agent.addr, allow_hosts="[]")
    say("info", "client session established", obj="tunnels.session")
    say("info", "tunnel session started", obj="tunnels.session")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


def main(argv: list[str]) -> int:
    args = argv[1:]
    if not args or args[0] in ("--version", "version", "-v"):
        print(f"ngrok version {VERSION}")
        return 0
    if args[0] == "start":
        return start(args[1:])
    if args[:2] == ["config", "check"]:
        print("Valid configuration file")
        return 0
    if args[0] == "update":
        print("No update available, this is the latest version.")
        return 0
    print(f"ERROR: the stand-in ngrok does not do {' '.join(args[:2])!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
