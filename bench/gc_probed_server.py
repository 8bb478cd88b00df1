"""The local TaskRouter with the garbage collector watched: `python -m bench.gc_probed_server --gc-out F
[--no-freeze] ...` (the rest are the server's own flags).

`gc.callbacks` notes every collection: its generation, when it started and how long it took, on
CLOCK_MONOTONIC, the clock `time.perf_counter` reads in the bench's own process too, so table 10 can
line collections up against the requests it timed. At SIGTERM, before the server lets its state go, it
notes what the collector still tracks (what a full collection walks), what `gc.freeze()` moved out of its
way, and how long one full collection takes; all of it goes to F as JSON.

`--no-freeze` makes the server's `gc.freeze()` a no-op: the same process as shipped, minus the freeze,
for the comparison.
"""

import argparse
import gc
import json
import sys
import time

_collections: list[dict] = []
_started: dict[str, float] = {}


def _note(phase: str, info: dict) -> None:
    now = time.perf_counter()
    if phase == "start":
        _started["at"] = now
        return
    began = _started.pop("at", now)
    _collections.append({"generation": info["generation"], "start": began, "seconds": now - began,
                         "collected": info["collected"]})


def main() -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--gc-out", required=True)
    parser.add_argument("--no-freeze", action="store_true")
    args, rest = parser.parse_known_args()
    if args.no_freeze:
        gc.freeze = lambda: None
    gc.callbacks.append(_note)
    from tutorial_helpers.local_twilio.__main__ import main as serve
    from tutorial_helpers.local_twilio.server import LocalTaskRouter

    heap: dict = {}
    stop = LocalTaskRouter.stop

    def measured_stop(router: LocalTaskRouter) -> None:
        # Before the state is let go: what one full collection of the serving heap costs, and what it walks.
        gc.callbacks.remove(_note)
        heap["tracked"] = len(gc.get_objects())
        heap["frozen"] = gc.get_freeze_count()
        began = time.perf_counter()
        gc.collect()
        heap["full_collection_seconds"] = time.perf_counter() - began
        stop(router)

    LocalTaskRouter.stop = measured_stop  # type: ignore[method-assign]
    code = serve(rest)
    report = {"collections": _collections, **heap}
    with open(args.gc_out, "w", encoding="utf-8") as out:
        json.dump(report, out)
    return code


if __name__ == "__main__":
    sys.exit(main())
