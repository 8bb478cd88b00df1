"""What every measurement shares: server processes, the helper app, percentiles, markdown tables.

The TaskRouter runs as its own process (as in a real deployment, so the client
and the server never share a GIL). The helper app is a second process: the
learner's assignment callback answering accept, plus a bare Flask "hello" on the
same server stack (werkzeug make_server, threaded) as the floor to compare with.
"""

import json
import math
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tutorial_helpers.local_twilio.defaults import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

from .config import ROOT, Config

ACCOUNT_SID = DEFAULT_ACCOUNT_SID
AUTH_TOKEN = DEFAULT_AUTH_TOKEN
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
PROFILED_STOP_TIMEOUT = 180.0


def _child_env() -> dict[str, str]:
    # The children import tutorial_helpers and bench from the checkout, wherever they are started from.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}
    # The SDK rewrites hosts when these are set; a local base URL needs them unset.
    env.pop("TWILIO_REGION", None)
    env.pop("TWILIO_EDGE", None)
    return env


def _read_line(proc: subprocess.Popen, pattern: str, timeout: float, what: str) -> re.Match:
    """Read the child's stdout until a line matches; bounded by `timeout` and by the child exiting."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, min(0.5, deadline - time.monotonic())))
        if ready:
            line = proc.stdout.readline()
            if not line:
                break  # EOF: the child is gone
            seen.append(line.strip())
            match = re.search(pattern, line)
            if match:
                return match
        elif proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"{what} did not become ready within {timeout:g} s; its output: {seen[-5:]}")


# Children must not outlive the bench, even when it is killed (timeout, kill -9): on Linux the
# kernel sends them SIGTERM when the bench dies, which the TaskRouter treats as a clean stop.
_DIE_WITH_PARENT = (
    "import ctypes, signal\n"
    "try:\n    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG\n"
    "except (OSError, AttributeError):\n    pass\n"
)


def _python_module(module: str) -> list[str]:
    """`python -m module` that dies with the bench; the module itself is run unchanged."""
    code = _DIE_WITH_PARENT + f"import runpy\nrunpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n"
    return [sys.executable, "-c", code]


class ServerProcess:
    """`python -m tutorial_helpers.local_twilio` on a free port with a fresh data directory."""

    def __init__(self, label: str, profile_dir: Path | None = None, wrapper: list[str] | None = None,
                 data_dir: Path | None = None):
        self.label = label
        # A module that runs the server inside itself, and its own flags (table 10's gc probe).
        self.wrapper = wrapper
        # A given data dir outlives this process (a second one loads it); by default a fresh one that does not.
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix=f"bench-{label}-")
        self.data_dir = data_dir or Path(self._tmp.name)
        self.profile_path = profile_dir / f"{label}.prof" if profile_dir else None
        self.log_path = self.data_dir / "server.log"
        self.proc: subprocess.Popen | None = None
        self.base_url = ""

    def start(self) -> "ServerProcess":
        common = ["--host", "127.0.0.1", "--port", "0", "--data-dir", str(self.data_dir),
                  "--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN]
        if self.wrapper is not None:
            cmd = [*_python_module(self.wrapper[0]), *self.wrapper[1:], *common]
        elif self.profile_path is not None:
            cmd = [*_python_module("bench.profiled_server"), "--profile-out", str(self.profile_path), *common]
        else:
            cmd = [*_python_module("tutorial_helpers.local_twilio"), *common]
        with open(self.log_path, "ab") as log:
            # stderr to a file: a pipe nobody reads would block the server once it fills with warnings.
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                         cwd=ROOT, env=_child_env(), text=True)
        match = _read_line(self.proc, r"ready at (http://[\d.]+:\d+)", READY_TIMEOUT, f"server {self.label}")
        self.base_url = match.group(1)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def memory(self) -> dict[str, int]:
        """VmRSS / VmHWM (kB) from /proc, and the SQLite files' size in bytes."""
        out = {"VmRSS": 0, "VmHWM": 0}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in out:
                out[key] = int(value.split()[0])
        out["db_bytes"] = sum(p.stat().st_size for p in self.data_dir.glob("taskrouter.sqlite3*"))
        return out

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # SIGTERM lets the server shut down cleanly (and the profiled one write its stats).
            self.proc.send_signal(signal.SIGTERM)
            try:
                # A profiled server still has to merge and write its stats.
                self.proc.wait(timeout=PROFILED_STOP_TIMEOUT if self.profile_path else STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()

    def log_tail(self, chars: int = 600) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------- helper app


def serve_helper() -> None:
    """Entry point of the helper process: the assignment callback and a bare hello."""
    import threading

    from flask import Flask, Response
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass  # one line per request would cost more than the request

    app = Flask("bench-helper")
    lock = threading.Lock()
    counts = {"callbacks": 0}
    accept = json.dumps({"instruction": "accept"})

    @app.route("/assignment_callback", methods=["GET", "POST"])
    def assignment_callback() -> Response:
        with lock:
            counts["callbacks"] += 1
        return Response(accept, mimetype="application/json")

    @app.route("/hello")
    def hello() -> Response:
        return Response("hello", mimetype="text/plain")

    @app.route("/count")
    def count() -> Response:
        return Response(json.dumps(counts), mimetype="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())

    def stop_with_parent() -> None:
        sys.stdin.read()  # EOF once the bench is gone, however it ended
        server.shutdown()

    threading.Thread(target=stop_with_parent, daemon=True).start()
    print(f"helper ready on port {server.server_port}", flush=True)
    server.serve_forever()


class HelperApp:
    """The helper process: callback_url answers {"instruction": "accept"}; hello_url answers "hello"."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> "HelperApp":
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from bench.harness import serve_helper; serve_helper()"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.PIPE,  # stdin: see serve_helper
            cwd=ROOT, env=_child_env(), text=True,
        )
        self.port = int(_read_line(self.proc, r"ready on port (\d+)", READY_TIMEOUT, "helper app").group(1))
        return self

    @property
    def callback_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/assignment_callback"

    @property
    def hello_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hello"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc is not None:
            for stream in (self.proc.stdout, self.proc.stdin):
                if stream is not None:
                    stream.close()
        self.proc = None


# ---------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); NaN for no data."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """Latencies in milliseconds."""

    n: int
    p50: float
    p90: float
    p99: float
    mean: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Summary":
        ms = [s * 1000.0 for s in seconds]
        mean = sum(ms) / len(ms) if ms else math.nan
        return cls(len(ms), percentile(ms, 50), percentile(ms, 90), percentile(ms, 99), mean,
                   max(ms) if ms else math.nan)


def ms(value: float) -> str:
    if math.isnan(value):
        return "—"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def ratio(value: float, base: float) -> str:
    if math.isnan(value) or math.isnan(base) or base <= 0:
        return "—"
    return f"{value / base:.1f}×"


class Deadline:
    """Bounds a loop in time; `expired` says whether the loop was cut short."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False

    def passed(self) -> bool:
        if time.monotonic() >= self.end:
            self.expired = True
        return self.expired


# ---------------------------------------------------------------------------- tables


@dataclass
class Table:
    number: int
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def markdown(self) -> str:
        lines = [f"### {self.number}. {self.title}", ""]
        if self.caption:
            lines += [self.caption, ""]
        lines += markdown_table(self.headers, self.rows)
        if self.notes:
            lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    out = [line(headers), "|" + "|".join("---" for _ in headers) + "|"]
    out += [line(row) for row in rows]
    return out


# ---------------------------------------------------------------------------- run context


@dataclass
class Context:
    """What the orchestrator hands every measurement."""

    cfg: Config
    helper: HelperApp
    # (label, ServerProcess.memory()) readings that table 7 reports; tables 3 and 4 add theirs.
    memory: list[tuple[str, dict[str, int]]] = field(default_factory=list)

    def server(self, label: str) -> ServerProcess:
        return ServerProcess(label, self.cfg.profile_dir)


def bare_round_trips(url: str, count: int, limit: float = 60.0) -> list[float]:
    """The floor: GET the helper's hello with a requests.Session, the same client the timed loops use."""
    import requests

    session = requests.Session()
    deadline = Deadline(limit)
    out: list[float] = []
    try:
        for _ in range(count):
            if deadline.passed():
                break
            start = time.perf_counter()
            session.get(url, timeout=10).raise_for_status()
            out.append(time.perf_counter() - start)
    finally:
        session.close()
    return out
