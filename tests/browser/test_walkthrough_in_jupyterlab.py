"""The learner's one essential interaction, proven in a real JupyterLab in headless chromium:
flip Alice to Idle in the worker widget and watch the task become assigned."""

import json
import time
from pathlib import Path

from playwright.sync_api import Page, expect

WIDGET_TIMEOUT_MS = 120_000  # a cold kernel + Run All on a 2-core machine shared with other work


def wait_for_idle_kernel(page: Page) -> None:
    """Kernel idle before running, or "Run All" races the kernel start. JupyterLab sometimes
    asks which kernel to start even for a notebook with a kernelspec: take the one offered."""
    idle = page.get_by_text("Python 3 (ipykernel) | Idle")
    select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
    deadline = time.monotonic() + WIDGET_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        if select.count() and select.is_visible():
            select.click()
        if idle.count() and idle.first.is_visible():
            return
        page.wait_for_timeout(250)
    raise AssertionError("the notebook's kernel never became idle")


def open_and_run_all(page: Page, lab, notebook: str) -> None:
    page.goto(lab.notebook_url(notebook))
    page.wait_for_selector(".jp-Notebook", timeout=WIDGET_TIMEOUT_MS)
    wait_for_idle_kernel(page)
    page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()


def assert_no_news_toast(page: Page) -> None:
    """`make install` turns JupyterLab's news question off for the project's lab (scripts/lab_overrides.py)."""
    expect(page.get_by_text("official Jupyter news")).to_have_count(0)


def click_idle_for_alice(page: Page) -> None:
    alice = page.locator(".jp-OutputArea-output .tr-worker-alice").first
    expect(alice).to_be_visible(timeout=WIDGET_TIMEOUT_MS)
    alice.get_by_role("button", name="Idle", exact=True).click()


def quickstart_state(taskrouter) -> tuple[list, object]:
    client = taskrouter.client()
    workspaces = client.taskrouter.v1.workspaces.list()
    assert len(workspaces) == 1, [w.friendly_name for w in workspaces]
    ws = client.taskrouter.v1.workspaces(workspaces[0].sid)
    alice = next(w for w in ws.workers.list() if w.friendly_name == "Alice")
    return ws.tasks.list(), alice


def test_seed_step_accepts_with_an_assignment_instruction(page: Page, jupyter_lab, taskrouter, screenshot_dir: Path):
    open_and_run_all(page, jupyter_lab, "03_accept_with_instruction.ipynb")
    status = page.locator(".jp-OutputArea-output .tr-task-status").first
    expect(status).to_be_visible(timeout=WIDGET_TIMEOUT_MS)
    expect(status).to_contain_text("pending", timeout=WIDGET_TIMEOUT_MS)
    page.locator(".jp-OutputArea-output .tr-worker-controls").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "03_before_click.png"), full_page=False)
    assert_no_news_toast(page)

    click_idle_for_alice(page)

    expect(status).to_contain_text("assigned", timeout=WIDGET_TIMEOUT_MS)
    expect(status).to_contain_text("Busy", timeout=WIDGET_TIMEOUT_MS)
    alice_row = page.locator(".jp-OutputArea-output .tr-worker-alice").first
    expect(alice_row).to_contain_text("Busy", timeout=WIDGET_TIMEOUT_MS)
    inspector = page.locator(".jp-OutputArea-output .tr-callback-inspector").first
    expect(inspector).to_contain_text('"instruction": "accept"', timeout=WIDGET_TIMEOUT_MS)
    expect(inspector).to_contain_text("ReservationSid", timeout=WIDGET_TIMEOUT_MS)
    status.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "03_after_click.png"), full_page=False)

    # What the page shows is what the TaskRouter holds.
    tasks, alice = quickstart_state(taskrouter)
    newest = max(tasks, key=lambda t: t.date_created)
    assert newest.assignment_status == "assigned"
    assert json.loads(newest.attributes) == {"selected_language": "es"}
    assert alice.activity_name == "Busy"


def test_accept_through_rest_after_the_click(page: Page, jupyter_lab, taskrouter, screenshot_dir: Path):
    open_and_run_all(page, jupyter_lab, "02_accept_through_rest.ipynb")
    status = page.locator(".jp-OutputArea-output .tr-task-status").first
    expect(status).to_be_visible(timeout=WIDGET_TIMEOUT_MS)
    page.locator(".jp-OutputArea-output .tr-worker-controls").first.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "02_before_click.png"), full_page=False)

    click_idle_for_alice(page)

    # The callback answers {}: the reservation waits for REST, Alice is Reserved.
    expect(status).to_contain_text("reserved", timeout=WIDGET_TIMEOUT_MS)
    expect(status).to_contain_text("Reserved", timeout=WIDGET_TIMEOUT_MS)
    inspector = page.locator(".jp-OutputArea-output .tr-callback-inspector").first
    expect(inspector).to_contain_text("ReservationSid", timeout=WIDGET_TIMEOUT_MS)
    status.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "02_after_click.png"), full_page=False)

    # Run All stopped at "nothing to accept yet"; now the learner runs the accept cells.
    listing = page.locator(".jp-Notebook .jp-CodeCell").filter(has_text="reservations.list()").first
    listing.locator(".jp-InputArea-prompt").click()
    page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
    page.get_by_text("Run Selected Cell and All Below", exact=True).click()
    expect(status).to_contain_text("assigned", timeout=WIDGET_TIMEOUT_MS)
    expect(status).to_contain_text("Busy", timeout=WIDGET_TIMEOUT_MS)
    status.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "02_after_accept.png"), full_page=False)

    tasks, alice = quickstart_state(taskrouter)
    assert any(t.assignment_status == "assigned" for t in tasks)
    assert alice.activity_name == "Busy"
