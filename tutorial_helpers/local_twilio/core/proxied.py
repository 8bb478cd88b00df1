"""Requests that reach a server on this machine through the learner's own Jupyter server (jupyter-server-proxy).

`{base_url}proxy/<port>/...` forwards the learner's Jupyter cookies (and a `?token=`) to the server behind it and
leaves XSRF to that server. So a page on any other origin could make the learner's browser send a request that
carries the learner's Jupyter login to it: change Alice's activity, accept her reservation. The rule, for every
server behind the proxy (the local Twilio server, the kernel's callback server):

- a request that came through the proxy is served only when the browser says it comes from the same origin
  (the JupyterLab page itself, or a page served through the same proxy), or when it is a link the learner opened
  (a top-level GET navigation, which cannot read the answer or act on its own);
- one that did not (a webhook, the kernel's REST call, a page on a laptop reaching EventBridge on another port)
  is not this module's business.

Through the proxy means the headers jupyter-server-proxy adds to every HTTP request (`X-Forwarded-Context`,
`X-Forwarded-Prefix`); a page cannot remove them. Websockets through the proxy carry no such header: Jupyter
itself refuses a websocket handshake whose Origin is foreign (403) before it is forwarded.

The browser's word is `Sec-Fetch-Site` (every current browser sends it), else the `Origin` header compared
with `Host`, which the proxy keeps as the browser sent it. A request with neither is no browser's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

FORWARDED = ("HTTP_X_FORWARDED_CONTEXT", "HTTP_X_FORWARDED_PREFIX")
SAFE_METHODS = ("GET", "HEAD")


def through_proxy(environ: Mapping[str, Any]) -> bool:
    """True for a request forwarded by jupyter-server-proxy (HTTP; its websockets are checked by Jupyter)."""
    return any(environ.get(name) for name in FORWARDED)


def foreign_origin(environ: Mapping[str, Any]) -> str | None:
    """Why a request that came through the proxy must be refused (another origin sent it), or None to serve it.

    None also for every request that did not come through the proxy.
    """
    if not through_proxy(environ):
        return None
    site = environ.get("HTTP_SEC_FETCH_SITE")
    if site is not None:
        if site in ("same-origin", "none"):  # none: typed in the address bar, a bookmark
            return None
        if _opened_link(environ):
            return None
        return (f"a request from another site's page ({site}) through your Jupyter server is refused: it would "
                "carry your Jupyter login")
    origin = environ.get("HTTP_ORIGIN")
    if origin is None:
        return None  # no browser says where it comes from: a script of the learner's own, or a plain link
    if origin != "null" and urlsplit(origin).netloc.lower() == str(environ.get("HTTP_HOST", "")).lower():
        return None
    return (f"a request from another origin ({origin}) through your Jupyter server is refused: it would carry "
            "your Jupyter login")


def _opened_link(environ: Mapping[str, Any]) -> bool:
    """A top-level GET navigation: the learner followed a link (from anywhere) to a page; it changes nothing."""
    return (environ.get("REQUEST_METHOD") in SAFE_METHODS and environ.get("HTTP_SEC_FETCH_MODE") == "navigate"
            and environ.get("HTTP_SEC_FETCH_DEST") == "document")
