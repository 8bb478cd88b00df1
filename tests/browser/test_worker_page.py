"""Notebook 06's worker page in Debian's chromium, with the real bundled twilio-taskrouter SDK: served by the
learner's Flask app exactly as the notebook builds it, talking cross-origin to the local TaskRouter's EventBridge.
Alice goes Idle on the page, a Spanish task pops up, she accepts it, the notebook's widget sees `assigned`; then
a second reservation times out when the server clock jumps by the workflow's reservation timeout."""

import json
import re
from pathlib import Path

from flask import Flask, Response, render_template, request
from playwright.sync_api import ConsoleMessage, Page, Request, expect
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import TaskRouterGrant

from tutorial_helpers import worker_page
from tutorial_helpers.callback_server import start_callback_server
from tutorial_helpers.settings import Settings
from tutorial_helpers.widgets import TaskStatusView
from tutorial_helpers.workspace import build_quickstart

WAIT = 60_000  # the SDK's first connection and each pushed event, on a slow shared 2-core machine
RESERVATION_TIMEOUT = 1200  # the quickstart workflow's TaskReservationTimeout


def notebook_app(settings: Settings, quickstart, api_key) -> Flask:
    """Notebook 06's app, cell for cell: the same routes, the same template, the same static folder."""
    app = Flask(__name__, template_folder=worker_page.TEMPLATES, static_folder=worker_page.STATIC)

    @app.route("/assignment_callback", methods=["GET", "POST"])
    def assignment_callback():
        """Answer {}: the reservation waits for Alice to accept it on her page."""
        return Response(response="{}", status=200, mimetype="application/json")

    @app.route("/agents", methods=["GET"])
    def generate_view():
        """Alice's page, with a token that lets the SDK act as her."""
        worker_sid = request.args.get("WorkerSid")
        token = AccessToken(settings.account_sid, api_key.sid, api_key.secret, identity=worker_sid, ttl=3600)
        token.add_grant(TaskRouterGrant(workspace_sid=quickstart.workspace_sid, worker_sid=worker_sid, role="worker"))
        return render_template("agents.html", worker_token=token.to_jwt(),
                               sdk_options=worker_page.sdk_options(settings))

    return app


def card_for(page: Page, task_sid: str):
    return page.locator(".reservation").filter(has_text=task_sid)


def test_alice_goes_idle_accepts_a_task_and_a_second_reservation_times_out(taskrouter, client, page: Page,
                                                                          screenshot_dir: Path):
    # taskrouter before page: the browser closes first, so a failure screenshot shows the page still connected.
    worker_page.sdk_bundle()  # the page's SDK, built by `make install`
    settings = Settings("local", taskrouter.account_sid, taskrouter.auth_token, None, taskrouter.base_url)
    quickstart = build_quickstart(client)
    workspace = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    api_key = client.new_keys.create(friendly_name="TaskRouter Notebooks worker page")

    server = start_callback_server(notebook_app(settings, quickstart, api_key), settings,
                                   browser_paths=worker_page.PAGE_PATHS)
    try:
        workspace.workflows(quickstart.workflow_sid).update(
            assignment_callback_url=server.url_for("/assignment_callback"))
        alice_sid = quickstart.workers["Alice"]
        page_url = server.url_for(f"/agents?WorkerSid={alice_sid}")
        assert page_url.split("/")[2] != taskrouter.base_url.split("/")[2]  # two origins: the SDK goes cross-origin

        page_errors: list[str] = []
        console_errors: list[str] = []
        tunnel_calls: list[Request] = []
        page.on("pageerror", lambda error: page_errors.append(str(error)))

        def on_console(message: ConsoleMessage) -> None:
            # Only errors count: the SDK's own notice that ebServer/wsServer are deprecated options (what
            # sdk_options() passes to reach the local EventBridge) is a console.warn. (The page names an empty
            # icon, so the browser asks the learner's app for no /favicon.ico, which it would refuse unsigned.)
            url = message.location.get("url", "")
            if message.type == "error":
                console_errors.append(f"{message.text} ({url})")

        def on_request(sent: Request) -> None:
            if sent.method == "POST" and sent.url.startswith(f"{taskrouter.base_url}/v1/wschannels"):
                tunnel_calls.append(sent)

        page.on("console", on_console)
        page.on("request", on_request)
        log = page.locator("#log li")
        activity = page.locator("#activity")

        # 1. Ready: her name, Offline, a button per activity.
        page.goto(page_url)
        expect(page.locator("#worker-name")).to_have_text("Alice", timeout=WAIT)
        expect(activity).to_have_text("Offline", timeout=WAIT)
        expect(log.filter(has_text="ready: Alice is Offline")).to_have_count(1, timeout=WAIT)
        buttons = page.locator(".activity-button")
        for name in quickstart.activities:  # the quickstart's four, beside the workspace's own Available/Unavailable
            expect(buttons.filter(has_text=re.compile(f"^{name}$"))).to_have_count(1, timeout=WAIT)
        expect(page.locator(".activity-button.current")).to_have_text("Offline", timeout=WAIT)
        page.screenshot(path=str(screenshot_dir / "06_page_1_ready.png"), full_page=True)

        # 2. Alice -> Idle, clicked on the page; TaskRouter agrees.
        idle_button = page.locator(".activity-button", has_text=re.compile(r"^Idle$"))
        idle_button.click()
        expect(activity).to_have_text("Idle", timeout=WAIT)
        expect(idle_button).to_have_class(re.compile(r"\bcurrent\b"), timeout=WAIT)
        assert workspace.workers(alice_sid).fetch().activity_name == "Idle"
        page.screenshot(path=str(screenshot_dir / "06_page_2_idle.png"), full_page=True)

        # 3. A Spanish task from Python pops up on the page, with its attributes.
        first = workspace.tasks.create(attributes=json.dumps({"selected_language": "es"}),
                                       workflow_sid=quickstart.workflow_sid)
        status = TaskStatusView(client, quickstart, first.sid, events=True, poll=False)
        card = card_for(page, first.sid)
        expect(card).to_have_count(1, timeout=WAIT)
        expect(card.locator(".status")).to_have_text("pending", timeout=WAIT)
        expect(card).to_contain_text("Customer Care Requests - Spanish", timeout=WAIT)
        expect(card.locator("pre")).to_contain_text('"selected_language": "es"', timeout=WAIT)
        expect(page.locator("#reservations .none")).to_have_count(0, timeout=WAIT)
        reservation_sid = card.get_attribute("data-sid")
        assert reservation_sid and reservation_sid.startswith("WR")
        created = log.filter(has_text=f"reservation {reservation_sid} created for Task {first.sid}")
        expect(created).to_have_count(1, timeout=WAIT)
        expect(activity).to_have_text("Reserved", timeout=WAIT)
        page.screenshot(path=str(screenshot_dir / "06_page_3_reservation.png"), full_page=True)

        # 4. Accept on the card: accepted, and Alice is Busy.
        card.locator("button.accept").click()
        expect(card.locator(".status")).to_have_text("accepted", timeout=WAIT)
        expect(activity).to_have_text("Busy", timeout=WAIT)
        expect(card.locator("button.accept")).to_be_disabled(timeout=WAIT)
        expect(log.filter(has_text=f"reservation {reservation_sid} accepted")).to_have_count(1, timeout=WAIT)
        page.screenshot(path=str(screenshot_dir / "06_page_4_accepted.png"), full_page=True)

        # 5. The notebook's widget sees the same thing.
        status.refresh()
        assert status.state["assignment_status"] == "assigned", status.state
        assert status.state["reservation_sid"] == reservation_sid
        assert status.state["reservation_status"] == "accepted", status.state
        assert status.state["workers"]["Alice"] == "Busy", status.state
        page.screenshot(path=str(screenshot_dir / "06_page_5_assigned.png"), full_page=True)

        # 6. Finish the task, Idle again, a second task; nobody answers and the clock jumps past its timeout.
        workspace.tasks(first.sid).update(assignment_status="completed", reason="handled on the worker page")
        expect(card.locator(".status")).to_have_text("completed", timeout=WAIT)
        idle_button.click()
        expect(activity).to_have_text("Idle", timeout=WAIT)
        second = workspace.tasks.create(attributes=json.dumps({"selected_language": "es"}),
                                        workflow_sid=quickstart.workflow_sid)
        second_card = card_for(page, second.sid)
        expect(second_card.locator(".status")).to_have_text("pending", timeout=WAIT)
        expect(activity).to_have_text("Reserved", timeout=WAIT)
        second_sid = second_card.get_attribute("data-sid")
        assert second_sid and second_sid != reservation_sid
        taskrouter.advance_clock(RESERVATION_TIMEOUT)
        expect(second_card.locator(".status")).to_have_text("timeout", timeout=WAIT)
        expect(log.filter(has_text=f"reservation {second_sid} timeout")).to_have_count(1, timeout=WAIT)
        expect(second_card.locator("button.reject")).to_be_disabled(timeout=WAIT)
        # What TaskRouter does to a worker who lets a reservation time out.
        expect(activity).to_have_text("Offline", timeout=WAIT)
        expect(page.locator(".reservation")).to_have_count(2, timeout=WAIT)
        page.screenshot(path=str(screenshot_dir / "06_page_6_timeout.png"), full_page=True)
        assert workspace.tasks(second.sid).fetch().assignment_status == "pending"

        assert page_errors == [], page_errors
        assert console_errors == [], console_errors
        # The SDK's requests went through EventBridge's tunnel on the other origin, preflighted (they carry the
        # SDK's own headers), and every one was answered.
        assert len(tunnel_calls) >= 3, [r.url for r in tunnel_calls]  # at least: Idle, Accept, Idle again
        for sent in tunnel_calls:
            headers = sent.all_headers()
            assert headers.get("origin") == server.local_url and "clientversion" in headers, headers
            answer = sent.response()
            assert answer is not None and answer.status == 200, (sent.post_data, answer and answer.status)
    finally:
        server.stop()
