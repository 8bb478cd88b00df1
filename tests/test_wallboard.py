"""The wallboard: its panel from known statistics, its sparkline, its poller, and the real SDK calls."""

import json
import re
from types import SimpleNamespace

import pytest
from quickstart_support import ACCEPT, callback_app, make_tutorial, wait_until
from twilio.base.exceptions import TwilioRestException

from tutorial_helpers import wallboard, widgets
from tutorial_helpers.callback_server import CallbackServer
from tutorial_helpers.wallboard import Figures, QueueFigures, Wallboard, read_figures, render_board, sparkline_svg


@pytest.fixture(autouse=True)
def cleanup():
    yield
    for widget in list(widgets._current.values()):
        widget.close()
    widgets._current.clear()
    wallboard._histories.clear()
    server = CallbackServer.current()
    if server is not None:
        server.stop()


def figures(waiting: int = 2, accepted: int = 1) -> Figures:
    return Figures(
        tasks_by_status={"pending": waiting, "reserved": 0, "assigned": 1, "wrapping": 0, "completed": 0},
        total_tasks=waiting + 1,
        longest_task_waiting_age=75,
        workers_by_activity={"Offline": 1, "Idle": 0, "Busy": 1, "Reserved": 0},
        total_workers=2,
        cumulative={"reservations_created": accepted + 1, "reservations_accepted": accepted,
                    "reservations_rejected": 1, "reservations_timed_out": 0, "reservations_canceled": 0,
                    "tasks_created": waiting + 1, "tasks_completed": 0, "tasks_canceled": 0,
                    "avg_task_acceptance_time": 12},
        queues=[QueueFigures("Spanish", {"pending": max(waiting - 1, 0)}, 75, 0, 1),
                QueueFigures("English <en>", {"pending": 1, "reserved": 0}, 30, 0, 2)],
    )


def text_of(markup: str) -> str:
    spaced = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)).strip()
    return re.sub(r" ([,.;])", r"\1", spaced)  # a tag closed before punctuation left a space


def test_the_panel_shows_the_figures_a_supervisor_reads():
    markup = render_board(figures(), [3, 3, 2], updated="10:00:00")
    assert "color:#c62828' class='tr-wallboard-waiting'>2</div>" in markup  # red: someone is waiting
    assert "class='tr-wallboard-accepted'>1</div>" in markup
    text = text_of(markup)
    assert "Wallboard: TaskRouter Quickstart · read at 10:00:00" in text
    assert "2 tasks waiting 75 s longest wait 1 assigned 1 accepted, last 60 min" in text
    assert "Now: pending 2, reserved 0, assigned 1, wrapping 0 (3 in all)." in text
    assert "Workers (2): Offline 1, Busy 1." in text  # activities nobody is in are left out
    assert "Spanish 1 75 s 0 of 1" in text and "English &lt;en&gt; 1 30 s 0 of 2" in text  # names escaped
    assert "reservations created 2, accepted 1, rejected 1, timed out 0, canceled 0" in text
    assert "average time to accept 12 s" in text
    assert markup.count("class='tr-wallboard-queue'") == 2


def test_nothing_waiting_reads_as_calm():
    text = text_of(render_board(figures(waiting=0), [0]))
    assert text.startswith("Wallboard: TaskRouter Quickstart 0 tasks waiting – longest wait")
    assert "Spanish 0 –" in text  # no "longest" for a queue with nothing waiting
    assert "color:#2e7d32' class='tr-wallboard-waiting'>0<" in render_board(figures(waiting=0))


def test_before_the_first_reading_and_after_an_error():
    assert "Reading the statistics…" in render_board(None)
    markup = render_board(figures(), error="Could not read <the> statistics.", note="stopped watching.")
    assert "<div class='tr-error' style='color:#b00'>Could not read &lt;the&gt; statistics.</div>" in markup
    assert "<i>stopped watching.</i>" in markup


def test_the_sparkline_is_a_step_line_of_the_series():
    svg = sparkline_svg([3, 3, 2, 0], width=100, height=40)
    assert "class='tr-wallboard-sparkline'" in svg and "data-latest='0'" in svg and "data-peak='3'" in svg
    line = re.search(r"<polyline points='([^']+)'", svg).group(1).split()
    assert len(line) == 1 + 2 * 3  # the first reading, then a riser and a tread for each next one
    xs = [float(p.split(",")[0]) for p in line]
    ys = [float(p.split(",")[1]) for p in line]
    assert xs == sorted(xs) and xs[0] == 0 and xs[-1] == 92  # width minus the right margin
    assert ys[0] == 15 and ys[-1] == 36  # the peak at the top, zero on the baseline
    assert "peak 3" in svg and "<circle cx='92.0' cy='36.0'" in svg


def test_the_sparkline_of_nothing_and_of_zeros():
    assert "no readings yet" in sparkline_svg([])
    flat = sparkline_svg([0, 0])
    ys = {p.split(",")[1] for p in re.search(r"<polyline points='([^']+)'", flat).group(1).split()}
    assert ys == {"44.0"}  # all on the baseline, no division by a zero peak
    assert "data-latest='0'" in sparkline_svg([0])


def test_read_figures_makes_the_learners_calls():
    calls = []

    def fetcher(name, answer):
        def fetch(**params):
            calls.append((name, params))
            return SimpleNamespace(**answer)
        return SimpleNamespace(fetch=fetch)

    queue_answer = {"tasks_by_status": {"pending": 1}, "longest_task_waiting_age": 9, "total_available_workers": 1,
                    "total_eligible_workers": 2}
    workspace = SimpleNamespace(
        real_time_statistics=lambda: fetcher("realtime", {
            "tasks_by_status": {"pending": 1, "reserved": 1}, "total_tasks": 2, "longest_task_waiting_age": 9,
            "activity_statistics": [{"friendly_name": "Idle", "workers": 1, "sid": "WA1"}], "total_workers": 2}),
        cumulative_statistics=lambda: fetcher("cumulative", {"reservations_accepted": 4, "tasks_created": 6,
                                                             "avg_task_acceptance_time": 3}),
        task_queues=lambda sid: SimpleNamespace(real_time_statistics=lambda: fetcher(sid, queue_answer)),
    )
    got = read_figures(workspace, {"Spanish": "WQ1"}, minutes=15)
    assert calls == [("realtime", {}), ("cumulative", {"minutes": 15}), ("WQ1", {})]
    assert got.waiting == 2 and got.workers_by_activity == {"Idle": 1}
    assert got.cumulative["reservations_accepted"] == 4 and got.cumulative["reservations_rejected"] is None
    assert got.queues == [QueueFigures("Spanish", {"pending": 1}, 9, 1, 2)]


def canned(monkeypatch, series):
    """read_figures answers the next figure of `series` (tasks waiting) at each call, then the last one."""
    left = list(series)

    def read(workspace, queues, minutes=60):
        return figures(waiting=left.pop(0) if len(left) > 1 else left[0])

    monkeypatch.setattr(wallboard, "read_figures", read)


def test_the_poller_starts_refreshes_and_stops(taskrouter, monkeypatch):
    tutorial = make_tutorial(taskrouter)
    canned(monkeypatch, [3, 2, 1])
    board = Wallboard(tutorial.client, tutorial.quickstart, interval=0.02)
    assert "tr-wallboard" in board._dom_classes and "tr-live" in board._dom_classes
    assert board.polling
    wait_until(lambda: list(board.history)[-1] == 1, what="the poller to read again")
    assert list(board.history)[:3] == [3, 2, 1]
    assert "data-latest='1'" in board.html.value
    board.stop("stopped by the test")
    assert not board.polling and "stopped by the test" in board.html.value
    size = len(board.history)
    board._poller._thread.join(timeout=2)
    assert not board._poller._thread.is_alive() and len(board.history) == size


def test_a_rerun_replaces_the_board_and_keeps_the_line(taskrouter, monkeypatch):
    tutorial = make_tutorial(taskrouter)
    canned(monkeypatch, [3])
    first = Wallboard(tutorial.client, tutorial.quickstart, interval=0.05)
    canned(monkeypatch, [2])
    second = Wallboard(tutorial.client, tutorial.quickstart, interval=0.05)
    assert not first.polling and second.polling
    assert "replaced by the newer copy" in first.html.value
    assert second.history is first.history and list(second.history)[-1] == 2 and 3 in second.history


def test_a_deleted_workspace_stops_the_board_and_says_what_to_do(taskrouter):
    tutorial = make_tutorial(taskrouter)
    board = Wallboard(tutorial.client, tutorial.quickstart, interval=0.02, poll=False)
    tutorial.ws.delete()
    board._poller.start()
    wait_until(lambda: not board.polling, what="the poller to stop")
    assert "This workspace was deleted (start over): run notebook 01" in board.html.value


def test_a_taskrouter_without_statistics_is_named_as_such(taskrouter, monkeypatch):
    tutorial = make_tutorial(taskrouter)

    def missing(workspace, queues, minutes=60):
        raise TwilioRestException(404, "http://x/RealTimeStatistics", "The requested resource was not found")

    monkeypatch.setattr(wallboard, "read_figures", missing)
    board = Wallboard(tutorial.client, tutorial.quickstart, poll=False)
    assert "TaskRouter has no Statistics for this workspace (HTTP 404)" in board.html.value


def test_the_board_follows_the_quickstart_through_the_sdk(taskrouter):
    """Against the local TaskRouter's Statistics: three tasks wait, Alice takes one, the board sees it."""
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    for language in ("es", "es", "en"):
        tutorial.ws.tasks.create(attributes=json.dumps({"selected_language": language}),
                                 workflow_sid=tutorial.quickstart.workflow_sid)
    board = Wallboard(tutorial.client, tutorial.quickstart, interval=0.1)
    assert board.figures is not None and board.figures.waiting == 3, board.html.value
    assert {q.name: q.waiting for q in board.figures.queues} == {"Spanish": 2, "English": 1}
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: board.figures.waiting == 2 and board.figures.cumulative["reservations_accepted"] == 1,
               what="the board to see Alice's task")
    assert board.figures.tasks_by_status["assigned"] == 1 and board.figures.workers_by_activity["Busy"] == 1
    assert list(board.history)[0] == 3 and list(board.history)[-1] == 2
