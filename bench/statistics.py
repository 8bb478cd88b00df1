"""Table 11: a cumulative statistics call, and the events list, after 100,000 events, against one REST round
trip.

The events are made the way table 9 makes them (bench/storage.py's `drive`: in-process, each task created,
reserved, accepted, completed, then the clock advanced an hour), then a server process is started on that
data dir and the statistics calls are timed over HTTP, beside a plain fetch of the workspace.
"""

import tempfile
import time
from pathlib import Path

from tutorial_helpers.local_twilio.server import LocalTaskRouter

from .api import Api
from .harness import ACCOUNT_SID, AUTH_TOKEN, Context, Deadline, ServerProcess, Summary, Table, ms, ratio
from .storage import drive, measure_db

TASKS = 8_500  # about twelve events each: just over 100,000 events
WINDOW = {"Minutes": 1_440}  # the last day: every event the drive made (the default is the last 15 minutes)


def _timed(api: Api, path: str, params: dict, samples: int, deadline: Deadline) -> list[float]:
    out = []
    for _ in range(samples):
        if deadline.passed():
            break
        start = time.perf_counter()
        api.get(path, **params)
        out.append(time.perf_counter() - start)
    return out


def run(ctx: Context) -> Table:
    count = ctx.cfg.throughput_tasks if ctx.cfg.quick else TASKS
    samples = max(ctx.cfg.samples // 2, 5)
    with tempfile.TemporaryDirectory(prefix="bench-statistics-") as tmp:
        router = LocalTaskRouter(tmp, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
        try:
            done = drive(router, count, Deadline(ctx.cfg.time_limit))
            rows = router.backend.state.rows.values()
            ws = next(r["sid"] for r in rows if r["_kind"] == "workspace")
            queue = next(r["sid"] for r in rows if r["_kind"] == "task_queue")
            events = measure_db(router.store.path)["events"]
        finally:
            router.stop()
        W = f"/Workspaces/{ws}"
        calls = [
            ("one REST round trip: fetch the workspace", W, {}),
            ("workspace CumulativeStatistics, the last day", f"{W}/CumulativeStatistics", WINDOW),
            ("workspace CumulativeStatistics, default window (15 min)", f"{W}/CumulativeStatistics", {}),
            ("task queue CumulativeStatistics, the last day", f"{W}/TaskQueues/{queue}/CumulativeStatistics", WINDOW),
            ("workspace Statistics (real-time and cumulative), the last day", f"{W}/Statistics", WINDOW),
        ]
        results = []
        with ServerProcess("statistics", data_dir=Path(tmp)) as server:
            api = Api(server.base_url)
            deadline = Deadline(ctx.cfg.time_limit)
            # The events list as the notebooks' task view asks it (one task's events), and as a console would.
            middle = api.get(f"{W}/Events", EventType="reservation.accepted", PageSize=1,
                             PageToken=f"PT{done // 2}")["events"][0]["event_data"]
            calls += [
                ("Events, the newest page (50)", f"{W}/Events", {}),
                ("Events of one task (TaskSid)", f"{W}/Events", {"TaskSid": middle["task_sid"]}),
                ("Events of one worker, the last day (WorkerSid, Minutes)", f"{W}/Events",
                 {"WorkerSid": middle["worker_sid"], **WINDOW}),
            ]
            for _label, path, params in calls:  # warm: the first call after start pays for cold pages
                api.get(path, **params)
            for label, path, params in calls:
                results.append((label, Summary.of(_timed(api, path, params, samples, deadline))))
            api.close()
    floor = results[0][1]
    table = Table(
        11, f"Cumulative statistics and the events list after {events:,} events",
        ["call", "n", "p50 ms", "p99 ms", "p50 / round trip"],
        caption=(
            f"{done:,} tasks driven as in table 9 (created, reserved, accepted, completed, the worker back to "
            f"Idle), {events:,} events stored; then a server process on that data dir, timed over HTTP with a "
            "raw `requests.Session`, one warm-up call each."
        ),
    )
    table.rows = [[label, str(s.n), ms(s.p50), ms(s.p99), ratio(s.p50, floor.p50)] for label, s in results]
    return table
