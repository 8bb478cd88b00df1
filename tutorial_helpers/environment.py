"""The first cell of every notebook: pick the mode and make its TaskRouter reachable.

    settings = prepare()

local mode: finds the local TaskRouter (LOCAL_TASKROUTER_URL, default
http://127.0.0.1:8765) or starts it in the background, then checks that it
accepts this kernel's credentials.

twilio mode: checks that TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
NGROK_AUTHTOKEN are all there *before* anything touches the network, then (with
`verify=True`) asks Twilio whether it accepts the credentials.

Problems are raised as `SetupError`/`SettingsError`, whose message says what
to do and never contains a token; IPython shows only that message.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import requests

from tutorial_helpers.local_twilio.ensure import LocalTaskRouterUnavailable, ensure_running, is_running
from tutorial_helpers.settings import BACK_TO_LOCAL, Settings, SettingsError, load_settings

__all__ = ["SetupError", "SettingsError", "prepare", "ensure_local_taskrouter", "verify_credentials"]

# Set once this process ran prepare(): a notebook's first cell (kernel_hints reads it after a restart).
prepared = False


class SetupError(RuntimeError):
    """The chosen TaskRouter cannot be used yet; the message says what to do."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


def prepare(
    mode: str | None = None, *, prompt: bool | None = None, verify: bool = True, quiet: bool = False
) -> Settings:
    """Settings for this kernel, with the mode's TaskRouter ready; prints one line saying so.

    `mode` overrides TUTORIAL_MODE. In twilio mode, missing values are asked for
    with a hidden prompt when `prompt` is true (default: when someone can answer,
    as in a notebook). `verify` makes one authenticated request to the TaskRouter
    (local, or Twilio in twilio mode) to check the credentials.
    """
    settings = load_settings(mode, prompt=prompt)
    notes = []
    if settings.mode == "local":
        started = ensure_local_taskrouter(settings)
        notes.append("started it just now" if started else "it was already running")
    if verify:
        verify_credentials(settings)
        notes.append("credentials accepted")
    if not quiet:
        print(f"{settings.describe()}" + (f" ({'; '.join(notes)})" if notes else "") + ".")
    global prepared
    prepared = True
    return settings


def ensure_local_taskrouter(settings: Settings) -> bool:
    """Make sure the local TaskRouter answers at `settings.local_base_url`; True if we started it.

    Only a loopback address is started here; any other URL must already answer.
    """
    url = settings.local_base_url
    if is_running(url):
        return False
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not _is_loopback(parts.hostname):
        raise SetupError(
            f"No local TaskRouter answers at {url} (LOCAL_TASKROUTER_URL), and only one on this "
            "machine (http://127.0.0.1:PORT) can be started from here. Start it there, or unset "
            "LOCAL_TASKROUTER_URL."
        )
    try:
        ensure_running(parts.hostname, parts.port or 80)
    except LocalTaskRouterUnavailable as exc:
        raise SetupError(
            f"{exc}\nTry another port: `make lab LOCAL_TASKROUTER_PORT=8766` and set "
            "LOCAL_TASKROUTER_URL=http://127.0.0.1:8766 for the notebooks."
        ) from None
    return True


def verify_credentials(settings: Settings, timeout: float = 10.0) -> None:
    """One authenticated request to the TaskRouter; SetupError if it refuses the credentials."""
    url = f"{settings.taskrouter_url}/v1/Workspaces?PageSize=1"
    try:
        answer = requests.get(url, auth=(settings.account_sid, settings.auth_token), timeout=timeout)
    except requests.RequestException as exc:
        reason = f"Could not reach {settings.taskrouter_url}: {type(exc).__name__}."
        raise SetupError(f"{reason} {_advice(settings)}") from None
    if answer.status_code == 401:
        if settings.mode == "local":
            raise SetupError(
                "The local TaskRouter refused this kernel's account. It was started with other "
                "TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN values than this kernel has in its environment. "
                "Stop it and start it again from the same environment as JupyterLab "
                "(`make lab`), then restart the kernel."
            )
        raise SetupError(
            "Twilio refused TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN (HTTP 401). Copy both again from "
            "https://console.twilio.com (Account Info) into notebook 00's settings form, .env or the environment, "
            f"then restart the kernel. {BACK_TO_LOCAL}"
        )
    if not answer.ok:
        raise SetupError(f"{settings.taskrouter_url} answered HTTP {answer.status_code}. {_advice(settings)}")


def _advice(settings: Settings) -> str:
    if settings.mode == "local":
        return "Is the local TaskRouter still running? Run this cell again to start it."
    if settings.twilio_base_url:
        return (f"Is the stand-in for Twilio at {settings.twilio_base_url} (TWILIO_API_BASE_URL) running? "
                f"With a real Twilio account, remove TWILIO_API_BASE_URL. {BACK_TO_LOCAL}")
    return f"Check your internet connection. {BACK_TO_LOCAL}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
