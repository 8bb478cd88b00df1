"""Every place a message sends the learner to exists: headings in the notebook named, notebooks by number."""

import re
from pathlib import Path

import nbformat
import pytest

from tutorial_helpers.checks import HEADINGS, again_from

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
HELPERS = sorted((ROOT / "tutorial_helpers").rglob("*.py"))


def headings(name: str) -> set[str]:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    return {
        line.lstrip("#").strip()
        for cell in nb.cells if cell.cell_type == "markdown"
        for line in cell.source.splitlines() if line.startswith("#")
    }


@pytest.mark.parametrize(("notebook", "part"), [(n, p) for n, parts in HEADINGS.items() for p in parts])
def test_every_heading_a_message_names_is_in_that_notebook(notebook: str, part: str) -> None:
    assert HEADINGS[notebook][part] in headings(notebook), (
        f"messages send the learner to {HEADINGS[notebook][part]!r} in {notebook}, which has no such heading"
    )
    assert f'"{HEADINGS[notebook][part]}"' in again_from(notebook, part)


def test_no_message_names_a_heading_by_hand() -> None:
    """Headings go through checks.HEADINGS, where the test above sees them."""
    by_hand = re.compile(r"again from '|from the heading '|again from \"[A-Z0-9]")
    for path in HELPERS:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not by_hand.search(line), f"{path.name}:{number} names a heading by hand: {line.strip()}"


def test_every_notebook_a_message_names_exists() -> None:
    numbers = {p.name[:2] for p in NOTEBOOKS.glob("*.ipynb")}
    files = {p.name for p in NOTEBOOKS.glob("*.ipynb")}
    for path in HELPERS:
        text = path.read_text()
        for number in re.findall(r"\bnotebook (\d\d)\b", text):
            assert number in numbers, f"{path.name} names notebook {number}, which does not exist"
        for name in re.findall(r"\b(\d\d_[a-z_]+\.ipynb)\b", text):
            assert name in files, f"{path.name} names {name}, which does not exist"


def _markdown(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def test_no_notebook_calls_an_existing_notebook_still_to_come() -> None:
    """Text written before a notebook existed ("notebook 05, to come") goes stale when it lands."""
    numbers = {p.name[:2] for p in NOTEBOOKS.glob("*.ipynb")}
    to_come = re.compile(r"\(?(?:a )?notebooks?\s*(\d\d)?[^.()\n]{0,20}\bto come\b"
                         r"|\bto come\b[^.\n]{0,20}notebook (\d\d)")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for match in to_come.finditer(_markdown(path)):
            named = match.group(1) or match.group(2)
            # The walkthrough's notebooks are all here (00-07): a later one is named by its number, never "to come".
            assert named is not None, f"{path.name} promises a notebook to come: {match.group(0)!r}"
            assert named not in numbers, (
                f"{path.name} says notebook {named} is to come, but it exists: {match.group(0)!r}")


def test_the_setup_notebook_lists_every_notebook() -> None:
    table = _markdown(NOTEBOOKS / "00_setup.ipynb")
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        assert f"| `{path.stem}` |" in table, f"00_setup's table of notebooks leaves out {path.stem}"


def test_the_readme_names_every_notebook_that_pauses() -> None:
    """The README's list of where Run All pauses for the learner keeps up with the notebooks' pause cells."""
    readme = (ROOT / "README.md").read_text()
    paragraph = readme[readme.index("**Run All** works in every notebook."):][:600]
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if any("pause_for" in cell.source for cell in nb.cells if cell.cell_type == "code"):
            assert re.search(rf"\b{path.name[:2]}\b", paragraph), (
                f"{path.name} pauses for the learner, but the README's list of pauses leaves it out")
