"""The local TaskRouter under cProfile on every thread: `python -m bench.profiled_server --profile-out F ...`.

`python -m cProfile` would see only the main thread, which just waits; the work happens in
the request threads (one per connection: werkzeug closes every connection), the callback
pools and the timer thread. So every Thread.run gets its own profiler, merged into one
Stats when the thread ends (thousands of threads must not pile up until shutdown), and
written to F when the server stops (SIGTERM).

The profilers count per-thread CPU time (time.thread_time), not wall time: a server thread
spends most of its wall time blocked on sockets and on the state lock, which would bury
the code that actually costs CPU.
"""

import argparse
import cProfile
import pstats
import sys
import threading
import time
from pathlib import Path

_lock = threading.Lock()
_live: set[cProfile.Profile] = set()
_merged: pstats.Stats | None = None
_original_run = threading.Thread.run


def _merge(profile: cProfile.Profile) -> None:
    global _merged
    profile.create_stats()
    if not profile.stats:  # type: ignore[attr-defined]
        return  # a thread that never ran any Python code
    with _lock:
        if _merged is None:
            _merged = pstats.Stats(profile)
        else:
            _merged.add(profile)


def _profiled_run(self: threading.Thread) -> None:
    profile = cProfile.Profile(time.thread_time)
    with _lock:
        _live.add(profile)
    profile.enable()
    try:
        _original_run(self)
    finally:
        profile.disable()
        with _lock:
            mine = profile in _live
            _live.discard(profile)
        if mine:  # else merged() already took it, at shutdown: merging twice would count it twice
            _merge(profile)


def merged() -> pstats.Stats | None:
    """Everything so far, including threads still running (pool and timer threads at shutdown)."""
    with _lock:
        live = list(_live)
        _live.clear()
    for profile in live:
        _merge(profile)
    return _merged


def summarize(prof: Path, out: Path, top: int = 40) -> None:
    """Text summaries next to the .prof: everything by own CPU time; the engine's code by cumulative time."""
    with open(out, "w", encoding="utf-8") as stream:
        stats = pstats.Stats(str(prof), stream=stream)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats("local_twilio", top)


def main() -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--profile-out", required=True)
    args, rest = parser.parse_known_args()
    threading.Thread.run = _profiled_run  # type: ignore[method-assign]
    from tutorial_helpers.local_twilio.__main__ import main as serve

    code = serve(rest)
    stats = merged()
    if stats is not None:
        stats.dump_stats(args.profile_out)
        summarize(Path(args.profile_out), Path(args.profile_out).with_suffix(".txt"))
    return code


if __name__ == "__main__":
    sys.exit(main())
