"""Bench settings: the issue's numbers by default, smaller with --quick, overridable by env or flag.

Precedence: flag > environment variable (BENCH_<NAME>) > --quick preset > default.
"""

import argparse
import os
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Config:
    samples: int = 200  # tables 1 and 2: assignments timed
    throughput_workers: int = 100  # table 3
    throughput_tasks: int = 10_000  # table 3, per run (one client, then several)
    clients: int = 4  # table 3: the "several concurrent clients" run
    scale_workers: tuple[int, ...] = (10, 100, 1_000)  # table 4
    scale_queued: tuple[int, ...] = (10, 1_000, 10_000)  # table 4
    scale_samples: int = 50  # table 4: assignments timed per cell (p50 is what the growth target reads)
    overhead_requests: int = 500  # table 5: requests per row
    cell_timeout: int = 300  # table 6: seconds per notebook cell
    event_samples: int = 200  # table 8: samples per row (activity updates, reservations)
    time_limit: float = 240.0  # seconds any one timed loop may run before it stops and says so
    only: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
    profile_dir: Path | None = None  # run every server under cProfile, stats written here
    results_dir: Path = ROOT / "bench" / "results"
    quick: bool = False


QUICK = {
    "samples": 20,
    "throughput_workers": 10,
    "throughput_tasks": 200,
    "clients": 2,
    "scale_workers": (10, 100),
    "scale_queued": (10, 200),
    "scale_samples": 10,
    "overhead_requests": 50,
    "cell_timeout": 120,
    "event_samples": 20,
    "time_limit": 30.0,
}

_CONVERT = {
    "scale_workers": _ints,
    "scale_queued": _ints,
    "only": _ints,
    "time_limit": float,
    "profile_dir": Path,
    "results_dir": Path,
}


def _convert(name: str, text: str) -> object:
    return _CONVERT.get(name, int)(text)


def parse(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the local TaskRouter against freshly started servers; prints markdown tables. "
        "Every setting can also come from the environment as BENCH_<NAME> (e.g. BENCH_SAMPLES=500).",
    )
    parser.add_argument("--quick", action="store_true", help="small counts, for smoke-testing (about a minute)")
    for f in fields(Config):
        if f.name == "quick":
            continue
        flag = "--" + f.name.replace("_", "-")
        shown = ",".join(map(str, f.default)) if isinstance(f.default, tuple) else f.default
        parser.add_argument(flag, dest=f.name, default=None, help=f"default {shown}")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    values: dict[str, object] = {"quick": quick}
    if quick:
        values.update(QUICK)
    for f in fields(Config):
        if f.name == "quick":
            continue
        env = os.environ.get("BENCH_" + f.name.upper())
        if env:
            values[f.name] = _convert(f.name, env)
        flag_value = getattr(args, f.name)
        if flag_value is not None:
            values[f.name] = _convert(f.name, flag_value)
    return Config(**values)  # type: ignore[arg-type]
