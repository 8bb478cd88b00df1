"""Table 2: the seed flow's latency. A Spanish task waits; Alice -> Idle until the task is assigned."""

import time

from .api import Api, Workspace
from .harness import Context, Deadline, Summary, Table, bare_round_trips, ms, ratio

WARMUP = 5


def run(ctx: Context) -> Table:
    cfg = ctx.cfg
    total: list[float] = []
    update: list[float] = []
    polls: list[int] = []
    with ctx.server("seed-flow") as server:
        api = Api(server.base_url)
        ws = Workspace.create(api, ctx.helper.callback_url)
        ws.add_quickstart_workers()  # both start Offline, as in the quickstart
        alice = ws.workers["Alice"]
        floor = bare_round_trips(ctx.helper.hello_url, max(cfg.samples // 2, 1))
        deadline = Deadline(cfg.time_limit)
        for i in range(WARMUP + cfg.samples):
            if deadline.passed():
                break
            task = ws.create_task("es")  # untimed: Alice is Offline, so it waits in the Spanish queue
            start = time.perf_counter()
            ws.set_activity(alice, "Idle")
            answered = time.perf_counter()
            n = ws.wait_assigned(task["sid"])
            end = time.perf_counter()
            ws.complete(task["sid"])  # untimed reset: Alice is Busy; back to Offline for the next sample
            ws.set_activity(alice, "Offline")
            if i >= WARMUP:
                total.append(end - start)
                update.append(answered - start)
                polls.append(n)
        floor += bare_round_trips(ctx.helper.hello_url, max(cfg.samples // 2, 1))
        api.close()
    f, t, u = Summary.of(floor), Summary.of(total), Summary.of(update)
    table = Table(
        2, "Seed flow latency (Alice → Idle until the waiting task is assigned)",
        ["what", "n", "p50 ms", "p90 ms", "p99 ms", "p50 / floor"],
        caption=(
            "The quickstart's seed step: a Spanish task pending while Alice is Offline; timed from just before "
            "`POST Workers/{Alice} ActivitySid=Idle` until a tight-loop `GET Tasks/{sid}` shows `assigned` "
            "(reserved, callback answered accept, accepted). Raw `requests.Session`, as in table 1. Untimed "
            "between samples: complete the task, Alice back to Offline, create the next task."
        ),
    )
    table.rows = [
        ["floor: bare loopback HTTP round trip", str(f.n), ms(f.p50), ms(f.p90), ms(f.p99), "1.0×"],
        ["Alice → Idle until assigned", str(t.n), ms(t.p50), ms(t.p90), ms(t.p99), ratio(t.p50, f.p50)],
        ["… of which the `POST Workers` answer", str(u.n), ms(u.p50), ms(u.p90), ms(u.p99), ratio(u.p50, f.p50)],
    ]
    if polls:
        table.notes.append(f"GET polls per sample: mean {sum(polls) / len(polls):.1f}, max {max(polls)}.")
    if deadline.expired:
        table.notes.append(f"Stopped at the {cfg.time_limit:g} s time limit after {t.n} samples.")
    return table
