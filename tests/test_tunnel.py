import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pyngrok import conf, ngrok, process
from pyngrok.exception import PyngrokNgrokError, PyngrokNgrokHTTPError, PyngrokNgrokInstallError

from tutorial_helpers.tunnel import TunnelError, open_tunnel, tunnel_error_from

SECRET = "2xYzSecretNgrokToken_abc"


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to reach ngrok or the internet fails the test."""

    def forbidden(*args, **kwargs):
        pytest.fail("the network was touched")

    for name in ("connect", "install_ngrok", "get_tunnels", "get_ngrok_process"):
        monkeypatch.setattr(ngrok, name, forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    # open_tunnel configures pyngrok's global default; give it back afterwards.
    default = conf.get_default()
    monkeypatch.setattr(default, "ngrok_path", default.ngrok_path)
    monkeypatch.setattr(default, "auth_token", default.auth_token)


@pytest.mark.parametrize("token", [None, "", "   "])
def test_missing_token_is_refused_before_any_network(offline, token):
    with pytest.raises(TunnelError, match="NGROK_AUTHTOKEN"):
        open_tunnel(8000, token)


def test_missing_agent_is_explained_without_downloading(offline, monkeypatch, tmp_path):
    monkeypatch.setenv("NGROK_PATH", str(tmp_path / "ngrok"))
    with pytest.raises(TunnelError) as err:
        open_tunnel(8000, SECRET, allow_download=False)
    message = str(err.value)
    assert "internet" in message and "NGROK_PATH" in message and str(tmp_path) in message
    assert SECRET not in message


def test_rerun_reuses_the_tunnel_for_the_same_port(offline, monkeypatch, tmp_path):
    agent = tmp_path / "ngrok"
    agent.write_text("")
    monkeypatch.setenv("NGROK_PATH", str(agent))
    config = conf.get_default()
    running = [
        ngrok.NgrokTunnel({"public_url": url, "upstream": {"url": upstream}}, config, None)
        for url, upstream in [
            ("https://other.ngrok-free.app", "http://localhost:9000"),
            ("https://mine.ngrok-free.app", "http://127.0.0.1:8000"),
        ]
    ]
    monkeypatch.setattr(process, "is_process_running", lambda path: path == str(agent))
    monkeypatch.setattr(ngrok, "get_tunnels", lambda *a, **k: running)
    assert open_tunnel(8000, SECRET) == "https://mine.ngrok-free.app"


def test_one_session_limit_is_explained():
    exc = PyngrokNgrokError(
        "The ngrok process errored on start: authentication failed: Your account is "
        "limited to 1 simultaneous ngrok agent sessions.",
        ngrok_error="authentication failed: limited to 1 simultaneous ngrok agent "
        "sessions.\r\n\r\nERR_NGROK_108\r\n",
    )
    message = str(tunnel_error_from(exc, SECRET))
    assert "one agent session" in message
    assert "dashboard.ngrok.com/agents" in message


def test_token_is_redacted_from_ngrok_messages():
    exc = PyngrokNgrokError(f"bad token. Your authtoken: {SECRET}", ngrok_error="ERR_NGROK_105")
    message = str(tunnel_error_from(exc, SECRET))
    assert SECRET not in message and "rejected NGROK_AUTHTOKEN" in message


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (PyngrokNgrokInstallError("An error occurred while downloading ngrok"), "internet"),
        (PyngrokNgrokHTTPError("502", "http://127.0.0.1:4040/api", 502, "x", {}, "busy"), "busy"),
        (PyngrokNgrokError("The ngrok process errored on start: dial tcp: lookup"), "internet"),
        (ConnectionRefusedError("refused"), "refused"),
    ],
)
def test_other_failures_keep_ngroks_reason(exc, expected):
    error = tunnel_error_from(exc)
    assert isinstance(error, TunnelError) and isinstance(error, RuntimeError)
    assert expected in str(error)


def test_local_mode_never_loads_pyngrok():
    code = (
        "import sys\n"
        "from flask import Flask\n"
        "from tutorial_helpers.callback_server import start_callback_server\n"
        "from tutorial_helpers.settings import load_settings\n"
        "server = start_callback_server(Flask('x'), load_settings('local'))\n"
        "server.stop()\n"
        "assert 'pyngrok' not in sys.modules and 'tutorial_helpers.tunnel' not in sys.modules\n"
    )
    repo = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=repo)


def test_tunnel_errors_render_as_one_line_in_ipython():
    from tutorial_helpers.tunnel import TunnelError

    [line] = TunnelError("ngrok said no.")._render_traceback_()
    assert line.startswith("TunnelError: ngrok said no. To go back to local mode")  # twilio mode only
