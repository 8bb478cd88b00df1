"""Serve the learner's Flask app to the TaskRouter from inside a notebook kernel.

One werkzeug server per kernel: re-running the notebook cell swaps the app
behind the same socket, so the URL the workflow was given stays valid. Every
request passes a signature check (X-Twilio-Signature) and lands in a
`CallbackLog` that a widget can follow; the only exceptions are the paths an
app names as pages for a browser (`browser_paths`, notebook 06's worker page),
which no Twilio service calls and nobody signs, and HEALTH_PATH, which answers
200 to a GET without reaching the app (notebook 00's reachability test from a
workshop room's TaskRouter).

A browser may reach those pages through the learner's own Jupyter server
(jupyter-server-proxy, `browser_url`): the app then sees its prefix
(`X-Forwarded-Prefix`, so `url_for` keeps it), never the learner's Jupyter
cookies or `?token=` that the proxy passes on, and answers only pages of the
same origin (local_twilio/core/proxied.py): a page on another site cannot use
the learner's Jupyter login to drive Alice's page. Webhooks never come that way:
TaskRouter calls `url_for`'s URL directly.

It listens on 127.0.0.1 unless CALLBACK_HOST says otherwise (callback_host.py):
a workshop room's TaskRouter on another machine must reach it.
"""

from __future__ import annotations

import io
import json
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wsgi import get_current_url, get_input_stream

from tutorial_helpers.browser_urls import browser_url
from tutorial_helpers.callback_host import bind_and_advertise, is_all, is_loopback, url_host
from tutorial_helpers.errors import TutorialError
from tutorial_helpers.local_twilio.core import proxied

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from tutorial_helpers.settings import Settings

CALLBACK_HOST = "127.0.0.1"
# A cheap GET that answers 200 and touches neither the app nor the log: something for a TaskRouter to fetch when
# it tests whether it can reach this server. It tells nothing but "this is a callback server".
HEALTH_PATH = "/_health"
MAX_BODY_BYTES = 1024 * 1024
LOGGED_BODY_CHARS = 2000
# What jupyter-server-proxy passes on from the learner's Jupyter login: taken out of a proxied request before the
# app or the log sees it. The query's names are also hidden in every log entry, however the request came.
JUPYTER_CREDENTIALS = ("HTTP_COOKIE", "HTTP_AUTHORIZATION")
HIDDEN_PARAMS = ("token", "_xsrf")
HIDDEN = "(hidden)"
# Pages served through the learner's Jupyter server may be framed by that origin only (JupyterLab's output).
SAME_ORIGIN_FRAMES = ("Content-Security-Policy", "frame-ancestors 'self'")
Listener = Callable[["CallbackEntry"], None]


@dataclass(frozen=True)
class CallbackEntry:
    """One request as the callback server saw it (never holds the auth token)."""

    timestamp: datetime
    method: str
    path: str
    params: dict[str, str]
    signature_valid: bool
    status: int
    content_type: str | None
    body: str
    signature: str | None = None
    # What the app wrote to wsgi.errors (Flask's tracebacks), kept instead of printed.
    errors: str = ""


class CallbackLog:
    """Thread-safe, bounded record of callback requests, with change listeners."""

    def __init__(self, maxlen: int = 200) -> None:
        self._entries: deque[CallbackEntry] = deque(maxlen=maxlen)
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def append(self, entry: CallbackEntry) -> None:
        with self._lock:
            self._entries.append(entry)
            listeners = list(self._listeners)
        # Called outside the lock so a listener may read the log.
        for listener in listeners:
            try:
                listener(entry)
            except Exception:
                # A broken widget must not turn a callback into a 500 for the TaskRouter.
                pass

    def entries(self) -> list[CallbackEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def last(self, path: str | None = None) -> CallbackEntry | None:
        with self._lock:
            for entry in reversed(self._entries):
                if path is None or entry.path == path:
                    return entry
        return None

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


@dataclass
class _Reply:
    status: str
    headers: list[tuple[str, str]]
    chunks: list[bytes] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class SignatureCheck:
    """WSGI middleware: refuse requests without a valid X-Twilio-Signature, log all of them.

    The response is buffered so its body can be logged; callback answers are tiny.
    """

    def __init__(
        self,
        app: WSGIApplication,
        auth_token: str,
        public_base_url: str | None = None,
        *,
        log: CallbackLog | None = None,
    ) -> None:
        self.app = app
        self.public_base_url = public_base_url
        self.log = log if log is not None else CallbackLog()
        self.browser_paths: tuple[str, ...] = ()
        self.set_auth_token(auth_token)

    def set_auth_token(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            # Not a callback: unsigned, unlogged (the widgets show callbacks), and never the learner's app.
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ok", "service": "callback-server"}']
        environ["wsgi.errors"] = errors = io.StringIO()
        through_proxy = proxied.through_proxy(environ)
        if through_proxy:
            _drop_jupyter_credentials(environ)
        # Read now: the app behind the prefix fix moves the prefix into SCRIPT_NAME.
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        signature = environ.get("HTTP_X_TWILIO_SIGNATURE")
        foreign = proxied.foreign_origin(environ)
        try:
            body = get_input_stream(environ, max_content_length=MAX_BODY_BYTES).read()
        except RequestEntityTooLarge:
            body, valid = b"", False
            reply = _json_reply("413 Content Too Large", "request body too large")
        else:
            # The app reads the body again from a fresh stream.
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            valid = self._is_signed(environ, body, signature)
            if foreign:
                reply = _json_reply("403 Forbidden", foreign)
            elif valid or self._for_a_browser(environ):
                reply = _call(self.app, environ)
            else:
                reply = _json_reply("403 Forbidden", "missing or invalid X-Twilio-Signature")
        if through_proxy:
            reply.headers.append(SAME_ORIGIN_FRAMES)

        payload = b"".join(reply.chunks)
        self.log.append(
            CallbackEntry(
                timestamp=datetime.now(UTC),
                method=environ.get("REQUEST_METHOD", "GET"),
                path=path,
                params=_logged_params(environ, body).to_dict(),
                signature_valid=valid,
                status=int(reply.status.split()[0]),
                content_type=reply.header("Content-Type"),
                body=payload.decode("utf-8", "replace")[:LOGGED_BODY_CHARS],
                signature=signature,
                errors=errors.getvalue()[-LOGGED_BODY_CHARS:],
            )
        )
        start_response(reply.status, reply.headers)
        return [payload]

    def _for_a_browser(self, environ: WSGIEnvironment) -> bool:
        path = environ.get("PATH_INFO", "")
        return environ.get("REQUEST_METHOD") in ("GET", "HEAD") and any(
            path == p or path.startswith(p.rstrip("/") + "/") for p in self.browser_paths)

    def _is_signed(self, environ: WSGIEnvironment, body: bytes, signature: str | None) -> bool:
        if not signature:
            return False
        own_url = get_current_url(environ)
        parts = urlsplit(own_url)
        urls = [own_url]
        if self.public_base_url:
            # Behind ngrok the request's own URL is not the https URL the TaskRouter signed.
            path_qs = parts.path + (f"?{parts.query}" if parts.query else "")
            urls.insert(0, self.public_base_url.rstrip("/") + path_qs)
        params: MultiDict[str, str] | str = MultiDict()
        if _is_form(environ) and environ.get("REQUEST_METHOD") != "GET":
            params = _form(body)
        elif "bodySHA256" in parse_qs(parts.query):
            # JSON webhooks sign a hash of the raw body, passed in the URL.
            params = body.decode("utf-8", "replace")
        return any(self._validator.validate(url, params, signature) for url in dict.fromkeys(urls))


def protect(
    app: Any,
    auth_token: str,
    public_base_url: str | None = None,
    *,
    log: CallbackLog | None = None,
) -> Any:
    """Wrap a Flask app's `wsgi_app` in `SignatureCheck` (also under `app.test_client()`), the app behind it
    seeing the proxy's prefix as a CallbackServer's does."""
    inner = app.wsgi_app
    if isinstance(inner, SignatureCheck):  # re-running a cell must not stack checks
        inner = inner.app
    if isinstance(inner, ProxyFix):
        inner = inner.app
    app.wsgi_app = SignatureCheck(behind_prefix(inner), auth_token, public_base_url, log=log)
    return app


def behind_prefix(app: WSGIApplication) -> ProxyFix:
    """`app` seeing the path jupyter-server-proxy serves it under (`X-Forwarded-Prefix`, e.g.
    `/user/alice/proxy/5000`) as its SCRIPT_NAME, so that `url_for('static', ...)` keeps it. Only the prefix:
    the host, scheme and client address stay the request's own."""
    return ProxyFix(app, x_for=0, x_proto=0, x_host=0, x_port=0, x_prefix=1)


class _Dispatch:
    """The app behind the socket; swapping `app` is how a re-run cell takes effect."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        except Exception:
            # Uncaught here, werkzeug would log to stderr from the server thread.
            environ["wsgi.errors"].write(traceback.format_exc())
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"The callback app raised an exception; see the log entry's errors."]


class _QuietHandler(WSGIRequestHandler):
    # The CallbackLog is the request log; werkzeug's would print from a thread.
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class CallbackPortBusy(TutorialError, OSError):
    """CALLBACK_PORT is taken: most likely by another notebook's kernel with the same setting."""

    def __init__(self, host: str, port: int):
        super().__init__(
            f"This kernel's callback server cannot listen on {host}:{port} (CALLBACK_PORT={port}): another program "
            "has that port, most likely another notebook's kernel with the same setting. Shut that kernel down "
            "(Kernel > Shut Down Kernel in its tab, or the Running Terminals and Kernels panel) and run this cell "
            "again; or unset CALLBACK_PORT (any free port) if no firewall needs a fixed one.")


class CallbackServer:
    """A werkzeug server in a daemon thread; `start_callback_server` keeps one per kernel."""

    def __init__(
        self,
        app: WSGIApplication,
        auth_token: str,
        *,
        host: str = CALLBACK_HOST,
        port: int = 0,
        log: CallbackLog | None = None,
        advertise: str | None = None,
    ) -> None:
        """`advertise`: the host its URLs carry when it is not `host` (listening on 0.0.0.0, the LAN address)."""
        self.log = log if log is not None else CallbackLog()
        self._advertised = advertise
        self._dispatch = _Dispatch(app)
        # The prefix fix wraps the dispatcher once, not each request's app: a swapped app sits behind it too.
        self._check = SignatureCheck(behind_prefix(self._dispatch), auth_token, log=self.log)
        try:
            self._server: BaseWSGIServer = make_server(
                host, port, self._check, threaded=True, request_handler=_QuietHandler
            )
        except SystemExit:
            # werkzeug exits the process when the port is taken; a kernel must survive that.
            raise OSError(f"cannot listen on {host}:{port} (port in use?)") from None
        self._public_url: str | None = None
        self._tunnel_open = False
        self._check.public_base_url = self.local_url
        self._thread = threading.Thread(
            # Stopping waits for the loop's next poll: 50 ms, not werkzeug's 0.5 s, when a cell swaps servers.
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"callback-server-{self.port}",
            daemon=True
        )
        self._thread.start()

    @classmethod
    def current(cls) -> CallbackServer | None:
        """The kernel's running server, if any."""
        return _current

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def local_url(self) -> str:
        """Its own URL, with the host the TaskRouter reaches it by (without a tunnel)."""
        return f"http://{url_host(self._advertised or self.host)}:{self.port}"

    @property
    def public_url(self) -> str:
        """What the TaskRouter should call: the tunnel URL if there is one, else `local_url`."""
        return self._public_url or self.local_url

    def set_public_url(self, url: str | None) -> None:
        self._public_url = url.rstrip("/") if url else None
        self._check.public_base_url = self.public_url

    def url_for(self, path: str) -> str:
        """Public URL of `path`, e.g. the workflow's AssignmentCallbackUrl."""
        return f"{self.public_url}/{path.lstrip('/')}"

    def browser_url(self, path: str) -> str:
        """What a browser opens for `path` (notebook 06's page): through the learner's own Jupyter server when
        this kernel runs under one (a path such as `/user/alice/proxy/5000/agents`, browser_urls.py), else this
        server's own URL. Never for TaskRouter, which calls `url_for`'s URL directly."""
        own = (f"http://127.0.0.1:{self.port}" if is_loopback(self.host) or is_all(self.host) else self.local_url)
        return browser_url(f"{own}/{path.lstrip('/')}")

    def set_app(self, app: WSGIApplication) -> None:
        self._dispatch.app = app

    def configure(self, settings: Settings) -> None:
        """Check signatures with the settings' token; in twilio mode expose through ngrok."""
        self._check.set_auth_token(settings.auth_token)
        if settings.mode == "twilio":
            from tutorial_helpers.tunnel import open_tunnel

            self.set_public_url(open_tunnel(self.port, settings.ngrok_authtoken, ngrok_path=settings.ngrok_path))
            self._tunnel_open = True
        else:
            self.set_public_url(None)

    def stop(self) -> None:
        """Shut down, free the port, join the thread, close our tunnel; safe to call twice."""
        global _current
        if self.running:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        if self._tunnel_open:
            from tutorial_helpers.tunnel import close_tunnel

            close_tunnel()
            self._tunnel_open = False
        with _lock:
            if _current is self:
                _current = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<CallbackServer {state} at {self.local_url}, public {self.public_url}>"


_current: CallbackServer | None = None
_lock = threading.RLock()


def start_callback_server(
    app: WSGIApplication,
    settings: Settings | None = None,
    *,
    host: str | None = None,
    port: int = 0,
    browser_paths: Iterable[str] = (),
) -> CallbackServer:
    """Serve `app` (or swap it in, keeping the socket) and return the kernel's server.

    Requests are checked against `settings.auth_token`; in twilio mode the
    server is also exposed through an ngrok tunnel and `public_url` is its URL.
    GET requests under `browser_paths` (a page and its files) need no signature.
    `host` defaults to the settings' CALLBACK_HOST (local mode; 127.0.0.1 behind a tunnel).
    """
    global _current
    if settings is None:
        from tutorial_helpers.settings import load_settings

        settings = load_settings()
    bind, advertise = callback_address(settings) if host is None else (host, host)
    if port == 0 and settings.mode == "local":
        port = settings.callback_port  # CALLBACK_PORT, or 0: any free port
    with _lock:
        server = _current
        if (server and server.running and server.host == bind and server._advertised == advertise
                and port in (0, server.port)):
            server.set_app(app)
        else:
            if server:
                server.stop()
            try:
                server = _current = CallbackServer(app, settings.auth_token, host=bind, port=port,
                                                   advertise=advertise)
            except OSError:
                if settings.mode == "local" and port and port == settings.callback_port:
                    raise CallbackPortBusy(bind, port) from None
                raise
    server.configure(settings)
    server._check.browser_paths = tuple(browser_paths)
    return server


def callback_address(settings: Settings) -> tuple[str, str]:
    """(the address to listen on, the host its URLs carry) for these settings.

    Local mode: CALLBACK_HOST (0.0.0.0 advertises the LAN address on the way to the TaskRouter). Twilio mode:
    127.0.0.1, since the ngrok agent on this machine is what forwards to it.
    """
    if settings.mode != "local":
        return CALLBACK_HOST, CALLBACK_HOST
    return bind_and_advertise(settings.callback_host, urlsplit(settings.local_base_url).hostname)


def _call(app: WSGIApplication, environ: WSGIEnvironment) -> _Reply:
    reply = _Reply("500 Internal Server Error", [])

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        reply.status, reply.headers = status, list(headers)
        return reply.chunks.append  # the legacy write() callable

    app_iter = app(environ, start_response)
    try:
        reply.chunks.extend(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    return reply


def _json_reply(status: str, message: str) -> _Reply:
    body = json.dumps({"error": message}).encode()
    return _Reply(status, [("Content-Type", "application/json")], [body])


def _is_form(environ: WSGIEnvironment) -> bool:
    content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    return content_type == "application/x-www-form-urlencoded"


def _form(body: bytes) -> MultiDict[str, str]:
    return MultiDict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _logged_params(environ: WSGIEnvironment, body: bytes) -> MultiDict[str, str]:
    if environ.get("REQUEST_METHOD") == "GET" or not _is_form(environ):
        params = _form(environ.get("QUERY_STRING", "").encode("latin-1"))
    else:
        params = _form(body)
    for name in HIDDEN_PARAMS:
        if name in params:
            params.setlist(name, [HIDDEN] * len(params.getlist(name)))
    return params


def _drop_jupyter_credentials(environ: WSGIEnvironment) -> None:
    """Take the learner's Jupyter login out of a request that came through jupyter-server-proxy: its cookies,
    an Authorization header and a `?token=` (or `_xsrf`) are Jupyter's, never the app's to see or echo."""
    for name in JUPYTER_CREDENTIALS:
        environ.pop(name, None)
    query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    kept = [(name, value) for name, value in query if name not in HIDDEN_PARAMS]
    if len(kept) != len(query):
        environ["QUERY_STRING"] = urlencode(kept)
