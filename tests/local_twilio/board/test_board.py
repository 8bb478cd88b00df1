"""The facilitator's board (issue 16): /_local/Board.json's figures for a room of simulated attendees, each
driving the walkthrough with their own account through the official SDK, and the page's token handling.

(The page itself, polling in a browser, is tests/browser/test_board_in_chromium.py.)
"""

import json

import pytest
import requests
from board_support import Attendee, Facilitator, closed_port_url, room

from tutorial_helpers.local_twilio import LocalTaskRouter

NOTHING = dict.fromkeys(("workspace_built", "step_02", "step_03", "step_04", "step_05", "step_06"), False)


def progress(**done: bool) -> dict[str, bool]:
    return {**NOTHING, **done}


@pytest.fixture
def facilitator(taskrouter) -> Facilitator:
    f = Facilitator(taskrouter.base_url, taskrouter.data_dir)
    yield f
    f.session.close()


def test_each_attendee_shows_their_true_step_and_the_broken_one_their_problem(taskrouter, facilitator, callbacks):
    callbacks.answer_json({"instruction": "accept"})
    room(taskrouter, facilitator, callbacks.url())
    board = facilitator.board()

    assert [row["name"] for row in board["attendees"]] == ["Ana", "Ben", "Chloé", "Dev"]  # oldest first
    rows = {row["name"]: row for row in board["attendees"]}
    assert rows["Ana"]["progress"] == progress(workspace_built=True)
    assert rows["Ben"]["progress"] == progress(workspace_built=True, step_02=True)
    assert rows["Chloé"]["progress"] == progress(workspace_built=True, step_02=True, step_03=True)
    assert rows["Dev"]["progress"] == progress(workspace_built=True)
    assert [rows[n]["at"] for n in rows] == ["workspace_built", "step_02", "step_03", "workspace_built"]

    problem = rows["Dev"]["last_problem"]
    assert (problem["words"], problem["code"]) == ("callback unreachable", 11200)
    assert "could not be reached" in problem["detail"] and 0 <= problem["seconds_ago"] < 60
    assert all(rows[n]["last_problem"] is None for n in ("Ana", "Ben", "Chloé"))

    assert board["counts"] == {
        "attendees": 4,
        "done": {"workspace_built": 4, "step_02": 2, "step_03": 1, "step_04": 0, "step_05": 0, "step_06": 0},
        "at": {"not_started": 0, "workspace_built": 2, "step_02": 1, "step_03": 1, "step_04": 0, "step_05": 0,
               "step_06": 0},
    }
    assert [step["key"] for step in board["steps"]] == list(NOTHING)

    # The restarted server tells the same story: how each reservation was accepted is kept on its row.
    taskrouter.stop()
    with LocalTaskRouter(data_dir=taskrouter.data_dir) as again:
        facilitator.base_url = again.base_url
        after = facilitator.rows()
    assert {n: r["progress"] for n, r in after.items()} == {n: r["progress"] for n, r in rows.items()}
    assert after["Dev"]["last_problem"]["code"] == 11200


def test_a_step_done_later_shows_and_a_new_attendee_starts_with_nothing(taskrouter, facilitator):
    ana = Attendee(facilitator.create("Ana"), taskrouter.base_url)
    assert facilitator.rows()["Ana"]["progress"] == NOTHING
    assert facilitator.board()["counts"]["at"]["not_started"] == 1
    ana.build()
    ana.accept_through_rest()
    assert facilitator.rows()["Ana"]["progress"] == progress(workspace_built=True, step_02=True)


def test_an_english_task_accepted_through_rest_is_not_step_02(taskrouter, facilitator):
    ana = Attendee(facilitator.create("Ana"), taskrouter.base_url)
    ana.build()
    ana.workspace.workers(ana.quickstart.workers["Alice"]).update(activity_sid=ana.quickstart.activities["Idle"])
    task = ana.workspace.tasks.create(attributes=json.dumps({"selected_language": "en"}),
                                      workflow_sid=ana.quickstart.workflow_sid)
    reservations = ana.workspace.tasks(task.sid).reservations
    pending = [r for r in reservations.list() if r.reservation_status == "pending"]
    reservations(pending[0].sid).update(reservation_status="accepted")
    assert facilitator.rows()["Ana"]["progress"] == progress(workspace_built=True)


def test_an_incomplete_workspace_is_not_built(taskrouter, facilitator):
    ana = Attendee(facilitator.create("Ana"), taskrouter.base_url)
    ana.build()
    ana.workspace.workers(ana.quickstart.workers["Bob"]).update(attributes=json.dumps({"languages": ["es"]}))
    assert facilitator.rows()["Ana"]["progress"]["workspace_built"] is False


@pytest.mark.parametrize(("answer", "status", "words", "code"), [
    ("not json", "application/json", "answer not JSON", 40001),
    ('{"instruction": "accept"}', "text/html", "wrong content type (not application/json)", 40000),
    ('{"activity_sid": "WA1"}', "application/json", "no instruction in the answer", 40005),
    ('{"message": "missing or invalid X-Twilio-Signature"}', 403, "signature rejected (the callback answered 403)",
     11200),
    ("{}", 500, "callback answered HTTP 500", 11200),
])
def test_a_callbacks_problem_in_words(taskrouter, facilitator, callbacks, answer, status, words, code):
    from flask import Response
    http_status, mimetype = (status, "application/json") if isinstance(status, int) else (200, status)
    callbacks.answer = lambda: Response(answer, status=http_status, mimetype=mimetype)
    ana = Attendee(facilitator.create("Ana"), taskrouter.base_url)
    ana.build(callbacks.url())
    ana.task_for_an_unreachable_callback(taskrouter)
    problem = facilitator.rows()["Ana"]["last_problem"]
    assert (problem["words"], problem["code"]) == (words, code)


@pytest.mark.paused_clock  # seconds_ago is exactly 0
def test_a_reservation_that_times_out_is_the_newest_problem(taskrouter, facilitator):
    dev = Attendee(facilitator.create("Dev"), taskrouter.base_url)
    dev.build(closed_port_url())
    dev.task_for_an_unreachable_callback(taskrouter)
    assert facilitator.rows()["Dev"]["last_problem"]["code"] == 11200
    taskrouter.advance_clock(1200)  # the quickstart's reservation timeout: nobody accepted
    problem = facilitator.rows()["Dev"]["last_problem"]
    assert (problem["words"], problem["code"], problem["seconds_ago"]) == ("reservation timed out", None, 0)
    assert "Alice" in problem["detail"]


def test_the_figures_need_the_facilitators_token(taskrouter, facilitator):
    ana = facilitator.create("Ana")
    url = taskrouter.base_url + "/_local/Board.json"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {ana['auth_token']}"}):
        response = requests.get(url, headers=headers, timeout=10)
        assert response.status_code == 401, headers
        assert response.json()["status"] == 401
    # An attendee's own credentials are not enough either.
    assert requests.get(url, auth=(ana["sid"], ana["auth_token"]), timeout=10).status_code == 401
    assert facilitator.get("/_local/Board.json").headers["Cache-Control"] == "no-store"


def test_the_page_takes_the_token_once_and_refuses_in_words(taskrouter, facilitator):
    page = taskrouter.base_url + "/_local/Board"
    with requests.Session() as browser:
        for url in (page, page + "?token=wrong", page + "?token="):
            response = browser.get(url, timeout=10)
            assert response.status_code == 401 and response.headers["Content-Type"].startswith("text/html")
            assert "needs the facilitator's token" in response.text and "Traceback" not in response.text
        # The right token: a redirect to the bare URL, which sets the token as a cookie for this page only.
        response = browser.get(f"{page}?token={facilitator.token}", timeout=10, allow_redirects=False)
        assert response.status_code == 303 and response.headers["Location"].endswith("/_local/Board")
        cookie = next(iter(browser.cookies))
        assert (cookie.path, cookie.has_nonstandard_attr("HttpOnly")) == ("/_local/Board", True)
        response = browser.get(page, timeout=10)
        assert response.status_code == 200 and response.url == page
        assert f'<meta name="board-token" content="{facilitator.token}">' in response.text
        assert response.headers["Cache-Control"] == "no-store"
        # A token that is not this server's (another room's cookie, a stale one) is refused the same way.
        browser.cookies.set(cookie.name, "stale", domain=cookie.domain, path=cookie.path)
        assert browser.get(page, timeout=10).status_code == 401
