"""Table 4: time per assignment as the workspace grows. Flat (≤ 1.5× growth) means no full scans per event.

Servers grown step by step (the state a real workspace accumulates):
- workers, all eligible: N Idle workers who all speak Spanish; a Spanish task created -> assigned.
- workers, other queue: N Idle workers who speak only English (members of another queue) plus
  Alice; a Spanish task created -> assigned to Alice. Matching that walks the idle workers
  instead of the queue's own shows here.
- queued: Q pending tasks in the "Parked" queue, which no worker matches, so they stay; Alice
  alone serves Spanish. Timed both ways: task created while Alice is Idle, and a task waiting
  while Alice -> Idle (the seed flow), which is where a worker looks for work among the tasks.
"""

import time
from collections.abc import Callable

from .api import Api, Workspace
from .harness import Context, Deadline, Summary, Table, ms

WARMUP = 3
GROWTH_TARGET = 1.5


def _timed(samples: int, limit: float, one: Callable[[], float]) -> tuple[Summary, bool]:
    """Run `one` (which returns its own timed part) WARMUP + samples times, within `limit` seconds."""
    deadline = Deadline(limit)
    times = []
    for i in range(WARMUP + samples):
        if deadline.passed():
            break
        elapsed = one()
        if i >= WARMUP:
            times.append(elapsed)
    return Summary.of(times), deadline.expired


def _task_first(ws: Workspace, worker: str | None) -> Callable[[], float]:
    """Create a Spanish task with an eligible worker Idle; untimed, complete it and free the worker."""
    def one() -> float:
        start = time.perf_counter()
        task = ws.create_task("es")
        ws.wait_assigned(task["sid"])
        elapsed = time.perf_counter() - start
        assignee = worker or ws.wait_accepted_worker(task["sid"])[0]
        ws.complete(task["sid"])
        ws.set_activity(assignee, "Idle")
        return elapsed
    return one


def _worker_first(ws: Workspace, worker: str) -> Callable[[], float]:
    """A Spanish task waits; time worker -> Idle until assigned; untimed, complete, worker Offline."""
    def one() -> float:
        task = ws.create_task("es")
        start = time.perf_counter()
        ws.set_activity(worker, "Idle")
        ws.wait_assigned(task["sid"])
        elapsed = time.perf_counter() - start
        ws.complete(task["sid"])
        ws.set_activity(worker, "Offline")
        return elapsed
    return one


def _growth(value: float, base: float) -> str:
    if base != base or value != value or base <= 0:  # NaN
        return "—"
    flag = "" if value / base <= GROWTH_TARGET else " ✗"
    return f"{value / base:.2f}×{flag}"


def _grow_workers(ctx: Context, table: Table, limit: float, label: str, languages: list[str],
                  alice: bool) -> list[str]:
    """Idle workers with `languages`, grown through cfg.scale_workers; Spanish tasks created -> assigned."""
    cfg = ctx.cfg
    cut_short = []
    with ctx.server("scale-workers-" + label.split(",")[0].replace(" ", "-")) as server:
        api = Api(server.base_url)
        ws = Workspace.create(api, ctx.helper.callback_url)
        served_by = None
        if alice:
            served_by = ws.add_worker("Alice", ["en", "es"], "Idle")
        base = float("nan")
        have = 0
        for size in cfg.scale_workers:
            ws.add_workers([f"Agent {i:05d}" for i in range(have, size)], languages, "Idle")
            have = max(have, size)
            s, short = _timed(cfg.scale_samples, limit, _task_first(ws, served_by))
            base = s.p50 if base != base else base
            table.rows.append([f"{size:,} Idle workers, {label}", "task created → assigned", str(s.n), ms(s.p50),
                               ms(s.p99), _growth(s.p50, base)])
            if short:
                cut_short.append(f"{size:,} workers {label}")
        api.close()
    return cut_short


def run(ctx: Context) -> Table:
    cfg = ctx.cfg
    cell_limit = cfg.time_limit / 4  # a dozen cells; a quadratic blow-up must not eat the whole run
    table = Table(
        4, "Scaling: time per assignment as workers and queued tasks grow",
        ["workspace holds", "direction", "n", "p50 ms", "p99 ms", "p50 growth"],
        caption=(
            "Same timing as tables 1 and 2 (raw `requests.Session`, tight `GET` poll until `assigned`). "
            "Workers: N Idle workers, either all Spanish speakers or all English-only (another queue) plus "
            "Alice; a Spanish task created → assigned. Queued: Q pending tasks in a queue "
            "no worker matches (they stay), Alice alone serves Spanish; timed task-first (Alice Idle, task "
            "created) and worker-first (task waiting, Alice → Idle). Growth is p50 against the smallest size; "
            f"target ≤ {GROWTH_TARGET:g}× (✗ = missed). Each size adds to the same workspace, as a real one grows."
        ),
    )
    cut_short: list[str] = []
    for label, languages, alice in (("all eligible", ["en", "es"], False),
                                    ("in another queue, + Alice", ["en"], True)):
        cut_short += _grow_workers(ctx, table, cell_limit, label, languages, alice)

    with ctx.server("scale-queued") as server:
        api = Api(server.base_url)
        ws = Workspace.create(api, ctx.helper.callback_url)
        ws.add_quickstart_workers()
        alice = ws.workers["Alice"]
        bases = {"task": float("nan"), "worker": float("nan")}
        have = 0
        for size in cfg.scale_queued:
            ws.park_tasks(size - have)
            have = max(have, size)
            ws.set_activity(alice, "Idle")
            s_task, short_t = _timed(cfg.scale_samples, cell_limit, _task_first(ws, alice))
            ws.set_activity(alice, "Offline")
            s_worker, short_w = _timed(cfg.scale_samples, cell_limit, _worker_first(ws, alice))
            for key, label, s, short in (("task", "task created → assigned", s_task, short_t),
                                         ("worker", "Alice → Idle → assigned", s_worker, short_w)):
                bases[key] = s.p50 if bases[key] != bases[key] else bases[key]
                table.rows.append([f"{size:,} tasks queued", label, str(s.n), ms(s.p50), ms(s.p99),
                                   _growth(s.p50, bases[key])])
                if short:
                    cut_short.append(f"{size:,} queued, {label}")
        ctx.memory.append((f"{have:,} tasks queued (pending), 2 workers", server.memory()))
        api.close()

    if cut_short:
        table.notes.append(
            f"Cut short by the {cell_limit:g} s per-cell time limit (n < {cfg.scale_samples}): " + "; ".join(cut_short)
        )
    return table
