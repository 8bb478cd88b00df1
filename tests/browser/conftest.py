"""A real JupyterLab and Debian's chromium, driven by Playwright (no browser download)."""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser_executable() -> str:
    path = chromium_path()
    if path is None:
        message = (
            "Debian's chromium is not installed: `make test` installs it with apt "
            "(scripts/ensure_chromium.sh); or run `apt-get install chromium`"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # under CI a missing browser is a failure, never a skip
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / "tests" / "browser" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, url: str, token: str, root: Path, base_url: str = "/"):
        """`url`: the server's origin (http://127.0.0.1:PORT); `base_url`: the path it serves under."""
        self.url, self.token, self.root, self.base_url = url, token, root, base_url

    def notebook_url(self, name: str) -> str:
        return f"{self.url}{self.base_url}lab/tree/{name}?token={self.token}"


def start_lab(tmp_path: Path, taskrouter, base_url: str = "/") -> tuple[Lab, subprocess.Popen]:
    """JupyterLab on a free port under `base_url`, serving a copy of notebooks/ (autosave must never touch the
    repo), its kernels pointed at `taskrouter`; waits until it answers."""
    root = tmp_path / "notebooks"
    root.mkdir()
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):  # only the notebooks: no sockets or checkpoints
        shutil.copy(notebook, root)
    port, token = free_port(), "browser-test-token"
    env = {
        **os.environ,
        "LOCAL_TASKROUTER_URL": taskrouter.base_url,
        "TUTORIAL_MODE": "local",
        # Fresh settings, workspaces and config: no layout restored from another session.
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    env.pop("JUPYTERHUB_SERVICE_PREFIX", None)  # a plain lab: its kernels find its base_url themselves
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", f"--ServerApp.base_url={base_url}",
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "jupyterlab.log", "wb")
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()  # the child has its own copy
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{url}{base_url}api/status?token={token}", timeout=1).ok:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text()[-3000:])
        time.sleep(0.2)
    return Lab(url, token, root, base_url), process


def stop_lab(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def jupyter_lab(tmp_path: Path, taskrouter) -> Iterator[Lab]:
    """JupyterLab on a free port, serving a copy of notebooks/."""
    lab, process = start_lab(tmp_path, taskrouter)
    try:
        yield lab
    finally:
        stop_lab(process)


@pytest.fixture
def jupyter_lab_behind_a_prefix(tmp_path: Path, taskrouter) -> Iterator[Lab]:
    """The same JupyterLab served under /some/prefix/, as a remote JupyterLab or a hub's user server is."""
    lab, process = start_lab(tmp_path, taskrouter, base_url="/some/prefix/")
    try:
        yield lab
    finally:
        stop_lab(process)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_call = report.failed


@pytest.fixture
def page(browser_executable: str, tmp_path: Path, request, screenshot_dir: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=browser_executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        page = browser.new_page()
        try:
            yield page
        finally:
            if getattr(request.node, "failed_call", False):
                # What the page showed when the test failed, for whoever reads the CI log.
                page.screenshot(path=str(screenshot_dir / f"FAILED_{request.node.name}.png"))
            browser.close()
