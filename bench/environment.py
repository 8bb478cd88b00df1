"""The machine and software the numbers came from, printed above the tables."""

import hashlib
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata

from .config import ROOT


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gb() -> str:
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2**20:.1f} GB"
    except OSError:
        pass
    return "?"


def _git() -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "tutorial_helpers")
    return commit + (" + uncommitted changes in tutorial_helpers/" if dirty else "")


def engine_fingerprint() -> str:
    """A hash of the engine's sources: servers import them when they start, so a colleague's edit
    in the middle of a run would make tables measure different engines. Compared at start and end."""
    digest = hashlib.sha1()
    for path in sorted((ROOT / "tutorial_helpers" / "local_twilio").rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def describe() -> list[str]:
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("flask", "werkzeug", "twilio", "requests"))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; commit {_git()}; "
        f"engine sources sha1 {engine_fingerprint()}",
        f"- Machine: {_cpu_model()}, {cores} cores usable ({os.cpu_count()} online), {_memory_gb()} RAM; "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({sys.implementation.name}); {versions}",
        f"- Load average (1/5/15 min) at start: {load()}",
    ]
