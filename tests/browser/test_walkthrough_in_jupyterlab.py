"""The learner's interactions, proven in a real JupyterLab in headless chromium: Run All pauses where the
learner clicks Alice -> Idle, the rest runs on from there, a re-run shows only its own callbacks, and a
kernel restart is explained."""

import json
import re
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


def menu(page: Page, top: str, item: str) -> None:
    page.locator("#jp-MainMenu").get_by_text(top, exact=True).click()
    page.get_by_text(item, exact=True).click()


def open_and_run_all(page: Page, lab, notebook: str) -> None:
    page.goto(lab.notebook_url(notebook))
    page.wait_for_selector(".jp-Notebook", timeout=WIDGET_TIMEOUT_MS)
    wait_for_idle_kernel(page)
    menu(page, "Run", "Run All Cells")


def code_cell(page: Page, text: str):
    return page.locator(".jp-Notebook .jp-CodeCell").filter(has_text=text).first


def run_from(page: Page, text: str) -> None:
    """What the pause box says to do: select that cell, Run > Run Selected Cell and All Below."""
    code_cell(page, text).locator(".jp-InputArea-prompt").click()
    menu(page, "Run", "Run Selected Cell and All Below")


def assert_no_news_toast(page: Page) -> None:
    """`make install` turns JupyterLab's news question off for the project's lab (scripts/venv_defaults.py)."""
    expect(page.get_by_text("official Jupyter news")).to_have_count(0)


def assert_paused_kindly(page: Page) -> None:
    """Run All stopped at the pause cell: a box that says what to do, one line, no traceback."""
    pause = code_cell(page, "pause_for_click(")
    expect(pause.locator(".tr-pause")).to_contain_text("Your turn.", timeout=WIDGET_TIMEOUT_MS)
    expect(pause.locator(".tr-pause")).to_contain_text("Run Selected Cell and All Below")
    expect(pause).to_contain_text("Paused on purpose, not an error")
    expect(pause.locator(".tr-worker-alice")).to_be_visible()  # the buttons, right where Run All stopped
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(1)


def click_idle_for_alice(page: Page) -> None:
    """Alice's Idle button in the pause box, where JupyterLab scrolled."""
    alice = code_cell(page, "pause_for_click(").locator(".tr-worker-alice").first
    expect(alice).to_be_visible(timeout=WIDGET_TIMEOUT_MS)
    alice.get_by_role("button", name="Idle", exact=True).click()


def quickstart_state(taskrouter) -> tuple[list, object]:
    client = taskrouter.client()
    workspaces = client.taskrouter.v1.workspaces.list()
    assert len(workspaces) == 1, [w.friendly_name for w in workspaces]
    ws = client.taskrouter.v1.workspaces(workspaces[0].sid)
    alice = next(w for w in ws.workers.list() if w.friendly_name == "Alice")
    return ws.tasks.list(), alice


def test_seed_step_run_all_pauses_for_the_click_then_accepts(page: Page, jupyter_lab, taskrouter,
                                                             screenshot_dir: Path):
    open_and_run_all(page, jupyter_lab, "03_accept_with_instruction.ipynb")
    status = page.locator(".jp-OutputArea-output .tr-task-status").first
    expect(status).to_contain_text("pending", timeout=WIDGET_TIMEOUT_MS)
    assert_paused_kindly(page)
    check = code_cell(page, "check_step_03(")
    expect(check.locator(".jp-OutputArea-output")).to_have_count(0)  # nothing below the pause ran
    code_cell(page, "pause_for_click(").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "03_paused.png"), full_page=False)
    assert_no_news_toast(page)

    click_idle_for_alice(page)

    expect(status).to_contain_text("assigned", timeout=WIDGET_TIMEOUT_MS)
    expect(status).to_contain_text("Busy", timeout=WIDGET_TIMEOUT_MS)
    inspector = page.locator(".jp-OutputArea-output .tr-callback-inspector").first
    expect(inspector).to_contain_text('"instruction": "accept"', timeout=WIDGET_TIMEOUT_MS)
    expect(inspector).to_contain_text("ReservationSid", timeout=WIDGET_TIMEOUT_MS)
    status.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "03_after_click.png"), full_page=False)

    run_from(page, "pause_for_click(")
    expect(check.locator(".tr-check-ok")).to_contain_text("Correct", timeout=WIDGET_TIMEOUT_MS)
    expect(code_cell(page, "workspace.tasks(task.sid).fetch()")).to_contain_text("is assigned | Alice is Busy")
    check.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "03_checked.png"), full_page=False)

    # Start over asks first, saying what would go; Cancel deletes nothing.
    start_over = page.locator(".jp-OutputArea-output .tr-start-over").first
    start_over.get_by_role("button", name="Start over…").click()
    expect(start_over).to_contain_text("This deletes", timeout=WIDGET_TIMEOUT_MS)
    expect(start_over).to_contain_text("the workers Alice, Bob")
    start_over.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "03_start_over_asks.png"), full_page=False)
    start_over.get_by_role("button", name="Cancel").click()
    expect(start_over).to_contain_text("Nothing deleted")

    # What the page shows is what the TaskRouter holds.
    tasks, alice = quickstart_state(taskrouter)
    newest = max(tasks, key=lambda t: t.date_created)
    assert newest.assignment_status == "assigned"
    assert json.loads(newest.attributes) == {"selected_language": "es"}
    assert alice.activity_name == "Busy"

    # Run All again, in the same kernel: the inspector shows this run's task only.
    menu(page, "Run", "Run All Cells")
    assert_paused_kindly(page)
    fresh = page.locator(".jp-OutputArea-output .tr-callback-inspector").first
    expect(fresh).to_contain_text("(0 request(s))", timeout=WIDGET_TIMEOUT_MS)
    expect(fresh).to_contain_text("1 earlier request(s) about other tasks (an earlier run) are not shown")
    fresh.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "03_rerun_before_click.png"), full_page=False)
    click_idle_for_alice(page)
    expect(fresh).to_contain_text("(1 request(s))", timeout=WIDGET_TIMEOUT_MS)


def test_accept_through_rest_run_all_pauses_then_runs_on(page: Page, jupyter_lab, taskrouter, screenshot_dir: Path):
    open_and_run_all(page, jupyter_lab, "02_accept_through_rest.ipynb")
    status = page.locator(".jp-OutputArea-output .tr-task-status").first
    expect(status).to_be_visible(timeout=WIDGET_TIMEOUT_MS)
    assert_paused_kindly(page)
    code_cell(page, "pause_for_click(").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "02_paused.png"), full_page=False)

    click_idle_for_alice(page)

    # The callback answers {}: the reservation waits for REST, Alice is Reserved.
    expect(status).to_contain_text("reserved", timeout=WIDGET_TIMEOUT_MS)
    expect(status).to_contain_text("Reserved", timeout=WIDGET_TIMEOUT_MS)
    inspector = page.locator(".jp-OutputArea-output .tr-callback-inspector").first
    expect(inspector).to_contain_text("ReservationSid", timeout=WIDGET_TIMEOUT_MS)

    run_from(page, "pause_for_click(")
    expect(status).to_contain_text("assigned", timeout=WIDGET_TIMEOUT_MS)
    expect(status).to_contain_text("Busy", timeout=WIDGET_TIMEOUT_MS)
    check = code_cell(page, "check_step_02(")
    expect(check.locator(".tr-check-ok")).to_contain_text("Correct", timeout=WIDGET_TIMEOUT_MS)
    status.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "02_after_accept.png"), full_page=False)

    tasks, alice = quickstart_state(taskrouter)
    assert any(t.assignment_status == "assigned" for t in tasks)
    assert alice.activity_name == "Busy"


def test_a_kernel_restart_midway_is_explained(page: Page, jupyter_lab, taskrouter, screenshot_dir: Path):
    open_and_run_all(page, jupyter_lab, "03_accept_with_instruction.ipynb")
    assert_paused_kindly(page)
    menu(page, "Kernel", "Restart Kernel…")
    accept = page.locator(".jp-Dialog button.jp-mod-accept")
    accept.first.click(timeout=WIDGET_TIMEOUT_MS)
    wait_for_idle_kernel(page)

    # The widgets can no longer reach a kernel, and say so (CSS, since no Python runs for them now).
    controls = page.locator(".jp-OutputArea-output .tr-worker-controls").first
    expect(controls).to_have_class(re.compile("jupyter-widgets-disconnected"), timeout=30_000)
    after = controls.evaluate("element => getComputedStyle(element, '::after').content")
    assert "The kernel was restarted" in after and "run the notebook from the top" in after
    controls.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "03_widgets_after_restart.png"), full_page=False)

    # A cell from the middle, in the new kernel: one sentence, no traceback.
    run_from(page, "workspace.tasks(task.sid).fetch()")
    later = code_cell(page, "workspace.tasks(task.sid).fetch()")
    expect(later).to_contain_text("This kernel has not run the notebook's first cell", timeout=WIDGET_TIMEOUT_MS)
    expect(later).to_contain_text("Run the notebook from the top")
    later.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "03_after_restart.png"), full_page=False)


def test_setup_shows_the_mode_form_and_runs_clean(page: Page, jupyter_lab, taskrouter, screenshot_dir: Path):
    open_and_run_all(page, jupyter_lab, "00_setup.ipynb")
    form = page.locator(".jp-OutputArea-output .tr-settings-form").first
    expect(form).to_be_visible(timeout=WIDGET_TIMEOUT_MS)
    expect(code_cell(page, "check_environment(")).to_contain_text("Correct", timeout=WIDGET_TIMEOUT_MS)
    form.get_by_role("button", name="twilio: your Twilio account").click()
    expect(form.get_by_text("Auth Token")).to_be_visible()
    expect(form.locator("input[type=password]")).to_have_count(2)  # the tokens are typed hidden
    form.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "00_settings_form.png"), full_page=False)
    expect(page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)


def test_a_phone_call_makes_the_spanish_task(page: Page, jupyter_lab, taskrouter, screenshot_dir: Path):
    open_and_run_all(page, jupyter_lab, "04_tasks_from_phone_calls.ipynb")
    pause = code_cell(page, "pause_for_call(")
    expect(pause.locator(".tr-pause")).to_contain_text("Your turn.", timeout=WIDGET_TIMEOUT_MS)
    phone = pause.locator(".tr-phone").first
    expect(phone).to_be_visible()
    pause.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "04_paused.png"), full_page=False)

    phone.locator("button", has_text="Call").first.click()
    screen = phone.locator(".tr-phone-screen")
    expect(screen).to_contain_text("Para Español oprime el uno.", timeout=WIDGET_TIMEOUT_MS)
    expect(screen).to_contain_text("waiting for keys", timeout=WIDGET_TIMEOUT_MS)
    phone.get_by_role("button", name="1", exact=True).click()
    expect(screen).to_contain_text("you pressed 1", timeout=WIDGET_TIMEOUT_MS)
    expect(screen).to_contain_text("Customer Care Requests - Spanish", timeout=WIDGET_TIMEOUT_MS)
    page.screenshot(path=str(screenshot_dir / "04_queued.png"), full_page=False)

    run_from(page, "pause_for_call(")
    check = code_cell(page, "check_step_04(")
    expect(check.locator(".tr-check-ok")).to_contain_text("Correct", timeout=WIDGET_TIMEOUT_MS)
    check.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "04_checked.png"), full_page=False)

    tasks, _alice = quickstart_state(taskrouter)
    spanish = [t for t in tasks if json.loads(t.attributes).get("selected_language") == "es"]
    assert spanish and spanish[-1].task_queue_friendly_name == "Customer Care Requests - Spanish"


def test_a_call_is_dequeued_to_alices_phone(page: Page, jupyter_lab, taskrouter, screenshot_dir: Path):
    """Notebook 05's whole scene: call and press 1, Alice -> Idle, her phone rings, answer, bridged, hang up,
    WrapUp."""
    open_and_run_all(page, jupyter_lab, "05_dequeue_a_call.ipynb")
    pause = code_cell(page, "pause_for_call(")
    expect(pause.locator(".tr-pause")).to_contain_text("Your turn.", timeout=WIDGET_TIMEOUT_MS)
    phone = pause.locator(".tr-phone").first
    phone.locator("button", has_text="Call").first.click()
    screen = phone.locator(".tr-phone-screen")
    expect(screen).to_contain_text("waiting for keys", timeout=WIDGET_TIMEOUT_MS)
    phone.get_by_role("button", name="1", exact=True).click()
    expect(screen).to_contain_text("Customer Care Requests - Spanish", timeout=WIDGET_TIMEOUT_MS)
    pause.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "05_called.png"), full_page=False)

    run_from(page, "pause_for_call(")
    expect(code_cell(page, "pause_for_click(").locator(".tr-pause")).to_contain_text(
        "Your turn.", timeout=WIDGET_TIMEOUT_MS)
    click_idle_for_alice(page)
    # The scene above the pause: the caller, Alice's phone ringing, the Task reserved.
    scene = code_cell(page, "TaskStatusView(")
    alice_phone = scene.locator(".tr-softphone").first
    expect(alice_phone.locator(".tr-softphone-status")).to_have_text("ringing", timeout=WIDGET_TIMEOUT_MS)
    expect(alice_phone).to_contain_text("call from +12025550100")
    expect(scene.locator(".tr-reservation-status")).to_have_text("pending", timeout=WIDGET_TIMEOUT_MS)
    alice_phone.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "05_ringing.png"), full_page=False)

    run_from(page, "pause_for_click(")
    answer_pause = code_cell(page, "pause_for_answer(")
    expect(answer_pause.locator(".tr-pause")).to_contain_text("phone is ringing", timeout=WIDGET_TIMEOUT_MS)
    answer_pause.locator(".tr-softphone").get_by_role("button", name="Answer").click()
    expect(alice_phone.locator(".tr-softphone-status")).to_have_text("talking", timeout=WIDGET_TIMEOUT_MS)
    expect(scene.locator(".tr-assignment-status")).to_have_text("assigned", timeout=WIDGET_TIMEOUT_MS)
    expect(scene.locator(".tr-activity-alice")).to_have_text("Busy", timeout=WIDGET_TIMEOUT_MS)
    alice_phone.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "05_bridged.png"), full_page=False)

    run_from(page, "pause_for_answer(")
    check = code_cell(page, "check_step_05(")
    expect(check.locator(".tr-check-ok")).to_contain_text("moved her to WrapUp", timeout=WIDGET_TIMEOUT_MS)
    # The scene's Task view stops following once the Task is completed (its last look may already show the
    # replay below moving Alice again), so its events, not Alice's activity, are what it keeps.
    expect(scene.locator(".tr-events")).to_contain_text("task.wrapup", timeout=WIDGET_TIMEOUT_MS)
    check.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "05_checked.png"), full_page=False)
    replay = code_cell(page, "replay_part3(")
    expect(replay).to_contain_text("6. Alice completes the Task: completed.", timeout=WIDGET_TIMEOUT_MS)
    replay.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "05_end_to_end.png"), full_page=False)
    expect(page.get_by_text("Traceback")).to_have_count(0)


def test_the_wallboard_follows_alice_and_bob(page: Page, jupyter_lab, taskrouter, screenshot_dir: Path):
    """Notebook 07: three tasks wait on the board; Alice, then Bob, go Idle and the board counts down."""
    open_and_run_all(page, jupyter_lab, "07_wallboard.ipynb")
    pause = code_cell(page, "pause_for_click(")
    expect(pause.locator(".tr-pause")).to_contain_text("Your turn.", timeout=WIDGET_TIMEOUT_MS)
    board = code_cell(page, "Wallboard(client")
    expect(board.locator(".tr-wallboard-waiting")).to_have_text("3", timeout=WIDGET_TIMEOUT_MS)
    click_idle_for_alice(page)
    expect(board.locator(".tr-wallboard-waiting")).to_have_text("2", timeout=WIDGET_TIMEOUT_MS)
    expect(board.locator(".tr-wallboard-accepted")).to_have_text("1", timeout=WIDGET_TIMEOUT_MS)
    bob = pause.locator(".tr-worker-bob").first
    bob.get_by_role("button", name="Idle", exact=True).click()
    expect(board.locator(".tr-wallboard-waiting")).to_have_text("1", timeout=WIDGET_TIMEOUT_MS)
    expect(board.locator(".tr-wallboard-accepted")).to_have_text("2", timeout=WIDGET_TIMEOUT_MS)
    expect(board.locator(".tr-wallboard-sparkline")).to_have_attribute("data-peak", "3")
    page.wait_for_timeout(3000)  # a few readings after the drop, so the line shows its steps
    board.locator(".tr-wallboard").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "07_wallboard.png"), full_page=False)
    run_from(page, "pause_for_click(")
    check = code_cell(page, "check_step_07(")
    expect(check.locator(".tr-check-ok")).to_contain_text("the statistics agree", timeout=WIDGET_TIMEOUT_MS)
    expect(board.locator(".tr-wallboard-waiting")).to_have_text("0", timeout=WIDGET_TIMEOUT_MS)  # finish up
    check.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "07_wallboard_checked.png"), full_page=False)
