"""Notebook 06's worker page: its template, and where it finds the twilio-taskrouter JavaScript SDK.

The SDK is installed from npm (pinned in package-lock.json) and bundled by esbuild into one file, because the
package's own window build still calls require() and a plain <script> tag cannot load it. The bundle is built by
`make install`, not committed, so a missing file means that step has not run here.
"""

from pathlib import Path
from typing import Any

from flask import has_request_context, request

from tutorial_helpers.browser_urls import browser_url
from tutorial_helpers.errors import TutorialError
from tutorial_helpers.local_twilio.core.proxied import through_proxy

PAGE_DIR = Path(__file__).parent
SDK_BUNDLE = PAGE_DIR / "static" / "twilio-taskrouter.js"


class SdkBundleMissing(TutorialError, FileNotFoundError):
    """Raised instead of serving a page whose <script> would 404 in the browser, where nobody reads the error."""


def sdk_bundle() -> Path:
    """The built bundle's path; raises SdkBundleMissing when it has not been built."""
    if not SDK_BUNDLE.is_file():
        raise SdkBundleMissing("the twilio-taskrouter bundle is not built: run `make install` (it needs node and npm)")
    return SDK_BUNDLE

TEMPLATES = PAGE_DIR / "templates"
STATIC = PAGE_DIR / "static"
PAGE_PATHS = ("/agents", "/static")  # what the learner's app serves to a browser, unsigned


def sdk_options(settings: Any) -> dict[str, str]:
    """The `new TaskRouter.Worker(token, options)` options: locally, where EventBridge is; with Twilio, none.

    The SDK takes both hosts verbatim when both are given (lib/util/Configuration.js), so the same page works
    against the local server and, with no options, against Twilio's own EventBridge. A page requested through
    the learner's own Jupyter server (jupyter-server-proxy; called in the page's route) gets EventBridge there
    too, as a path of the page's own origin (`/user/alice/proxy/8765/v1/wschannels`) from which the page makes
    its http(s) and ws(s) URLs; a page requested directly (a laptop without JupyterLab, a headless run) gets
    EventBridge's own URLs.
    """
    if settings.mode != "local":
        return {}
    direct = settings.taskrouter_url.rstrip("/") + "/v1/wschannels"
    if has_request_context() and through_proxy(request.environ):
        proxied = browser_url(direct)
        if proxied != direct:
            return {"ebServer": proxied, "wsServer": proxied}
    return {"ebServer": direct, "wsServer": "ws" + direct.removeprefix("http")}
