"""The README and docs/ stay linked: every link, anchor, repository path and reference from the code leads somewhere.

The README is the newcomer's five minutes and docs/ the reference (issue 23). When a
heading is renamed or a page moves, a link into it breaks silently on GitHub; these
tests name it instead. Anchors follow GitHub's slugs: lowercase, punctuation removed,
each space a hyphen, a repeated heading numbered -1, -2, ...
"""

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 300
# Where the code sends a reader to a page: comments, docstrings, messages, notebooks.
CODE = sorted(
    path
    for pattern in ("tutorial_helpers/**/*.py", "tutorial_helpers/**/*.html", "tests/**/*.py", "scripts/*",
                    "bench/*.py", "notebooks/*.ipynb", "Makefile", "pyproject.toml")
    for path in ROOT.glob(pattern)
    if path.is_file() and "node_modules" not in path.parts and path != Path(__file__).resolve()
)
# The extensions of a bare file name in backticks that must be a file of the repository (`urls.py`):
# code. Other bare names (`cards.html`, `server.log`, `room.key`) are made at run time.
CODE_SUFFIXES = (".py", ".ipynb", ".sh")
ANY_FILE_SUFFIXES = (".py", ".ipynb", ".sh", ".md", ".json", ".html", ".txt", ".toml", ".js", ".csv")

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
BOLD_LEAD = re.compile(r"^\s*(?:[-*]\s+|\d+\.\s+)?\*\*(.+?)\*\*")
INLINE_CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# In code: README, README.md or a path to a .md file (a bare `latest.md` is a file the code makes), and
# optionally the place in it: `#anchor`, `, "Heading or bold name"` or `'s "Heading or bold name"`.
CODE_REFERENCE = re.compile(
    r"(?<![\w/.-])((?:[\w.-]+/)+[\w.-]+\.md|README(?:\.md)?)(?![\w-])"
    r"(?:#([\w-]+)|,\s*\"([^\"\n]+)\"|'s \"([^\"\n]+)\")?"
)


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def plain(text: str) -> str:
    """A heading's text as GitHub shows it: links reduced to their text, no backticks."""
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("`", "").strip()


def slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", plain(heading).lower()).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    out = set()
    for _, line in prose_lines(path):
        if m := HEADING.match(line):
            base = slug(m.group(2))
            out.add(f"{base}-{seen[base]}" if base in seen else base)
            seen[base] = seen.get(base, 0) + 1
    return frozenset(out)


@cache
def named_places(path: Path) -> frozenset[str]:
    """Headings and bold lead-ins (`**Python versions:**`, `- **Reject without an activity**:`), as plain text."""
    names = set()
    for _, line in prose_lines(path):
        if m := HEADING.match(line):
            names.add(plain(m.group(2)))
        elif m := BOLD_LEAD.match(line):
            names.add(plain(m.group(1)).rstrip(".:"))
    return frozenset(names)


@cache
def repository_files() -> frozenset[str]:
    skip = {".git", ".venv", "node_modules", "__pycache__", "my-notebooks", ".pytest_cache", ".ruff_cache"}
    return frozenset(
        p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*")
        if p.is_file() and not skip.intersection(p.relative_to(ROOT).parts)
    )


@cache
def ignored() -> tuple[str, ...]:
    """What .gitignore names by path (`my-notebooks/`, `bench/results/`): made at run time, fine to mention."""
    lines = (ROOT / ".gitignore").read_text().splitlines()
    return tuple(line.strip().rstrip("/") for line in lines if "/" in line.strip().rstrip("/") or line.endswith("/"))


def is_ignored(path: str) -> bool:
    return any(path == pattern or path.startswith(pattern + "/") for pattern in ignored())


def broken_links(page: Path) -> list[str]:
    broken = []
    for number, line in prose_lines(page):
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if re.match(r"[a-z][a-z+.-]*:", target):  # https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            where = f"{page.relative_to(ROOT)}:{number}: ({target})"
            linked = (page.parent / file_part).resolve() if file_part else page
            if not linked.exists():
                broken.append(f"{where} no such file")
            elif anchor and linked.suffix != ".md":
                broken.append(f"{where} an anchor into a file that is not Markdown")
            elif anchor and anchor not in anchors(linked):
                broken.append(f"{where} no heading with that anchor in {linked.name}")
    return broken


def repository_paths(text: str) -> list[str]:
    """The words of an inline code span that look like paths of this repository."""
    paths = []
    for word in text.split():
        word = word.rstrip(",;:)")
        if (word.startswith(("~", "$", "/", "-", "http", "ws:")) or any(c in word for c in "=<>{}*?[]()\"'")
                or "..." in word or word.count(".") + word.count("/") == 0):
            continue
        if "/" in word or word.endswith(CODE_SUFFIXES):
            paths.append(word)
    return paths


def missing_path(word: str) -> bool:
    files = repository_files()
    path = word.rstrip("/")
    top = path.split("/")[0]
    if re.fullmatch(r"[A-Z_]+", top) or is_ignored(path):  # a placeholder (`DATA_DIR/cards/`), or made at run time
        return False
    if (ROOT / top).exists():  # from the repository's root: `scripts/venv_defaults.py`, `tests/node/`, `notebooks/`
        return not (ROOT / path).exists()
    if word.endswith("/"):  # a folder inside a package: `models/`, `local_twilio/taskrouter/`
        return not any(f"/{path}/" in f"/{f}" for f in files)
    if "/" not in path:  # a bare name, `urls.py`: some file of the repository has it
        return not any(f == path or f.endswith("/" + path) for f in files)
    if path.endswith(ANY_FILE_SUFFIXES):  # inside a package: `models/reservations.py`
        return not any(f.endswith("/" + path) for f in files)
    return False  # an API path (`Workers/Statistics`), not a file


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_leads_to_a_file_and_its_heading(page: Path) -> None:
    assert not broken_links(page), "broken links:\n" + "\n".join(broken_links(page))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_repository_path_in_backticks_exists(page: Path) -> None:
    missing = [
        f"{page.relative_to(ROOT)}:{number}: `{word}`"
        for number, line in prose_lines(page)
        for span in INLINE_CODE.findall(line)
        for word in repository_paths(span)
        if missing_path(word)
    ]
    assert not missing, "paths that are not in the repository:\n" + "\n".join(missing)


def test_every_page_of_docs_is_reachable_from_the_readme() -> None:
    index = ROOT / "docs" / "README.md"
    linked_from_index = {
        (index.parent / target.partition("#")[0]).resolve()
        for _, line in prose_lines(index) for target in LINK.findall(line)
    }
    assert index.resolve() in {(ROOT / t.partition("#")[0]).resolve()
                               for _, line in prose_lines(ROOT / "README.md") for t in LINK.findall(line)}
    unlisted = [p.name for p in PAGES[1:] if p != index and p.resolve() not in linked_from_index]
    assert not unlisted, f"docs/README.md does not list {unlisted}"


def test_the_readme_stays_short() -> None:
    count = len((ROOT / "README.md").read_text().splitlines())
    assert count < README_MAX_LINES, (
        f"README.md has {count} lines; it is what a newcomer reads in five minutes (under {README_MAX_LINES}): "
        "move reference text to docs/"
    )


def test_every_page_the_code_names_exists_with_the_place_it_names() -> None:
    broken = []
    for path in CODE:
        text = path.read_text()
        for m in CODE_REFERENCE.finditer(text):
            name, anchor, place = m.group(1), m.group(2), m.group(3) or m.group(4)
            target = ROOT / ("README.md" if name.startswith("README") else name)
            where = f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}"
            if not target.exists():
                broken.append(f"{where}: no such file")
            elif anchor and anchor not in anchors(target):
                broken.append(f"{where}: no heading with that anchor")
            elif place and re.sub(r"\s+", " ", place) not in named_places(target):
                broken.append(f"{where}: no heading or bold name {place!r} in {target.relative_to(ROOT)}")
    assert not broken, "the code sends readers nowhere:\n" + "\n".join(broken)
