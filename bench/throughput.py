"""Table 3: throughput. Tasks created, routed, accepted through the callback and completed, per second.

Single-tasking workspace with N idle workers that speak Spanish. Each client is
its own process (spawned, so it shares nothing with the orchestrator) and runs
the loop a learner's app would: create a task; poll its reservations until one
is accepted (the callback answered accept); complete the task; put that worker
back to Idle. The issue's 10,000 tasks go through one server: the first half
from one client, the second half from several concurrent clients. Two full
10,000-task runs would not fit the bench's ~10 minute budget at the rates this
server reaches, and one server gives table 7 its reading after exactly 10,000 tasks.
"""

import multiprocessing as mp
import queue
import time
from typing import Any

from .api import Api, Workspace
from .harness import Context, Summary, Table, ms

POLL_PAUSE = 0.001  # between reservation polls; tight polling from many clients would starve the server
READY_LIMIT = 60.0  # for client processes to start
MAX_ERRORS = 20  # per client, before it gives up


def _client(base_url: str, spec: dict[str, Any], count: int, limit: float, ready: Any, go: Any,
            results: Any) -> None:
    """One client process: `count` full task cycles, bounded by `limit` seconds."""
    api = Api(base_url)
    ws = Workspace.from_spec(api, spec)
    api.get(ws.path)  # import and connect before the clock starts
    ready.put(True)
    if not go.wait(READY_LIMIT):
        results.put({"error": "never told to start"})
        return
    cycles: list[float] = []
    errors, first_error = 0, ""
    start = time.monotonic()
    end_by = start + limit
    for _ in range(count):
        if time.monotonic() > end_by or errors >= MAX_ERRORS:
            break
        began = time.perf_counter()
        try:
            task = ws.create_task("es")
            worker, _polls = ws.wait_accepted_worker(task["sid"], POLL_PAUSE)
            ws.complete(task["sid"])
            ws.set_activity(worker, "Idle")
        except Exception as exc:  # counted and reported; one failure must not end the run
            errors += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"[:300]
            continue
        cycles.append(time.perf_counter() - began)
    results.put({"start": start, "end": time.monotonic(), "cycles": cycles, "errors": errors,
                 "first_error": first_error, "requests": api.requests})
    api.close()


def _wait_ready(procs: list[Any], ready: Any) -> None:
    """Every client has started; stop waiting as soon as one has died instead (raises queue.Empty)."""
    end_by = time.monotonic() + READY_LIMIT
    started = 0
    while started < len(procs):
        if time.monotonic() > end_by or any(p.exitcode is not None for p in procs):
            raise queue.Empty
        try:
            ready.get(timeout=0.5)
            started += 1
        except queue.Empty:
            continue


def _run_clients(base_url: str, spec: dict[str, Any], tasks: int, clients: int, limit: float) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    shares = [tasks // clients + (1 if i < tasks % clients else 0) for i in range(clients)]
    procs = [ctx.Process(target=_client, args=(base_url, spec, n, limit, ready, go, results), daemon=True)
             for n in shares]
    for proc in procs:
        proc.start()
    outs: list[dict[str, Any]] = []
    try:
        _wait_ready(procs, ready)
        go.set()
        for _ in procs:
            outs.append(results.get(timeout=limit + 60))
    except queue.Empty:
        pass  # reported below as missing clients
    finally:
        go.set()
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
    good = [o for o in outs if "start" in o]
    cycles = [c for o in good for c in o["cycles"]]
    wall = (max(o["end"] for o in good) - min(o["start"] for o in good)) if good else float("nan")
    return {
        "done": len(cycles), "wall": wall, "cycles": cycles,
        "errors": sum(o.get("errors", 0) for o in good) + (clients - len(good)),
        "first_error": next((o.get("first_error") or o.get("error") for o in outs
                             if o.get("first_error") or o.get("error")), ""),
        "requests": sum(o["requests"] for o in good),
        "missing": clients - len(good),
    }


def run(ctx: Context) -> Table:
    cfg = ctx.cfg
    phases = [(1, cfg.throughput_tasks // 2), (cfg.clients, cfg.throughput_tasks - cfg.throughput_tasks // 2)]
    table = Table(
        3, f"Throughput ({cfg.throughput_workers} workers, {cfg.throughput_tasks:,} tasks through one server)",
        ["clients", "tasks done", "already through before", "wall s", "tasks/s", "cycle p50 ms", "cycle p99 ms",
         "HTTP req/s", "errors"],
        caption=(
            "One task = `POST Tasks` → reservation made → callback answers accept → poll "
            f"`GET Tasks/{{sid}}/Reservations` (pause {POLL_PAUSE * 1000:g} ms) until accepted → `POST Tasks/{{sid}}` "
            "completed with Reason → `POST Workers/{sid}` back to Idle. Single-tasking quickstart workspace with "
            f"{cfg.throughput_workers} Idle Spanish-speaking workers; each client is its own process using a raw "
            "`requests.Session`. One server for both rows: the first half of the tasks from one client, then the "
            "second half from several concurrent clients (so the second row runs with the first row's history)."
        ),
    )
    total_done, total_wall = 0, 0.0
    with ctx.server("throughput") as server:
        api = Api(server.base_url)
        ws = Workspace.create(api, ctx.helper.callback_url)
        ws.add_workers([f"Agent {i:04d}" for i in range(cfg.throughput_workers)], ["en", "es"], "Idle")
        ctx.memory.append((f"fresh server, workspace and {cfg.throughput_workers} workers", server.memory()))
        for clients, tasks in phases:
            out = _run_clients(server.base_url, ws.spec(), tasks, clients, cfg.time_limit)
            s, wall = Summary.of(out["cycles"]), out["wall"]
            table.rows.append([
                str(clients), f"{out['done']:,}", f"{total_done:,}", f"{wall:.1f}",
                f"{out['done'] / wall:.1f}" if wall > 0 else "—", ms(s.p50), ms(s.p99),
                f"{out['requests'] / wall:.0f}" if wall > 0 else "—", str(out["errors"]),
            ])
            total_done += out["done"]
            total_wall += wall if wall > 0 else 0.0
            if out["done"] < tasks:
                table.notes.append(f"{clients} client(s): stopped after {out['done']:,} of {tasks:,} tasks "
                                   f"(time limit {cfg.time_limit:g} s, or errors).")
            if out["first_error"]:
                table.notes.append(f"{clients} client(s), first error: {out['first_error']}")
        ctx.memory.append((f"after {total_done:,} tasks through", server.memory()))
        api.close()
    if total_wall > 0:
        table.rows.append(["all", f"{total_done:,}", "", f"{total_wall:.1f}", f"{total_done / total_wall:.1f}",
                           "", "", "", ""])
    return table
