"""The learner's own copy of the notebooks, so running and saving them never touches the tracked files.

    python -m tutorial_helpers.working_copy sync  notebooks my-notebooks   # make lab: copy what is missing
    python -m tutorial_helpers.working_copy fresh notebooks my-notebooks   # make fresh-notebooks

JupyterLab saves outputs into whatever notebook it runs. If that were the
tracked `notebooks/`, a learner's session would make `make test` fail (the
committed notebooks must be clean) and conflict with the next `git pull`.
So `make lab` serves a git-ignored copy, made on first start. When a tracked
notebook changes later (a pull), `sync` says so and leaves the learner's copy
alone; `fresh` replaces the copies, after moving the old ones aside, so
nothing a learner wrote is ever deleted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

SOURCES_FILE = ".sources.json"  # what each copy was made from: the tracked file's SHA-256
PREVIOUS_DIR = ".previous"


@dataclass
class SyncReport:
    copied: list[str] = field(default_factory=list)
    updated_upstream: list[str] = field(default_factory=list)  # tracked file changed since the copy
    kept: list[str] = field(default_factory=list)

    def lines(self, source: Path, target: Path) -> list[str]:
        lines = []
        if self.copied:
            lines.append(f"Copied {', '.join(self.copied)} from {source}/ to {target}/ (yours to run and save).")
        if self.updated_upstream:
            lines.append(
                f"Newer versions of {', '.join(self.updated_upstream)} are in {source}/; your copies in {target}/ "
                "are unchanged. `make fresh-notebooks` takes the new ones (yours are kept in "
                f"{target}/{PREVIOUS_DIR}/)."
            )
        if not lines:
            lines.append(f"Your notebooks: {target}/ (up to date with {source}/).")
        return lines


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _notebooks(source: Path) -> list[Path]:
    found = sorted(source.glob("*.ipynb"))
    if not found:
        raise FileNotFoundError(f"{source} holds no notebooks (*.ipynb): is this the project's folder?")
    return found


def _read_sources(target: Path) -> dict[str, str]:
    try:
        return json.loads((target / SOURCES_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _write_sources(target: Path, sources: dict[str, str]) -> None:
    temporary = target / (SOURCES_FILE + ".tmp")
    temporary.write_text(json.dumps(sources, indent=1, sort_keys=True) + "\n")
    temporary.replace(target / SOURCES_FILE)


def _copy(notebook: Path, destination: Path) -> None:
    temporary = destination.with_name(destination.name + ".tmp")
    shutil.copyfile(notebook, temporary)
    temporary.replace(destination)  # never a half-copied notebook


def sync(source: Path, target: Path) -> SyncReport:
    """Copy every tracked notebook the working copy lacks; report tracked ones that changed since."""
    notebooks = _notebooks(source)
    target.mkdir(parents=True, exist_ok=True)
    sources = _read_sources(target)
    report = SyncReport()
    for notebook in notebooks:
        digest = _digest(notebook)
        copy = target / notebook.name
        if not copy.exists():
            _copy(notebook, copy)
            sources[notebook.name] = digest
            report.copied.append(notebook.name)
        elif sources.get(notebook.name) not in (None, digest):
            report.updated_upstream.append(notebook.name)
        else:
            sources.setdefault(notebook.name, digest)
            report.kept.append(notebook.name)
    _write_sources(target, sources)
    return report


def fresh(source: Path, target: Path, *, now: float | None = None) -> Path | None:
    """Replace the working copies with the tracked notebooks; the old copies move aside, not away.

    Returns where the old copies went (None if there were none).
    """
    notebooks = _notebooks(source)
    target.mkdir(parents=True, exist_ok=True)
    old = sorted(target.glob("*.ipynb"))
    aside = None
    if old:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
        aside = target / PREVIOUS_DIR / stamp
        aside.mkdir(parents=True, exist_ok=False)
        for notebook in old:
            notebook.rename(aside / notebook.name)
    for notebook in notebooks:
        _copy(notebook, target / notebook.name)
    _write_sources(target, {n.name: _digest(n) for n in notebooks})
    return aside


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tutorial_helpers.working_copy",
        description="Keep the learner's copy of the notebooks apart from the tracked ones.",
    )
    parser.add_argument("command", choices=("sync", "fresh"),
                        help="sync: copy what is missing (make lab); fresh: start over from the tracked notebooks")
    parser.add_argument("source", type=Path, help="the tracked notebooks (notebooks/)")
    parser.add_argument("target", type=Path, help="the learner's copy (my-notebooks/)")
    parser.add_argument("--yes", action="store_true", help="fresh: do not ask before replacing the copies")
    args = parser.parse_args(argv)
    try:
        if args.command == "sync":
            for line in sync(args.source, args.target).lines(args.source, args.target):
                print(line)
            return 0
        if any(args.target.glob("*.ipynb")) and not args.yes and not _confirm(
            f"Replace your notebooks in {args.target}/ with fresh copies of {args.source}/? "
            f"(yours are moved to {args.target}/{PREVIOUS_DIR}/, not deleted)"
        ):
            print("Nothing changed. (Non-interactive? Add --yes, or `make fresh-notebooks YES=1`.)")
            return 1
        aside = fresh(args.source, args.target)
    except (OSError, ValueError) as exc:
        print(f"working_copy: {exc}", file=sys.stderr)
        return 2
    print(f"Fresh copies of the notebooks are in {args.target}/."
          + (f" Your previous ones are in {aside}/." if aside else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
