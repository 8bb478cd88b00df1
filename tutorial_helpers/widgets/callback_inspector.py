"""CallbackInspector: what TaskRouter (or Twilio's voice side) sent the learner's app, and what it answered."""

from __future__ import annotations

import html
import json
import threading

import ipywidgets as widgets

from tutorial_helpers.callback_server import CallbackEntry, CallbackLog
from tutorial_helpers.widgets.live import STYLE, _code, _replace_current
from tutorial_helpers.workspace import CALLBACK_PATH


class CallbackInspector(widgets.VBox):
    """The latest requests to the callback server: what TaskRouter sent and what we answered.

    With `task_sid`, only the callbacks about that task: the server outlives a
    re-run of the notebook, and its log still holds the previous run's requests.
    Follows `CallbackLog.subscribe`; the listener runs on the request's thread,
    so it only formats a little HTML and sets one trait.
    """

    kind = "callback-inspector"

    def __init__(
        self, log: CallbackLog, *, task_sid: str | None = None, limit: int = 3, path: str | None = None,
        title: str = "Callback inspector", sender: str = "TaskRouter",
    ) -> None:
        self.title, self.sender = title, sender
        self.callback_log = log
        self.task_sid = task_sid
        self.limit = limit
        self.path = path
        self.html = widgets.HTML()
        self._note = ""
        self._lock = threading.Lock()
        super().__init__([self.html, widgets.HTML(STYLE)])
        self.add_class("tr-callback-inspector")
        self.add_class("tr-live")
        self.render()
        log.subscribe(self._on_entry)
        _replace_current(self.kind, self)

    def _on_entry(self, entry: CallbackEntry) -> None:
        self.render()

    def stop(self, reason: str = "stopped") -> None:
        """Stop following the log; the widget keeps what it shows."""
        self.callback_log.unsubscribe(self._on_entry)
        self._note = reason
        self.render()

    def close(self) -> None:
        callback_log = getattr(self, "callback_log", None)
        if callback_log is not None:
            callback_log.unsubscribe(self._on_entry)
        super().close()

    def render(self) -> None:
        logged = [e for e in self.callback_log.entries() if self.path is None or e.path == self.path]
        entries = [e for e in logged if self.task_sid is None or e.params.get("TaskSid") == self.task_sid]
        shown = list(reversed(entries))[: self.limit]
        if shown:
            body = "".join(render_entry(e, expanded=(i == 0), sender=self.sender) for i, e in enumerate(shown))
            more = len(entries) - len(shown)
            if more > 0:
                body += f"<div><i>…and {more} earlier request(s)</i></div>"
        elif self.sender == "TaskRouter":
            body = (
                f"<i>No callback yet. When TaskRouter reserves a worker it POSTs to {CALLBACK_PATH}; "
                "the request and your answer appear here.</i>"
            )
        else:
            body = f"<i>No request yet. What {html.escape(self.sender)} sends your app, and your answer, show here.</i>"
        others = len(logged) - len(entries)
        if others:
            body += (f"<div style='color:#888'><i>{others} earlier request(s) about other tasks (an earlier run) "
                     "are not shown.</i></div>")
        if self._note:
            body += f"<div><i>{html.escape(self._note)}</i></div>"
        about = f" for task {_code(self.task_sid)}" if self.task_sid else ""
        with self._lock:
            self.html.value = f"<div><b>{html.escape(self.title)}</b>{about} ({len(entries)} request(s))</div>{body}"


def answer_text(entry: CallbackEntry) -> str:
    """The response body as the learner wrote it; JSON is normalised to `{"instruction": "accept"}` form."""
    body = entry.body.strip()
    if entry.content_type and entry.content_type.split(";")[0].strip() == "application/json":
        try:
            return json.dumps(json.loads(body))
        except ValueError:
            return body
    return body


def render_entry(entry: CallbackEntry, expanded: bool = True, sender: str = "TaskRouter") -> str:
    """One request as HTML: when, signature verdict, the parameters sent, our answer."""
    when = entry.timestamp.astimezone().strftime("%H:%M:%S")
    if entry.signature_valid:
        signature = "<span style='color:#080'>valid X-Twilio-Signature</span>"
    else:
        signature = (
            "<span style='color:#b00'>missing or invalid X-Twilio-Signature: refused with 403, "
            "your route did not run</span>"
        )
    params = "".join(
        f"<tr><td style='padding-right:1em'><code>{html.escape(k)}</code></td>"
        f"<td><code>{html.escape(_shorten(v))}</code></td></tr>"
        for k, v in entry.params.items()
    ) or "<tr><td><i>(no parameters)</i></td></tr>"
    answer = answer_text(entry)
    errors = (
        f"<div style='color:#b00'>Your route raised an exception:<pre>{html.escape(entry.errors)}</pre></div>"
        if entry.errors
        else ""
    )
    return (
        "<div style='border-top:1px solid #ccc; margin-top:4px; padding-top:4px'>"
        f"<div>{when} <b>{html.escape(entry.method)} {html.escape(entry.path)}</b>, {signature}</div>"
        f"<details{' open' if expanded else ''}><summary>{html.escape(sender)} sent {len(entry.params)} parameters"
        "</summary>"
        f"<table>{params}</table></details>"
        f"<div>We answered <b>HTTP {entry.status}</b> {html.escape(entry.content_type or '(no Content-Type)')}: "
        f"<code class='tr-callback-answer'>{html.escape(answer) or '(empty body)'}</code></div>"
        f"{errors}</div>"
    )


def _shorten(value: str, limit: int = 200) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
