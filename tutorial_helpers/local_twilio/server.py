"""The local Twilio server: the one place that wires the services together, and its Flask app factory.

`create_app(backend, voice, accounts)` mounts every route table (local_api's server-wide /_local routes,
TaskRouter's, the 2010-04-01 API's, EventBridge's, the facilitator's), Basic auth and Twilio-shaped errors.
`LocalTwilio` (also `LocalTaskRouter`, its first name) builds the ground floor (store, clock, timers),
the services on it (TaskRouter's backend and callback dispatcher, the voice side, accounts, EventBridge's
hub), connects their ports (core/ports.py: nothing else assigns one service onto another) and serves them
with werkzeug in a background thread.
"""

import gc
import hmac
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule
from werkzeug.serving import WSGIRequestHandler, make_server

from . import eventbridge
from .accounts import Accounts
from .accounts.urls import PREFIX as FACILITATOR_PREFIX
from .accounts.urls import URLS as ACCOUNT_URLS
from .board import urls as board_urls
from .core import proxied
from .core.clock import Clock
from .core.exceptions import (
    FacilitatorUnauthenticated,
    ForeignOrigin,
    MethodNotAllowed,
    NotFound,
    TwilioError,
    Unauthenticated,
)
from .core.http import reply
from .core.store import Store
from .core.timers import Timers
from .defaults import DEFAULT_HOST, default_credentials
from .instance import health_facts
from .local_api import urls as local_api_urls
from .sdk_client import make_local_client
from .taskrouter.callbacks import Dispatcher
from .taskrouter.models import Backend
from .taskrouter.urls import URLS
from .voice.models import DEFAULT_PHONE_NUMBERS, VoiceBackend
from .voice.urls import URLS as VOICE_URLS

log = logging.getLogger(__name__)

DEFAULT_EVENT_RETENTION_DAYS = 30.0  # Twilio keeps TaskRouter events 30 days
PRUNE_INTERVAL = 3600.0  # seconds on the TaskRouter clock between two prunes of old events
MAX_BODY_BYTES = 1024 * 1024  # far above any TaskRouter request: attributes are at most 4 KB


def _error(exc: TwilioError) -> Response:
    response = reply(exc.body(), exc.status)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = getattr(exc, "challenge", Unauthenticated.challenge)
    return response


class _LazyBuildRule(Rule):
    """A URL rule whose URL builders are compiled when first used, not when the rule is added.

    werkzeug turns each rule into two builders (generated Python source, compiled) as the rule is added: most
    of create_app's time, paid at every start, and tests, the state machine and notebooks start servers often.
    This API never builds a URL from its rules, so the compiling is put off until something does.
    """

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        def build(rule: Rule, **values: Any) -> tuple[str, str]:
            compiled = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            setattr(rule, "_build_unknown" if append_unknown else "_build", compiled)
            return compiled(**values)

        return build


class _App(Flask):
    url_rule_class = _LazyBuildRule


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _is_facilitators(path: str) -> bool:
    return path == FACILITATOR_PREFIX or path.startswith(FACILITATOR_PREFIX + "/") or path == board_urls.JSON


def create_app(backend: Backend, voice: VoiceBackend | None = None, accounts: Accounts | None = None) -> Flask:
    """One app for every service: TaskRouter's routes under /v1, the 2010-04-01 API's when `voice` is given,
    the facilitator's /_local/Accounts and board (/_local/Board) when `accounts` is."""
    app = _App("local_twilio")
    app.config["BACKEND"] = backend
    app.config["CLOCK_CONTROL"] = backend  # one clock for every service; TaskRouter's backend keeps its offset
    tables = [("local", local_api_urls.URLS), ("taskrouter", URLS)]
    if voice is not None:
        app.config["VOICE"] = voice
        tables.append(("voice", VOICE_URLS))
        # Worker tokens are signed with the voice side's API keys; EventBridge checks them itself.
        app.config["HUB"] = backend.eventbridge = eventbridge.install(app, backend, voice.key_secret)
    if accounts is not None:
        app.config["ACCOUNTS"] = accounts
        tables.append(("accounts", ACCOUNT_URLS))
        tables.append(("board", board_urls.URLS))
    # Bodies over this are refused (413) from their Content-Length, before they are read.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    for service, table in tables:
        for rule, methods, handler in table:
            # No automatic OPTIONS (Flask's is an empty text/html 200): an unsupported method is Twilio's 405.
            app.add_url_rule(rule, endpoint=f"{service}.{handler.__name__}", view_func=handler, methods=methods,
                             provide_automatic_options=False)

    @app.before_request
    def same_origin_through_jupyter() -> Response | None:
        # Reached through the learner's Jupyter server, a request carries their Jupyter login: only the pages
        # of that origin may send one (core/proxied.py). First, before any credential is looked at.
        problem = proxied.foreign_origin(request.environ)
        return _error(ForeignOrigin(problem)) if problem else None

    @app.before_request
    def authenticate() -> Response | None:
        if request.path in local_api_urls.UNAUTHENTICATED or request.path == eventbridge.routes.PATH:
            return None
        if accounts is not None and request.path == board_urls.PAGE:
            return None  # the board's page checks the facilitator's token itself, and refuses in HTML
        if accounts is not None and _is_facilitators(request.path):
            # The facilitator's endpoints take the facilitator's token, never an account's: an attendee
            # must not be able to make or delete accounts.
            return None if accounts.is_facilitator(_bearer_token()) else _error(FacilitatorUnauthenticated())
        auth = request.authorization
        token = backend.accounts.get(auth.username or "") if auth else None
        if token is None or not hmac.compare_digest(token, auth.password or ""):
            return _error(Unauthenticated())
        g.account_sid = auth.username
        return None

    @app.errorhandler(TwilioError)
    def twilio_error(exc: TwilioError) -> Response:
        return _error(exc)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if exc.code == 404:
            return _error(NotFound(request.path.removeprefix("/v1")))
        if exc.code == 405:
            return _error(MethodNotAllowed(request.method))
        return _error(TwilioError(exc.description or exc.name, code=20001, status=exc.code or 400))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # A bug must still answer like Twilio does, never with a traceback.
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _error(TwilioError("Internal Server Error", code=20500, status=500))

    return app


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler, quiet, and answering even a request it cannot parse the way Twilio would: JSON."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # A request line that failed to parse has no command or path yet. The path only: a query may hold a
        # token (a worker's, or the learner's Jupyter token passed on by jupyter-server-proxy).
        path = getattr(self, "path", None)
        log.debug("%s %s %s", getattr(self, "command", None), path.split("?")[0] if path else path, code)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's answer to a malformed or oversized request line, or bad headers: Twilio-shaped JSON."""
        if code == 505:  # an unknown HTTP version is a bad request line like any other
            code = 400
        short, _long = self.responses.get(code, ("Error", ""))
        error = TwilioError(message or short, code=20001, status=code)
        # A line that could not be parsed leaves HTTP/0.9, which has no status line: answer as HTTP/1.1.
        self.request_version = "HTTP/1.1"
        body = json.dumps(error.body()).encode()
        self.close_connection = True
        self.send_response(code, short)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)


class LocalTwilio:
    """A whole local TaskRouter: in a background thread for tests and helpers, or under the CLI."""

    def __init__(
        self,
        data_dir: str | Path | None = None,
        host: str = DEFAULT_HOST,
        port: int = 0,
        account_sid: str | None = None,
        auth_token: str | None = None,
        extra_accounts: dict[str, str] | None = None,
        standalone: bool = False,
        phone_numbers: tuple[str, ...] = DEFAULT_PHONE_NUMBERS,
        event_retention_days: float = DEFAULT_EVENT_RETENTION_DAYS,
        paused_clock: bool = False,
    ):
        """`paused_clock`: the clock moves only when advanced (`Clock.pause`), for tests that assert exact
        durations; otherwise it runs with wall time, as the tutorial's does."""
        if not event_retention_days > 0:
            raise ValueError(f"event_retention_days must be positive, got {event_retention_days!r}")
        self.event_retention_days = float(event_retention_days)
        default_sid, default_token = default_credentials()
        self.account_sid = account_sid or default_sid
        self.auth_token = auth_token or default_token
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="local-taskrouter-")
            data_dir = self._tmp.name
        self.data_dir = Path(data_dir)
        self.host, self._port = host, port
        self._accounts = {self.account_sid: self.auth_token, **(extra_accounts or {})}
        self._server = None
        self._thread: threading.Thread | None = None
        # The CLI's own process: /_local/health names its pid, so --stop can stop it. Never in-process,
        # where that pid would be the test run's or the notebook kernel's.
        self.standalone = standalone
        self.phone_numbers = tuple(phone_numbers)
        self.paused_clock = paused_clock

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the local TaskRouter is not running")
        return self._server.server_port

    @property
    def base_url(self) -> str:
        """What `client.taskrouter.base_url` should be (no /v1: the SDK adds it)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> "LocalTwilio":
        self.store = Store(self.data_dir)
        self.clock = Clock(offset=float(self.store.get_meta("clock_offset", "0") or 0))
        if self.paused_clock:
            self.clock.pause()  # before anything reads it: every date this server writes is on the paused clock
        self.timers = Timers(self.clock)
        self.backend = Backend(self.store, self.clock, self.timers, self._accounts)
        self.dispatcher = Dispatcher(self.backend)
        self.voice = VoiceBackend(self.backend.state, self.clock, self.timers, self._accounts, self.backend,
                                  self.phone_numbers)
        # The seams between services, here and nowhere else (core/ports.py).
        self.backend.on_assignment = self.dispatcher.assignment
        self.backend.on_event = self.dispatcher.event
        self.backend.voice = self.voice
        try:
            # The created accounts join self._accounts (the dict both backends hold) before anything is sent.
            self.accounts = Accounts(self.backend, self.voice, self.data_dir)
        except Exception:
            self.voice.close_calls()
            self.timers.stop()
            self.store.close()
            raise
        self.voice.seed_numbers()
        self.app = create_app(self.backend, self.voice, self.accounts)
        if self.standalone:
            self.app.config["PROCESS"] = {"pid": os.getpid()}
        # Whose server this is (instance.py): ensure reuses, and --stop stops, only the one of its own data dir.
        self.app.config["INSTANCE"] = health_facts(self.data_dir)
        self._server = make_server(
            self.host, self._port, self.app, threaded=True, request_handler=_QuietHandler
        )
        # Callbacks a killed process left due, read before any timer runs: an overdue timer's own callbacks
        # go to the outbox and out at once, and must not be read back from it and sent a second time.
        self.dispatcher.resume()
        # The same for the voice side's status callbacks; then the calls it left going end, after what was
        # due, and their own callbacks (status reports, TaskRouter events) go out behind it.
        self.voice.resume_calls()
        self.prune_events()  # at start-up, then every PRUNE_INTERVAL on the clock
        self.timers.start()
        self.backend.resume_timers()
        # A short poll interval: stop() waits for the serve loop's next poll, and tests and
        # notebooks stop and start servers often (the default 0.5 s adds up).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="local-taskrouter", daemon=True,
        )
        self._thread.start()
        if self.standalone:
            # The state loaded at start-up (every row, its indexes, the imported modules) is long-lived: move it
            # out of the collector's generations so gen-2 collections on the request path stop scanning it all.
            # Only in the CLI's own process: freezing a test runner's or a notebook kernel's heap is not ours to do.
            gc.collect()
            gc.freeze()
        return self

    def prune_events(self) -> int:
        """Delete events older than the retention period (on the TaskRouter clock); runs again an hour later."""
        now = self.clock.now()
        removed = self.store.prune_events(int((now - self.event_retention_days * 86_400) * 1000))
        self.timers.schedule(now + PRUNE_INTERVAL, self.prune_events)
        return removed

    def stop(self) -> None:
        if self._server is None:
            return
        self.app.config["HUB"].close_all()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.dispatcher.close()
        self.voice.close_calls()
        self.timers.stop()
        self.store.close()
        self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()

    def client(self, account_sid: str | None = None, auth_token: str | None = None):
        """The official twilio Client, aimed at this server."""
        return make_local_client(
            self.base_url, account_sid or self.account_sid, auth_token or self.auth_token
        )

    def advance_clock(self, seconds: float) -> None:
        """Move the TaskRouter's clock forward; due timers fire before this returns."""
        self.backend.advance_clock(seconds)

    def wait_for_callbacks(self, timeout: float = 30.0) -> bool:
        """Wait until every assignment and event callback sent so far is answered and acted on."""
        return self.dispatcher.wait_idle(timeout)

    def __enter__(self) -> "LocalTwilio":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


LocalTaskRouter = LocalTwilio  # its first name: the tests, the notebooks' set-up and the docs use it
