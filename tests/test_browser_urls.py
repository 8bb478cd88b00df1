"""The kernel's browser-visible prefix (browser_urls.py): a hub's JUPYTERHUB_SERVICE_PREFIX, the base_url of the
plain JupyterLab that started the kernel (matched by its pid, and only when it has jupyter-server-proxy), or
none: direct URLs, as on a laptop without JupyterLab and in headless runs."""

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask

from tutorial_helpers import browser_urls, worker_page
from tutorial_helpers.browser_urls import browser_url, jupyter_prefix
from tutorial_helpers.callback_server import start_callback_server
from tutorial_helpers.settings import Settings

SID = "AC" + "ab" * 16
SETTINGS = Settings("local", SID, "token", local_base_url="http://127.0.0.1:8765")
FAR_PID = 2**22 + 12345  # above Linux's pid_max: no process has it


class FakeJupyter:
    """A Jupyter server as far as the probe can tell: jupyter-server-proxy's API path answers a login redirect
    (with the extension) or 404 (without)."""

    def __init__(self, with_proxy: bool):
        answer = 302 if with_proxy else 404
        self.asked: list[str] = []
        asked = self.asked

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                asked.append(self.path)
                self.send_response(answer if self.path.endswith("/server-proxy/servers-info") else 404)
                self.send_header("Location", "/login")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def info(self, pid: int, base_url: str) -> dict:
        """What a running server writes to its jpserver-<pid>.json (the fields read here, and a few more)."""
        port = self.server.server_address[1]
        return {"base_url": base_url, "hostname": "localhost", "password": False, "pid": pid, "port": port,
                "root_dir": "/tmp", "secure": False, "sock": "", "token": "T",
                "url": f"http://localhost:{port}{base_url}", "version": "2.21.1"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def kernel_env(monkeypatch, tmp_path: Path) -> Iterator[Path]:
    """A kernel's environment with no hub, no parent server and an empty runtime dir; the prefix looked for anew."""
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.delenv("JPY_PARENT_PID", raising=False)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    jupyter_prefix.cache_clear()
    yield runtime
    jupyter_prefix.cache_clear()


@pytest.fixture
def jupyter() -> Iterator[FakeJupyter]:
    server = FakeJupyter(with_proxy=True)
    yield server
    server.close()


def write_server(runtime: Path, info: dict) -> None:
    (runtime / f"jpserver-{info['pid']}.json").write_text(json.dumps(info))


def test_on_a_hub_the_service_prefix_is_used(kernel_env, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    assert browser_url("http://127.0.0.1:5000/agents?WorkerSid=WK1") == "/user/alice/proxy/5000/agents?WorkerSid=WK1"
    assert browser_url("http://localhost:8765/v1/wschannels") == "/user/alice/proxy/8765/v1/wschannels"
    assert browser_url("http://0.0.0.0:5000/") == "/user/alice/proxy/5000/"  # listening everywhere: localhost too


def test_a_hub_prefix_without_its_slashes_is_still_a_prefix(kernel_env, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "user/bob")
    assert jupyter_prefix() == "/user/bob/"


def test_another_machines_url_and_a_tunnel_are_never_proxied(kernel_env, monkeypatch):
    """jupyter-server-proxy's proxy/<port> reaches this machine only."""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    for url in ("http://10.1.2.3:8765/v1/wschannels", "https://abc.ngrok-free.app/agents",
                "https://taskrouter.twilio.com/v1/wschannels", "http://127.0.0.1/agents"):
        assert browser_url(url) == url


def test_a_plain_lab_is_found_by_the_kernels_parent_pid(kernel_env, monkeypatch, jupyter):
    """JPY_PARENT_PID names the server that started the kernel; other running servers are not it."""
    monkeypatch.setenv("JPY_PARENT_PID", str(FAR_PID))
    write_server(kernel_env, jupyter.info(FAR_PID, "/some/prefix/"))
    write_server(kernel_env, jupyter.info(FAR_PID + 1, "/someone/elses/"))
    assert browser_url("http://127.0.0.1:5000/agents?WorkerSid=WK1") == "/some/prefix/proxy/5000/agents?WorkerSid=WK1"
    assert jupyter.asked == ["/some/prefix/server-proxy/servers-info"]  # asked once, without credentials
    browser_url("http://127.0.0.1:8765/v1/wschannels")
    assert len(jupyter.asked) == 1  # once per kernel


def test_a_plain_lab_is_found_by_the_parent_process_too(kernel_env, jupyter):
    """Without JPY_PARENT_PID (another launcher), the parent process is the server's."""
    write_server(kernel_env, jupyter.info(os.getppid(), "/"))
    assert browser_url("http://127.0.0.1:5000/agents") == "/proxy/5000/agents"


def test_a_lab_without_jupyter_server_proxy_keeps_direct_urls(kernel_env, monkeypatch):
    """The learner's own Jupyter without the extension: a proxied path would 404, the direct URL works here."""
    jupyter = FakeJupyter(with_proxy=False)
    try:
        monkeypatch.setenv("JPY_PARENT_PID", str(FAR_PID))
        write_server(kernel_env, jupyter.info(FAR_PID, "/lab-prefix/"))
        assert jupyter_prefix() is None
        assert browser_url("http://127.0.0.1:5000/agents") == "http://127.0.0.1:5000/agents"
        assert jupyter.asked == ["/lab-prefix/server-proxy/servers-info"]
    finally:
        jupyter.close()


def test_no_jupyter_server_means_direct_urls(kernel_env, monkeypatch):
    """A laptop without JupyterLab, VS Code, a headless run: nothing to match, so the URLs stay as they were."""
    monkeypatch.setenv("JPY_PARENT_PID", str(FAR_PID))
    (kernel_env / "jpserver-broken.json").write_text("{not json")  # a file being written is skipped
    assert jupyter_prefix() is None
    assert browser_url("http://127.0.0.1:5000/agents?WorkerSid=WK1") == "http://127.0.0.1:5000/agents?WorkerSid=WK1"


def test_a_server_that_went_away_is_not_a_prefix(kernel_env, monkeypatch):
    """The runtime file of a server that no longer answers: the probe fails, the URLs stay direct."""
    jupyter = FakeJupyter(with_proxy=True)
    info = jupyter.info(FAR_PID, "/gone/")
    jupyter.close()
    monkeypatch.setenv("JPY_PARENT_PID", str(FAR_PID))
    write_server(kernel_env, info)
    assert jupyter_prefix() is None


def test_the_callback_servers_browser_url_goes_through_the_prefix(kernel_env, monkeypatch, no_callback_server_left):
    """Notebook 06's link: the browser's way to the page, while TaskRouter keeps the direct URL."""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    server = start_callback_server(Flask(__name__), SETTINGS)
    assert server.browser_url("/agents?WorkerSid=WK1") == f"/user/alice/proxy/{server.port}/agents?WorkerSid=WK1"
    assert server.url_for("/assignment_callback") == f"http://127.0.0.1:{server.port}/assignment_callback"


def test_the_callback_servers_browser_url_is_its_own_without_jupyter(kernel_env, no_callback_server_left):
    server = start_callback_server(Flask(__name__), SETTINGS)
    assert server.browser_url("agents?WorkerSid=WK1") == f"{server.local_url}/agents?WorkerSid=WK1"


def test_the_pages_eventbridge_follows_the_way_the_page_came(kernel_env, monkeypatch):
    """Through the proxy: EventBridge as a path of the page's origin (the page makes http(s)/ws(s) of it).
    Directly (a headless run's autopilot, a laptop): EventBridge's own URLs, as before."""
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    app = Flask(__name__)
    with app.test_request_context("/agents", headers={"X-Forwarded-Prefix": "/user/alice/proxy/5000"}):
        assert worker_page.sdk_options(SETTINGS) == {"ebServer": "/user/alice/proxy/8765/v1/wschannels",
                                                     "wsServer": "/user/alice/proxy/8765/v1/wschannels"}
    with app.test_request_context("/agents"):
        assert worker_page.sdk_options(SETTINGS) == {"ebServer": "http://127.0.0.1:8765/v1/wschannels",
                                                     "wsServer": "ws://127.0.0.1:8765/v1/wschannels"}
    assert worker_page.sdk_options(Settings("twilio", SID, "token")) == {}  # Twilio's own EventBridge


def test_only_settings_reads_the_environment():
    """The prefix's environment variables are read through settings.from_environment, like every other."""
    source = Path(browser_urls.__file__).read_text()
    assert "os.environ" not in source and "getenv" not in source
