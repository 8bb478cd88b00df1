"""Expose the callback server to Twilio through ngrok (twilio mode only).

pyngrok is imported only when a tunnel is asked for, so local mode neither
starts nor downloads anything. Every failure becomes a `TunnelError` whose
message says what to do; none of them contains the authtoken.
"""

from __future__ import annotations

import atexit
import os
import shutil
from urllib.parse import urlsplit

from tutorial_helpers.errors import TutorialError
from tutorial_helpers.settings import BACK_TO_LOCAL, from_environment

SESSION_LIMIT_CODE = "ERR_NGROK_108"
# ngrok's codes for an authtoken it does not accept.
BAD_TOKEN_CODES = ("ERR_NGROK_105", "ERR_NGROK_107", "ERR_NGROK_4018")

_public_urls: dict[int, str] = {}


class TunnelError(TutorialError, RuntimeError):
    """The tunnel could not be opened; the message says why and what to do."""

    postscript = BACK_TO_LOCAL  # tunnels are twilio mode only


def open_tunnel(port: int, authtoken: str | None, *, allow_download: bool = True,
                ngrok_path: str | None = None) -> str:
    """Public https URL forwarding to http://127.0.0.1:`port`; re-running reuses the tunnel.

    The agent is `agent_path(ngrok_path)`: pass the settings' `ngrok_path` (NGROK_PATH
    from the environment or .env). If it is missing, pyngrok downloads it there
    (internet needed) unless `allow_download` is false.
    """
    if not authtoken or not authtoken.strip():
        raise TunnelError(
            "NGROK_AUTHTOKEN is not set. Twilio mode needs an ngrok authtoken "
            "(https://dashboard.ngrok.com/get-started/your-authtoken): put it in the "
            "environment or in .env (see .env.example)."
        )
    authtoken = authtoken.strip()

    from pyngrok import conf, ngrok, process
    from pyngrok.exception import PyngrokError

    config = conf.get_default()
    config.ngrok_path = agent_path(ngrok_path)
    config.auth_token = authtoken  # passed to the agent, not written to ngrok.yml
    installed = os.path.isfile(config.ngrok_path)
    if not installed and not allow_download:
        raise TunnelError(_missing_agent_message(config.ngrok_path))

    try:
        if not installed:
            ngrok.install_ngrok(config)
        if process.is_process_running(config.ngrok_path):
            for tunnel in ngrok.get_tunnels():
                if tunnel.public_url and _forwards_to(tunnel, port):
                    _public_urls[port] = tunnel.public_url
                    return tunnel.public_url
        tunnel = ngrok.connect(f"http://127.0.0.1:{port}", "http")
    except (PyngrokError, OSError) as exc:
        # `from None`: ngrok's own message can quote the token, so it is not chained.
        raise tunnel_error_from(exc, authtoken) from None
    _public_urls[port] = tunnel.public_url
    return tunnel.public_url


def close_tunnel() -> None:
    """Close our tunnels and stop the agent, freeing the account's one agent session."""
    if not _public_urls:
        return
    from pyngrok import ngrok
    from pyngrok.exception import PyngrokError

    try:
        for public_url in _public_urls.values():
            ngrok.disconnect(public_url)
    except (PyngrokError, OSError):
        pass  # the agent is going away anyway
    finally:
        _public_urls.clear()
        ngrok.kill()


atexit.register(close_tunnel)


def tunnel_error_from(exc: BaseException, authtoken: str | None = None) -> TunnelError:
    """Translate a pyngrok/network failure into advice, with the token redacted."""
    from pyngrok.exception import PyngrokNgrokError, PyngrokNgrokHTTPError, PyngrokNgrokInstallError

    detail = " ".join(
        str(part)
        for part in (exc, getattr(exc, "ngrok_error", None), getattr(exc, "body", None))
        if part
    )
    if authtoken:
        detail = detail.replace(authtoken, "<NGROK_AUTHTOKEN>")

    if SESSION_LIMIT_CODE in detail:
        message = (
            "ngrok refused a second agent session (ERR_NGROK_108): a free ngrok account "
            "allows one agent session at a time. Stop the other ngrok agent (another "
            "notebook, terminal or machine) or end it at https://dashboard.ngrok.com/agents, "
            "then run this cell again"
        )
    elif any(code in detail for code in BAD_TOKEN_CODES):
        message = (
            "ngrok rejected NGROK_AUTHTOKEN. Copy it again from "
            "https://dashboard.ngrok.com/get-started/your-authtoken"
        )
    elif isinstance(exc, PyngrokNgrokInstallError):
        message = (
            "Could not download the ngrok agent. pyngrok downloads ngrok on first use, "
            "which needs internet; or install ngrok yourself and set NGROK_PATH to it"
        )
    elif isinstance(exc, PyngrokNgrokHTTPError):
        message = "The ngrok agent refused to open the tunnel"
    elif isinstance(exc, PyngrokNgrokError):
        message = "The ngrok agent failed; check your internet connection"
    else:
        message = "Could not reach ngrok; check your internet connection"
    return TunnelError(f"{message}. ngrok said: {detail}" if detail else f"{message}.")


def agent_path(ngrok_path: str | None = None) -> str:
    """The ngrok agent a tunnel runs; the environment check (checks.check_environment) reports this one.

    In order: `ngrok_path` (the settings' NGROK_PATH; when None, NGROK_PATH from the
    environment); pyngrok's configured ngrok_path (PYNGROK_NGROK_PATH) if an agent is
    there; an ngrok on PATH; else pyngrok's configured path, where it downloads the agent.
    """
    from pyngrok import conf

    explicit = ngrok_path or from_environment("NGROK_PATH")
    if explicit:
        return explicit
    configured = conf.get_default().ngrok_path
    if os.path.isfile(configured):
        return configured
    # An agent already on PATH spares a download.
    return shutil.which("ngrok") or configured


def _missing_agent_message(path: str) -> str:
    return (
        f"The ngrok agent is not installed (looked for {path}). pyngrok downloads ngrok "
        "on first use, which needs internet; or install ngrok "
        "(https://ngrok.com/download) and set NGROK_PATH to the binary."
    )


def _forwards_to(tunnel: object, port: int) -> bool:
    upstream = getattr(tunnel, "upstream", {}) or {}
    target = upstream.get("url") or getattr(tunnel, "config", {}).get("addr", "")
    target = str(target)
    if "://" not in target:
        target = f"http://{target}" if ":" in target else f"http://localhost:{target}"
    try:
        return urlsplit(target).port == port
    except ValueError:
        return False
