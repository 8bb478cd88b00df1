"""Notebook 06 as a learner runs it, in a JupyterLab behind a prefix (`--ServerApp.base_url=/some/prefix/`, with
a token), in a browser that may reach that JupyterLab's origin and nothing else: every other origin's request and
websocket is aborted, which proves that Alice's page needs no direct port. Run All pauses; the page in the
iframe comes through the learner's Jupyter server (jupyter-server-proxy), its script under the prefix, and its
SDK reaches EventBridge the same way (tunnel and websocket); Idle, a reservation, Accept; the check says
Correct. (A lab without a prefix takes the same path with base_url `/`: `make lab`'s, on a laptop too.)"""

import re
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, WebSocketRoute, expect
from test_walkthrough_in_jupyterlab import WIDGET_TIMEOUT_MS, code_cell, open_and_run_all, run_from


def test_alice_accepts_on_her_page_through_jupyters_own_origin(page: Page, jupyter_lab_behind_a_prefix, taskrouter,
                                                               screenshot_dir: Path):
    lab = jupyter_lab_behind_a_prefix
    lab_host = urlsplit(lab.url).netloc
    elsewhere: list[str] = []
    requests_seen: list[str] = []
    sockets: list[str] = []

    def another_origin(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != lab_host

    def abort(route: Route) -> None:
        elsewhere.append(route.request.url)
        route.abort()

    def close(socket: WebSocketRoute) -> None:
        elsewhere.append(socket.url)
        socket.close()

    page.context.route(another_origin, abort)
    page.context.route_web_socket(another_origin, close)
    page.on("request", lambda sent: requests_seen.append(f"{sent.method} {sent.url}"))  # the iframe's too
    page.on("websocket", lambda socket: sockets.append(socket.url))

    open_and_run_all(page, lab, "06_worker_page.ipynb")
    pause = code_cell(page, "pause_for_page(")
    expect(pause.locator(".tr-pause")).to_contain_text("Your turn.", timeout=WIDGET_TIMEOUT_MS)
    frame = code_cell(page, "WorkerPageLink(").locator("iframe.tr-worker-page")
    frame.scroll_into_view_if_needed()
    src = frame.get_attribute("src") or ""
    assert re.fullmatch(r"/some/prefix/proxy/\d+/agents\?WorkerSid=WK\w+", src), src  # host-less, under the prefix
    link = code_cell(page, "WorkerPageLink(").locator(".tr-worker-page-link a")
    assert link.get_attribute("href") == src

    alice_page = page.frame_locator("iframe.tr-worker-page").first
    expect(alice_page.locator("#log")).to_contain_text("ready: Alice is Offline", timeout=WIDGET_TIMEOUT_MS)
    expect(alice_page.locator("#worker-name")).to_be_in_viewport()  # where Run All's pause scrolled
    page.screenshot(path=str(screenshot_dir / "06_prefix_page.png"), full_page=False)
    alice_page.locator(".activity-button", has_text="Idle").click()
    card = alice_page.locator(".reservation").first
    expect(card).to_contain_text('"selected_language": "es"', timeout=WIDGET_TIMEOUT_MS)
    card.locator("button.accept").click()
    expect(card.locator(".status")).to_have_text("accepted", timeout=WIDGET_TIMEOUT_MS)
    status = code_cell(page, "TaskStatusView(")
    expect(status.locator(".tr-assignment-status")).to_have_text("assigned", timeout=WIDGET_TIMEOUT_MS)

    run_from(page, "pause_for_page(")
    check = code_cell(page, "check_step_06(")
    expect(check.locator(".tr-check-ok")).to_contain_text("Correct", timeout=WIDGET_TIMEOUT_MS)
    expect(check.locator(".tr-check-ok")).to_contain_text("accepted Task")
    check.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "06_prefix_checked.png"), full_page=False)

    # Nothing needed another origin; the page, its script and EventBridge all came through the prefix.
    assert elsewhere == [], elsewhere
    bridge = f"/some/prefix/proxy/{taskrouter.port}/v1/wschannels"
    assert any(r.startswith(f"GET {lab.url}/some/prefix/proxy/") and "/static/twilio-taskrouter.js" in r
               for r in requests_seen), requests_seen
    assert any(r == f"POST {lab.url}{bridge}" for r in requests_seen), requests_seen  # the SDK's tunnel
    assert any(s.startswith(f"ws://{lab_host}{bridge}?") for s in sockets), sockets  # and its socket
