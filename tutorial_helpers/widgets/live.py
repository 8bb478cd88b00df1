"""What keeps the live widgets up to date: the local event feed, the poller, the box that polls while it is
shown, one widget of each kind per kernel, and the errors they say in words.
"""

from __future__ import annotations

import base64
import html
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from tutorial_helpers.client import mode_of

LOCAL_INTERVAL = 10.0  # with the local event feed waking them, this is only a safety net
TWILIO_INTERVAL = 1.0
FEED_PATH = "/_local/Events/stream"
FEED_RETRY_SECONDS = 2.0
MAX_IDLE_SECONDS = 20 * 60
# Poll this long after creation even if the frontend has not reported a view yet.
FIRST_VIEW_GRACE = 10.0
# Shown by the frontend alone: after a restart, nothing in Python can update these widgets.
STYLE = """<style>
.tr-live.jupyter-widgets-disconnected::after {
  content: "The kernel was restarted (or stopped), so this widget no longer reaches it: \
run the notebook from the top (Run > Run All Cells).";
  display: block; color: #b00; font-weight: bold; white-space: normal; margin: 4px 0;
}
.tr-live.jupyter-widgets-disconnected::before, .tr-live .jupyter-widgets-disconnected::before {
  content: none; display: none;
}
.tr-live .tr-note, .tr-live .tr-error { white-space: normal; overflow-wrap: anywhere; max-width: 60em; }
</style>"""

_current: dict[str, Any] = {}
_current_lock = threading.Lock()


def _replace_current(kind: str, widget: Any) -> None:
    with _current_lock:
        previous = _current.get(kind)
        _current[kind] = widget
    if previous is not None and previous is not widget:
        previous.stop("replaced by the newer copy from the cell's latest run")


def http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an SDK error: TwilioRestException, or a list page that failed."""
    if isinstance(exc, TwilioRestException):
        return exc.status
    if isinstance(exc, TwilioException) and len(exc.args) > 1:
        return getattr(exc.args[1], "status_code", None)  # TwilioException("Unable to fetch page", response)
    return None


def explain(exc: BaseException, workspace: Any | None = None, what: str = "this resource") -> str:
    """One sentence for the learner: what happened, and what to do about it.

    A 404 is told apart by asking whether the workspace itself still exists:
    start over deletes the workspace, while TaskRouter deletes finished tasks
    on its own after a while.
    """
    status = http_status(exc)
    if status == 404:
        if workspace is not None and _gone(workspace):
            return ("This workspace was deleted (start over): run notebook 01 to build it again, then this "
                    "notebook from the top.")
        return f"TaskRouter no longer has {what}: run the notebook again from the cell that created it."
    if status is not None:
        message = exc.msg if isinstance(exc, TwilioRestException) else "the request failed"
        return f"TaskRouter answered HTTP {status}: {message}"
    if isinstance(exc, OSError):  # requests' connection errors included
        return ("TaskRouter did not answer: is it still running? Run this notebook's first cell again "
                "(in local mode it starts the local TaskRouter).")
    return f"{type(exc).__name__}: {exc}"


def _gone(workspace: Any) -> bool:
    try:
        workspace.fetch()
    except (TwilioException, OSError) as exc:
        return http_status(exc) == 404
    return False


class EventFeed:
    """The local TaskRouter's event feed for one workspace, shared by every widget of the kernel that follows it.

    One socket per workspace; each event wakes every subscribed widget (a threading.Event each). If the feed
    cannot be reached (an older server), the widgets' interval still brings them up to date.
    """

    _feeds: dict[tuple[str, str], EventFeed] = {}
    _feeds_lock = threading.Lock()

    def __init__(self, client: Client, workspace_sid: str) -> None:
        base = client.taskrouter.base_url
        self.url = "ws" + base.removeprefix("http") + f"{FEED_PATH}?WorkspaceSid={workspace_sid}"
        token = f"{client.username}:{client.password}".encode()
        self._headers = {"Authorization": "Basic " + base64.b64encode(token).decode()}
        self._subscribers: list[threading.Event] = []
        self._lock = threading.Lock()
        self.connected = threading.Event()
        threading.Thread(target=self._run, name=f"event-feed-{workspace_sid[:8]}", daemon=True).start()

    @classmethod
    def for_workspace(cls, client: Client, workspace_sid: str) -> EventFeed | None:
        if mode_of(client) != "local":  # twilio mode polls, whoever plays Twilio (TWILIO_API_BASE_URL)
            return None
        key = (client.taskrouter.base_url, workspace_sid)
        with cls._feeds_lock:
            feed = cls._feeds.get(key)
            if feed is None:
                feed = cls._feeds[key] = cls(client, workspace_sid)
            return feed

    def subscribe(self) -> threading.Event:
        wake = threading.Event()
        with self._lock:
            self._subscribers.append(wake)
        return wake

    def unsubscribe(self, wake: threading.Event) -> None:
        with self._lock:
            if wake in self._subscribers:
                self._subscribers.remove(wake)

    def _run(self) -> None:
        from tutorial_helpers.socket_client import connect

        while True:
            try:
                socket = connect(self.url, headers=self._headers)
            except Exception:  # the server is restarting, or too old to have a feed: the interval covers it
                time.sleep(FEED_RETRY_SECONDS)
                continue
            self.connected.set()
            try:
                while (frame := socket.receive()) is not None:
                    if frame.strip():
                        with self._lock:
                            for wake in self._subscribers:
                                wake.set()
            except Exception:
                pass
            finally:
                self.connected.clear()
                try:
                    socket.close()
                except Exception:
                    pass
            time.sleep(FEED_RETRY_SECONDS)


class _Poller:
    """Calls `step()` every `interval` seconds in a daemon thread while `active()` says so, and at once
    whenever `wake` is set (an event of the workspace arrived on the local feed).

    `step()` returns True when it saw a change; after `max_idle` seconds
    without one the poller stops and calls `on_stop(reason)`.
    """

    def __init__(
        self,
        name: str,
        interval: float,
        step: Callable[[], bool],
        active: Callable[[], bool],
        on_error: Callable[[BaseException], None],
        on_stop: Callable[[str], None],
        max_idle: float = MAX_IDLE_SECONDS,
        wake: threading.Event | None = None,
    ) -> None:
        self.interval = interval
        self._wake = wake
        self._step, self._active, self._on_error, self._on_stop = step, active, on_error, on_stop
        self._max_idle = max_idle
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._wake is not None:
            self._wake.set()

    def _wait(self) -> bool:
        """Wait for the next look; True when stopped."""
        if self._wake is None:
            return self._stop.wait(self.interval)
        self._wake.wait(self.interval)
        self._wake.clear()
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def _run(self) -> None:
        last_change = time.monotonic()
        while not self._wait():
            if not self._active():
                continue
            try:
                if self._step():
                    last_change = time.monotonic()
            except Exception as exc:  # never let the thread die silently
                self._on_error(exc)
                if http_status(exc) == 404:  # deleted (start over) or purged: nothing more to watch
                    self._stop.set()
                    self._on_stop("stopped watching.")
                    return
            if time.monotonic() - last_change > self._max_idle:
                self._stop.set()
                minutes = round(self._max_idle / 60)
                self._on_stop(f"stopped watching after {minutes} minutes without a change; run the cell again")


class _LiveBox(widgets.VBox):
    """A VBox that polls while a frontend displays it."""

    kind = "live"

    def _start_polling(self, client: Client, interval: float | None, poll: bool) -> None:
        self.add_class("tr-live")
        self._created = time.monotonic()
        self._view_count = 0  # ask the frontend to count its views of this widget
        feed = EventFeed.for_workspace(client, self.quickstart.workspace_sid)
        self._feed, self._wake = feed, feed.subscribe() if feed is not None else None
        if interval is None:
            interval = TWILIO_INTERVAL if feed is None else LOCAL_INTERVAL
        self._poller = _Poller(
            f"{self.kind}-poller", interval, self._poll_step, self._visible, self._show_error, self.stop,
            wake=self._wake,
        )
        _replace_current(self.kind, self)
        if poll:
            self._poller.start()

    def _visible(self) -> bool:
        views = self._view_count
        return views is None or views > 0 or time.monotonic() - self._created < FIRST_VIEW_GRACE

    @property
    def polling(self) -> bool:
        return self._poller.running

    def stop(self, reason: str = "stopped") -> None:
        """Stop updating; the widget keeps its last state and says why."""
        self._poller.stop()
        self._show_note(reason)

    def close(self) -> None:
        poller = getattr(self, "_poller", None)
        if poller is not None:
            poller.stop()
        if getattr(self, "_feed", None) is not None and self._wake is not None:
            self._feed.unsubscribe(self._wake)
        super().close()

    def _poll_step(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def _show_error(self, exc: BaseException) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _show_note(self, text: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


def _code(text: str | None) -> str:
    return f"<code>{html.escape(text or '')}</code>"
