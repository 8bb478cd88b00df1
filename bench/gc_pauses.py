"""Table 10: the garbage collector on the request path. Table 1's loop (task created -> assigned) against
the server as shipped, which freezes its start-up heap, and against the same server without the freeze,
each with `gc.callbacks` noting every collection (bench/gc_probed_server.py). The slowest samples are
lined up against the collections that ran inside them: that says how much of the tail is the collector,
and what a full collection had to walk."""

import json
import tempfile
import time
from pathlib import Path

from .api import Api, Workspace
from .harness import Context, Deadline, ServerProcess, Summary, Table, ms, percentile, ratio

WARMUP = 5
# A start-up heap the size of a used workspace: the collector walks what is not frozen on every full pass.
BACKGROUND_TASKS = 2_000
TAIL_PERCENT = 5  # the tail lined up against collections: p99 alone is one or two samples


def _loop(ctx: Context, variant: str, gc_out: Path) -> tuple[list[tuple[float, float]], dict]:
    """(start, end) perf_counter pairs of the timed samples, and the probe's report."""
    flags = ["bench.gc_probed_server", "--gc-out", str(gc_out)] + (["--no-freeze"] if variant == "off" else [])
    samples: list[tuple[float, float]] = []
    # The workspace is made by a first process and served by a second one, which loads it at start-up:
    # the heap a restarted workshop server has, and what the freeze is for.
    with tempfile.TemporaryDirectory(prefix="bench-gc-") as keep:
        with ServerProcess(f"gc-{variant}-seed", data_dir=Path(keep)) as seeded:
            api = Api(seeded.base_url)
            ws = Workspace.create(api, ctx.helper.callback_url)
            ws.add_quickstart_workers()
            ws.park_tasks(BACKGROUND_TASKS)
            spec = ws.spec()
            api.close()
        with ServerProcess(f"gc-{variant}", wrapper=flags, data_dir=Path(keep)) as server:
            api = Api(server.base_url)
            ws = Workspace.from_spec(api, spec)
            alice = ws.workers["Alice"]
            ws.set_activity(alice, "Idle")
            deadline = Deadline(ctx.cfg.time_limit)
            for i in range(WARMUP + ctx.cfg.samples):
                if deadline.passed():
                    break
                start = time.perf_counter()
                task = ws.create_task("es")
                ws.wait_assigned(task["sid"])
                end = time.perf_counter()
                ws.complete(task["sid"])
                ws.set_activity(alice, "Idle")
                if i >= WARMUP:
                    samples.append((start, end))
            api.close()
    return samples, json.loads(gc_out.read_text())


def _inside(sample: tuple[float, float], collections: list[dict]) -> list[dict]:
    start, end = sample
    return [c for c in collections if c["start"] < end and c["start"] + c["seconds"] > start]


def mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.2f}" if values else "none"


def run(ctx: Context) -> Table:
    table = Table(
        10, "Garbage collector on the request path",
        ["server", "n", "p50 ms", "p99 ms", "p99 / p50", "collections in the loop (gen 0/1/2)",
         "young / full collection, mean ms", f"slowest {TAIL_PERCENT}% with a collection inside",
         "… of their time in it", "objects a full collection walks", "frozen", "one full collection, ms"],
        caption=(
            f"Table 1's loop (task created → assigned, Alice Idle, callback accepts) against a server that loaded "
            f"a workspace with {BACKGROUND_TASKS:,} parked tasks at start-up. `gc.callbacks` in the server notes "
            "every collection on CLOCK_MONOTONIC; a sample 'has a collection inside' when one overlapped it. "
            "'shipped': the CLI as it is, which runs `gc.freeze()` after start-up; 'no freeze': the same with the "
            "freeze made a no-op."
        ),
    )
    with tempfile.TemporaryDirectory(prefix="bench-gc-out-") as out:
        for variant, label in (("on", "shipped (frozen)"), ("off", "no freeze")):
            samples, report = _loop(ctx, variant, Path(out) / f"{variant}.json")
            durations = [end - start for start, end in samples]
            s = Summary.of(durations)
            loop_start, loop_end = samples[0][0], samples[-1][1]
            during = [c for c in report["collections"] if loop_start <= c["start"] <= loop_end]
            by_gen = [sum(1 for c in during if c["generation"] == g) for g in (0, 1, 2)]
            young = [c["seconds"] * 1000 for c in during if c["generation"] < 2]
            full = [c["seconds"] * 1000 for c in during if c["generation"] == 2]
            cut = percentile(durations, 100 - TAIL_PERCENT)
            tail = [x for x, d in zip(samples, durations, strict=True) if d >= cut]
            hit = [x for x in tail if _inside(x, during)]
            in_gc = sum(sum(c["seconds"] for c in _inside(x, during)) for x in tail)
            in_tail = sum(end - start for start, end in tail)
            table.rows.append([
                label, str(s.n), ms(s.p50), ms(s.p99), ratio(s.p99, s.p50), "/".join(map(str, by_gen)),
                f"{mean(young)} / {mean(full)}",
                f"{len(hit)} of {len(tail)}", f"{100 * in_gc / in_tail:.0f}%" if in_tail else "-",
                f"{report['tracked']:,}", f"{report['frozen']:,}", f"{report['full_collection_seconds'] * 1000:.1f}",
            ])
    table.notes.append(
        "What a full collection walks is every container object the process still tracks: the rows, indexes and "
        "event data loaded at start-up, and the imported modules. Frozen, they are out of its way; new objects "
        "(this request's) still are collected."
    )
    return table
