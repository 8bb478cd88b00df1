"""`make bench`: start fresh servers, run the eleven measurements, print markdown tables.

Each table is printed as soon as it is measured; the whole report is also written to
bench/results/ (git-ignored). A measurement that fails becomes a table saying so, and
the run goes on. Tables come in MEASUREMENTS' order, not by number: tables 8 (event delivery) and 10
(the garbage collector), added later, are listed right after table 1, whose neighbours they are.
"""

import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from . import (
    config,
    environment,
    event_delivery,
    gc_pauses,
    latency,
    memory,
    overhead,
    scaling,
    seed_flow,
    statistics,
    storage,
    throughput,
    walkthrough,
)
from .harness import Context, HelperApp, Table

MEASUREMENTS: dict[int, tuple[str, Callable[[Context], Table]]] = {
    1: ("Assignment latency", latency.run),
    8: ("Event delivery latency", event_delivery.run),  # listed next to 1, see above
    10: ("Garbage collector on the request path", gc_pauses.run),  # next to 1 as well: its tail, looked into
    2: ("Seed flow latency", seed_flow.run),
    3: ("Throughput", throughput.run),
    4: ("Scaling", scaling.run),
    5: ("Per-request overhead", overhead.run),
    6: ("The whole walkthrough", walkthrough.run),
    7: ("Server memory", memory.run),
    9: ("Storage per task", storage.run),
    11: ("Cumulative statistics after 100,000 events", statistics.run),
}


def _failed(number: int, title: str, exc: BaseException) -> Table:
    detail = "".join(traceback.format_exception_only(exc)).strip().splitlines()[-1][:300]
    return Table(number, title, ["result"], [[f"**failed**: {detail}"]])


def main(argv: list[str] | None = None) -> int:
    cfg = config.parse(argv)
    cfg.results_dir.mkdir(parents=True, exist_ok=True)
    if cfg.profile_dir:
        cfg.profile_dir.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    engine = environment.engine_fingerprint()
    header = ["## Local TaskRouter benchmarks" + (" (--quick)" if cfg.quick else ""), "", *environment.describe()]
    if cfg.profile_dir:
        header.append(f"- **Servers under cProfile** (stats in {cfg.profile_dir}): times are inflated.")
    header.append("")
    print("\n".join(header), flush=True)
    report = list(header)
    helper = HelperApp().start()
    ctx = Context(cfg, helper)
    failures = 0
    try:
        for number in [n for n in MEASUREMENTS if n in cfg.only]:
            title, measure = MEASUREMENTS[number]
            print(f"[bench] {number}. {title}…", file=sys.stderr, flush=True)
            start = time.monotonic()
            try:
                table = measure(ctx)
            except Exception as exc:  # the other tables still get measured and printed
                traceback.print_exc(file=sys.stderr)
                table = _failed(number, title, exc)
                failures += 1
            table.seconds = time.monotonic() - start
            text = table.markdown() + f"\n_measured in {table.seconds:.0f} s_\n"
            print(text, flush=True)
            report.append(text)
    finally:
        helper.stop()
    footer = f"_Whole run: {time.monotonic() - began:.0f} s; load average at end: {environment.load()}._\n"
    engine_now = environment.engine_fingerprint()
    if engine_now != engine:
        footer += (f"\n**The engine's sources changed during this run** (sha1 {engine} → {engine_now}): "
                   "tables may have measured different engines. Run it again.\n")
    print(footer, flush=True)
    report.append(footer)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    text = "\n".join(report)
    for name in (f"bench-{stamp}.md", "latest.md"):
        (cfg.results_dir / name).write_text(text, encoding="utf-8")
    print(f"[bench] report written to {cfg.results_dir / 'latest.md'}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
