"""Where a browser finds what runs beside this kernel: through the learner's own Jupyter server when there is one.

On a JupyterHub, on Binder or in any remote JupyterLab the browser is on another machine than the kernel, and
`http://127.0.0.1:<port>` in a link, an iframe or a page's script would point at the learner's own laptop. The
Jupyter server the browser already talks to forwards to the kernel's machine (jupyter-server-proxy:
`{base_url}proxy/<port>/<path>`, websockets included, behind the learner's own Jupyter login), so every URL a
browser loads is made here, from the direct one:

    browser_url("http://127.0.0.1:5000/agents?WorkerSid=WK...")
    # '/user/alice/proxy/5000/agents?WorkerSid=WK...'   a hub, Binder, a JupyterLab (`make lab` too)
    # 'http://127.0.0.1:5000/agents?WorkerSid=WK...'    no Jupyter server: VS Code, a headless run

The prefix is the browser-visible path of the Jupyter server that runs this kernel, found once per kernel:

1. JUPYTERHUB_SERVICE_PREFIX, which a hub (Binder is one) gives the user's server and its kernels;
2. else the `base_url` of the running Jupyter server whose process started this kernel (JPY_PARENT_PID, which
   jupyter_client sets, or the parent pid), from that server's own runtime file (`jpserver-<pid>.json`, what
   `jupyter_server.serverapp.list_running_servers()` reads, read here without importing the server, which
   takes seconds), if that server has jupyter-server-proxy: asked without credentials,
   `{url}server-proxy/servers-info` answers 404 only without it (a login redirect with it);
3. else none: the URL stays direct, as it always was.

The browser's host is unknown to the kernel (a hub's public name, a tunnel's), so a proxied URL is a host-less
path; a page builds its websocket's `ws(s)://` URL from its own `location`. Only addresses of this machine are
proxied (jupyter-server-proxy's `proxy/<port>` reaches localhost): another machine's URL is returned as given.
Server-to-server URLs (webhooks, the kernel's REST calls) never come from here: they stay direct.
"""

from __future__ import annotations

import json
import os
import warnings
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tutorial_helpers.callback_host import is_all, is_loopback
from tutorial_helpers.settings import from_environment

HUB_PREFIX = "JUPYTERHUB_SERVICE_PREFIX"
PARENT_PID = "JPY_PARENT_PID"
PROBE_PATH = "server-proxy/servers-info"  # jupyter-server-proxy's own API: 404 from a server without it
PROBE_SECONDS = 3.0


def browser_url(direct: str) -> str:
    """What a browser should load for `direct`, an http(s) URL of a server on this machine.

    `{prefix}proxy/<port><path>?<query>` when this kernel runs under a Jupyter server that can forward to it,
    else `direct` unchanged (also for a URL of another machine, which the proxy does not reach).
    """
    parts = urlsplit(direct)
    host = parts.hostname or ""
    if not (is_loopback(host) or is_all(host)) or parts.port is None:
        return direct
    prefix = jupyter_prefix()
    if prefix is None:
        return direct
    path = parts.path or "/"
    return f"{prefix}proxy/{parts.port}{path}" + (f"?{parts.query}" if parts.query else "")


@cache
def jupyter_prefix() -> str | None:
    """The browser-visible base path (`/user/alice/`, `/`) of the Jupyter server running this kernel, or None.

    Found once per kernel (the module docstring says how); `jupyter_prefix.cache_clear()` looks again.
    """
    hub = from_environment(HUB_PREFIX)
    if hub:
        return _slashed(hub)
    server = _parent_server()
    if server is None or not _has_proxy(server):
        return None
    return _slashed(str(server.get("base_url") or "/"))


def _parent_server() -> dict | None:
    """The runtime file's facts of the running Jupyter server that started this process, if any."""
    pids = {os.getppid()}
    named = from_environment(PARENT_PID) or ""
    if named.strip().isdigit():
        pids.add(int(named))
    for info in _running_servers():
        if info.get("pid") in pids:
            return info
    return None


def _running_servers() -> list[dict]:
    """What each `jpserver-*.json` in Jupyter's runtime directory says (the files list_running_servers reads)."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:  # no Jupyter here at all
        return []
    found = []
    for path in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # being written, or gone
            continue
        if isinstance(info, dict):
            found.append(info)
    return found


def _has_proxy(server: dict) -> bool:
    """True when the server answers its jupyter-server-proxy API path with anything but 404 (no credentials sent)."""
    url = str(server.get("url") or "")
    if server.get("sock") or not url.startswith(("http://", "https://")):
        return False  # a server on a Unix socket: no URL to ask
    try:
        with warnings.catch_warnings():  # a self-signed https server: only the status is read, nothing is sent
            warnings.simplefilter("ignore")
            answer = requests.get(url.rstrip("/") + "/" + PROBE_PATH, timeout=PROBE_SECONDS, allow_redirects=False,
                                  verify=False)
    except requests.RequestException:
        return False
    return answer.status_code != 404


def _slashed(prefix: str) -> str:
    return "/" + prefix.strip().strip("/") + "/" if prefix.strip("/ ") else "/"
