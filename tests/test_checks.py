import dataclasses

import pytest
import requests
from pyngrok import conf, ngrok, process
from quickstart_support import ACCEPT, callback_app, local_settings, make_tutorial, wait_until

from tutorial_helpers import tunnel
from tutorial_helpers.callback_server import start_callback_server
from tutorial_helpers.checks import (
    CheckResult,
    check_environment,
    check_step_02,
    check_step_03,
    check_workspace,
)
from tutorial_helpers.client import make_client
from tutorial_helpers.settings import Settings, load_settings
from tutorial_helpers.workspace import build_quickstart

pytestmark = pytest.mark.usefixtures("no_callback_server_left")


def test_result_reads_as_a_verdict():
    good = CheckResult(True, "step", "it worked.", ["Task WT1: assigned"])
    bad = CheckResult(False, "step", "not yet.", [], ["Click <Idle>."])
    assert good and not bad
    assert str(good).startswith("Correct (step): it worked.") and "Task WT1: assigned" in str(good)
    assert str(bad).startswith("Not yet (step)") and "What to look at: Click <Idle>." in str(bad)
    assert "tr-check-ok" in good._repr_html_() and "&lt;Idle&gt;" in bad._repr_html_()


def test_environment_check_in_local_mode(taskrouter):
    result = check_environment(local_settings(taskrouter))
    assert result.ok, str(result)
    assert taskrouter.auth_token not in str(result) + result._repr_html_()


def test_environment_check_names_refused_credentials(taskrouter):
    settings = local_settings(taskrouter)
    wrong = type(settings)("local", settings.account_sid, "wrong-token", None, settings.local_base_url)
    result = check_environment(wrong)
    assert not result.ok and "refused" in str(result)


def test_workspace_check(client):
    assert "no workspace named" in str(check_workspace(client))
    quickstart = build_quickstart(client, "http://127.0.0.1:1/assignment_callback")
    assert check_workspace(client), str(check_workspace(client))
    stale = check_workspace(client, callback_url="http://127.0.0.1:2/assignment_callback")
    assert not stale and "run the workflow cell again" in str(stale)

    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    ws.update(multi_task_enabled=True)
    ws.task_queues(quickstart.queues["Spanish"]).update(target_workers="1==1")
    result = check_workspace(client)
    assert not result.ok
    assert "multi-tasking" in str(result) and "targets '1==1'" in str(result)


def test_step_02_walks_the_learner_through(taskrouter):
    tutorial = make_tutorial(taskrouter)  # the route answers {}
    task = tutorial.spanish_task()
    waiting = check_step_02(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0.2)
    assert not waiting and "Alice is still Offline" in waiting.message and "Click Idle" in str(waiting)

    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: len(tutorial.server.log) == 1, what="the callback")
    pending = check_step_02(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0.2)
    assert not pending and "accepts the reservation" in str(pending)

    reservation = tutorial.ws.tasks(task.sid).reservations.list()[0]
    tutorial.ws.tasks(task.sid).reservations(reservation.sid).update(reservation_status="accepted")
    done = check_step_02(tutorial.client, tutorial.quickstart, task.sid, tutorial.server)
    assert done.ok, str(done)
    assert "REST" in done.message and "Alice: Busy" in done.seen


def test_step_02_notices_when_the_callback_accepted_instead(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: tutorial.worker("Alice").activity_name == "Busy", what="Alice Busy")
    result = check_step_02(tutorial.client, tutorial.quickstart, task.sid, tutorial.server)
    assert not result and "your callback accepted" in result.message


def test_step_02_passes_but_warns_when_the_kernel_refused_the_callback_with_a_403(taskrouter):
    tutorial = make_tutorial(taskrouter)
    # The kernel checks signatures with a token the TaskRouter does not sign with (a stale .env, say).
    stale = dataclasses.replace(tutorial.settings, auth_token="not-the-token-taskrouter-signs-with")
    server = start_callback_server(callback_app(), stale)
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: len(server.log) == 1, what="the refused callback")
    assert not server.log.last().signature_valid and server.log.last().status == 403
    reservation = tutorial.ws.tasks(task.sid).reservations.list()[0]
    tutorial.ws.tasks(task.sid).reservations(reservation.sid).update(reservation_status="accepted")
    result = check_step_02(tutorial.client, tutorial.quickstart, task.sid, server)
    assert result.ok, str(result)  # accepted through REST: the step's goal, which needs no callback
    assert "Before step 03: The callback server refused TaskRouter's request (403" in str(result)
    assert "403" in result._repr_html_()


def test_step_03_passes_when_the_instruction_accepts(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server)
    assert result.ok, str(result)
    assert '{"instruction": "accept"}' in result.message
    assert any("signature valid" in line for line in result.seen)


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        (callback_app("{}"), 'not {"instruction": "accept"}'),
        (callback_app(ACCEPT, mimetype="text/html"), "Content-Type 'text/html"),
        (callback_app(ACCEPT, status=500), "HTTP 500"),
    ],
    ids=["still-empty", "wrong-content-type", "server-error"],
)
def test_step_03_says_what_is_wrong_with_the_answer(taskrouter, app, expected):
    tutorial = make_tutorial(taskrouter, app)
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: len(tutorial.server.log) >= 1, what="the callback")
    result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=1)
    assert not result.ok
    assert expected in str(result)
    assert "put Alice Offline" in str(result)  # the reservation waits: how to start over


def test_step_03_local_alert_explains_a_wrong_content_type(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT, mimetype="text/plain"))
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")

    def alert_hint():
        result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0)
        return str(result) if "The local TaskRouter recorded" in str(result) else None  # a failed check is falsy

    text = wait_until(alert_hint, what="the alert in the check's hints")
    assert text.startswith("Not yet") and "an instruction must be sent as application/json" in text


def test_step_03_without_a_callback_points_at_the_workflow_url(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    tutorial.ws.workflows(tutorial.quickstart.workflow_sid).update(assignment_callback_url="http://127.0.0.1:9/nope")
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0.5)
    assert not result and "no callback has arrived" in result.message
    assert tutorial.server.url_for("/assignment_callback") in str(result)


def test_step_03_on_a_canceled_task(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    task = tutorial.spanish_task()
    tutorial.ws.tasks(task.sid).update(assignment_status="canceled", reason="tidy-up")
    result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=5)
    assert not result and "canceled" in result.message and "tidy-up" in str(result)


def test_forged_callback_is_refused_and_changes_nothing(taskrouter):
    tutorial = make_tutorial(taskrouter)  # answers {}: the reservation stays pending
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: len(tutorial.server.log) == 1, what="the real callback")
    reservation = tutorial.ws.tasks(task.sid).reservations.list()[0]

    def accept_through_rest():
        tutorial.ws.tasks(task.sid).reservations(reservation.sid).update(reservation_status="accepted")

    # A route with a side effect: only a request that really comes from TaskRouter may trigger it.
    app = callback_app(ACCEPT, side_effect=accept_through_rest)
    tutorial.serve(app)
    url = tutorial.server.url_for("/assignment_callback")
    forged = requests.post(url, data={"TaskSid": task.sid, "ReservationSid": reservation.sid},
                           headers={"X-Twilio-Signature": "Zm9yZ2Vk"}, timeout=5)
    assert forged.status_code == 403
    assert app.calls == 0
    assert tutorial.ws.tasks(task.sid).reservations(reservation.sid).fetch().reservation_status == "pending"
    assert tutorial.worker("Alice").activity_name == "Reserved"
    assert not tutorial.server.log.last().signature_valid
    result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0)
    assert not result and "403" in str(result)


# ---------------------------------------------------------------------------- twilio mode, with a stand-in for Twilio


def stand_in_settings(tr, **kwargs) -> Settings:
    """Twilio mode, its REST requests going to the local TaskRouter (TWILIO_API_BASE_URL)."""
    return Settings("twilio", tr.account_sid, tr.auth_token, "ngrok-token", twilio_base_url=tr.base_url, **kwargs)


@pytest.fixture
def ngrok_agents(monkeypatch, tmp_path):
    """Two ngrok agents: pyngrok's configured ngrok_path (as PYNGROK_NGROK_PATH sets it) and one on PATH.

    No NGROK_PATH; pyngrok's default config is given back afterwards, and nothing reaches a real agent.
    """
    configured, on_path = tmp_path / "pyngrok" / "ngrok", tmp_path / "bin" / "ngrok"
    for agent in (configured, on_path):
        agent.parent.mkdir()
        agent.write_text("#!/bin/sh\n")
        agent.chmod(0o755)
    monkeypatch.delenv("NGROK_PATH", raising=False)
    monkeypatch.setenv("PATH", str(on_path.parent))
    default = conf.get_default()
    monkeypatch.setattr(default, "ngrok_path", str(configured))
    monkeypatch.setattr(default, "auth_token", default.auth_token)
    monkeypatch.setattr(tunnel, "_public_urls", {})
    return configured, on_path


def agent_the_tunnel_runs(monkeypatch, port: int = 8000, **kwargs) -> str:
    """open_tunnel with pyngrok stubbed: which agent would it start?"""
    used = []
    monkeypatch.setattr(process, "is_process_running", lambda path: used.append(path) or False)
    monkeypatch.setattr(ngrok, "install_ngrok", lambda *a, **k: pytest.fail("no download"))
    monkeypatch.setattr(ngrok, "connect", lambda *a, **k: ngrok.NgrokTunnel(
        {"public_url": "https://stub.ngrok-free.app", "upstream": {"url": f"http://127.0.0.1:{port}"}},
        conf.get_default(), None))
    tunnel.open_tunnel(port, "ngrok-token", **kwargs)
    tunnel._public_urls.clear()
    return used[0]


def test_environment_check_ignores_pyngroks_configured_ngrok_path(taskrouter, monkeypatch, ngrok_agents):
    configured, _on_path = ngrok_agents
    result = check_environment(stand_in_settings(taskrouter))
    assert result.ok, str(result)
    used = agent_the_tunnel_runs(monkeypatch)
    assert used == str(configured)
    assert f"ngrok agent: {used}" in result.seen  # the agent the tunnel runs, not the one on PATH


def test_ngrok_path_in_dot_env_is_ignored(taskrouter, monkeypatch, tmp_path, ngrok_agents):
    """NGROK_PATH in the learner's .env names the agent, for the check and for the callback server's tunnel."""
    for name in ("TUTORIAL_MODE", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN", "TWILIO_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    chosen = tmp_path / "from-dot-env" / "ngrok"
    chosen.parent.mkdir()
    chosen.write_text("#!/bin/sh\n")
    env = tmp_path / ".env"
    env.write_text(f"TUTORIAL_MODE=twilio\nTWILIO_ACCOUNT_SID={taskrouter.account_sid}\n"
                   f"TWILIO_AUTH_TOKEN={taskrouter.auth_token}\nNGROK_AUTHTOKEN=ngrok-token\n"
                   f"TWILIO_API_BASE_URL={taskrouter.base_url}\nNGROK_PATH={chosen}\n")
    settings = load_settings(env_file=env, prompt=False)

    assert f"ngrok agent: {chosen}" in check_environment(settings).seen
    assert agent_the_tunnel_runs(monkeypatch, ngrok_path=settings.ngrok_path) == str(chosen)
    opened = []
    monkeypatch.setattr(tunnel, "open_tunnel", lambda port, token, **kwargs: opened.append(kwargs) or "https://x.app")
    server = start_callback_server(callback_app(), settings)
    try:
        assert opened == [{"ngrok_path": str(chosen)}] and server.public_url == "https://x.app"
    finally:
        server.stop()


def test_twilio_mode_with_a_stand_in_asks_for_local_alerts(taskrouter, monkeypatch):
    """Twilio has no /_local endpoints: twilio mode must not ask for them, whoever plays Twilio."""
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT, mimetype="text/plain"))
    client = make_client(stand_in_settings(taskrouter))
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: len(tutorial.server.log) >= 1, what="the callback")
    asked = []
    real_get = requests.get
    monkeypatch.setattr(requests, "get", lambda url, *a, **k: asked.append(url) or real_get(url, *a, **k))
    result = check_step_03(client, tutorial.quickstart, task.sid, tutorial.server, timeout=0)
    assert not result and "application/json" in str(result)
    assert not [url for url in asked if "/_local/" in url]
    assert "The local TaskRouter recorded" not in str(result)
    # Local mode, same server: the local alert is still there for the learner.
    wait_until(lambda: "The local TaskRouter recorded" in str(
        check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0)), what="the alert")
