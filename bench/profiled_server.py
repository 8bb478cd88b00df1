"""The local TaskRouter under cProfile on every thread: `python -m bench.profiled_server --profile-out F ...`.

`python -m cProfile` would see only the main thread, which just waits; the work happens in
the request threads, the callback pools and the timer thread. So every Thread.run is wrapped
in its own profiler, and the profiles are merged into F when the server stops (SIGTERM).
"""

import argparse
import cProfile
import pstats
import sys
import threading
from pathlib import Path

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()
_original_run = threading.Thread.run


def _profiled_run(self: threading.Thread) -> None:
    profile = cProfile.Profile()
    with _lock:
        _profiles.append(profile)
    profile.enable()
    try:
        _original_run(self)
    finally:
        profile.disable()


def merged() -> pstats.Stats | None:
    stats: pstats.Stats | None = None
    with _lock:
        profiles = list(_profiles)
    for profile in profiles:
        try:
            if stats is None:
                stats = pstats.Stats(profile)
            else:
                stats.add(profile)
        except TypeError:
            pass  # a thread that never ran any Python code has no stats
    return stats


def summarize(prof: Path, out: Path, top: int = 40) -> None:
    """Text summaries next to the .prof: by own time, and by cumulative time."""
    with open(out, "w", encoding="utf-8") as stream:
        stats = pstats.Stats(str(prof), stream=stream)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--profile-out", required=True)
    args, rest = parser.parse_known_args()
    threading.Thread.run = _profiled_run  # type: ignore[method-assign]
    from tutorial_helpers.local_taskrouter.__main__ import main as serve

    code = serve(rest)
    stats = merged()
    if stats is not None:
        stats.dump_stats(args.profile_out)
        summarize(Path(args.profile_out), Path(args.profile_out).with_suffix(".txt"))
    return code


if __name__ == "__main__":
    sys.exit(main())
