"""Notebook 06's worker page: its template, and where it finds the twilio-taskrouter JavaScript SDK.

The SDK is installed from npm (pinned in package-lock.json) and bundled by esbuild into one file, because the
package's own window build still calls require() and a plain <script> tag cannot load it. The bundle is built by
`make install`, not committed, so a missing file means that step has not run here.
"""

from pathlib import Path
from typing import Any

from tutorial_helpers.errors import TutorialError

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
    against the local server and, with no options, against Twilio's own EventBridge.
    """
    if settings.mode != "local":
        return {}
    base = settings.taskrouter_url.rstrip("/")
    return {"ebServer": f"{base}/v1/wschannels", "wsServer": "ws" + base.removeprefix("http") + "/v1/wschannels"}
