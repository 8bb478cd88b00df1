"""The first cell of every notebook: pick the mode and make its TaskRouter reachable.

    settings = prepare()

local mode: finds the local TaskRouter (LOCAL_TASKROUTER_URL, default
http://127.0.0.1:8765) or starts it in the background, then checks that it
accepts this kernel's credentials. On a shared machine, another user's local
TaskRouter is never used by accident (see ensure_local_taskrouter).

twilio mode: checks that TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and
NGROK_AUTHTOKEN are all there *before* anything touches the network, then (with
`verify=True`) asks Twilio whether it accepts the credentials.

Problems are raised as `SetupError`/`SettingsError`, whose message says what
to do and never contains a token; IPython shows only that message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from tutorial_helpers.errors import TutorialError
from tutorial_helpers.local_twilio.defaults import DEFAULT_ACCOUNT_SID, default_data_dir
from tutorial_helpers.local_twilio.ensure import LocalTaskRouterUnavailable, ensure_running, not_yours, probe
from tutorial_helpers.local_twilio.instance import is_mine, same_user
from tutorial_helpers.settings import BACK_TO_LOCAL, Settings, SettingsError, is_loopback, load_settings

__all__ = ["SetupError", "SettingsError", "prepare", "ensure_local_taskrouter", "verify_credentials"]

# Set once this process ran prepare(): a notebook's first cell (kernel_hints reads it after a restart).
prepared = False


class SetupError(TutorialError, RuntimeError):
    """The chosen TaskRouter cannot be used yet; the message says what to do."""


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

    Only a loopback address is started here; any other URL (a workshop room's server on another machine)
    must already answer. On this machine, a local TaskRouter that is not the learner's own is used only
    when they chose it (see _chosen); otherwise SetupError says whose it is and how to pick another port.
    """
    url = settings.local_base_url
    parts = urlsplit(url)
    on_this_machine = parts.scheme == "http" and parts.hostname is not None and is_loopback(parts.hostname)
    found = probe(url)
    if found.health is not None:
        if on_this_machine and not _chosen(found.health, settings):
            raise SetupError(not_yours(parts.hostname or "127.0.0.1", parts.port or 80, found.health,
                                       default_data_dir()))
        return False
    if not on_this_machine:
        raise SetupError(
            f"No local TaskRouter answers at {url} (LOCAL_TASKROUTER_URL), and only one on this "
            "machine (http://127.0.0.1:PORT) can be started from here. Start it there, or unset "
            "LOCAL_TASKROUTER_URL."
        )
    try:
        ensure_running(parts.hostname or "127.0.0.1", parts.port or 80)
    except LocalTaskRouterUnavailable as exc:
        raise SetupError(str(exc)) from None  # its message says what to do, another port included
    return True


def _chosen(health: dict[str, Any], settings: Settings) -> bool:
    """May this kernel use the local TaskRouter on this machine that answered with `health`?

    Yes when it is the learner's own: its instance id is the one in their data dir. Anyone else's, used with
    the fixed local account every such server has, would silently share its owner's workspace (issue 16).
    It is still used when the learner chose it:
    - LOCAL_TASKROUTER_URL names it on purpose (not their own server's address, Settings.own_local_server)
      and its data belongs to this same OS user: a second server of theirs, or a test's; or
    - they have an account of their own on it (their TWILIO_ACCOUNT_SID, not the fixed local one, and the
      server accepts it): a workshop room's server that a facilitator runs on this machine.
    """
    if is_mine(health, default_data_dir()):
        return True
    if not settings.own_local_server and "instance" in health and same_user(health):
        return True
    return settings.account_sid != DEFAULT_ACCOUNT_SID and _accepts(settings)


def _accepts(settings: Settings) -> bool:
    try:
        answer = requests.get(f"{settings.local_base_url}/v1/Workspaces?PageSize=1",
                              auth=(settings.account_sid, settings.auth_token), timeout=10)
    except requests.RequestException:
        return False
    return answer.ok


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
