"""The learner's copy of the notebooks: made on first start, never overwritten silently, nothing lost."""

import subprocess
import sys
from pathlib import Path

import pytest

from tutorial_helpers import working_copy


@pytest.fixture
def tracked(tmp_path: Path) -> Path:
    source = tmp_path / "notebooks"
    source.mkdir()
    (source / "00_setup.ipynb").write_text('{"v": 1}')
    (source / "01_workspace.ipynb").write_text('{"v": 1}')
    return source


def test_first_sync_copies_every_notebook(tracked: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my-notebooks"
    report = working_copy.sync(tracked, mine)
    assert report.copied == ["00_setup.ipynb", "01_workspace.ipynb"]
    assert (mine / "00_setup.ipynb").read_text() == '{"v": 1}'


def test_the_learners_saves_survive_a_sync_and_a_newer_tracked_notebook_is_announced(tracked, tmp_path) -> None:
    mine = tmp_path / "my-notebooks"
    working_copy.sync(tracked, mine)
    (mine / "00_setup.ipynb").write_text('{"v": 1, "outputs": "the learner ran it"}')
    assert working_copy.sync(tracked, mine).updated_upstream == []
    (tracked / "00_setup.ipynb").write_text('{"v": 2}')  # a git pull
    (tracked / "02_new.ipynb").write_text('{"v": 1}')
    report = working_copy.sync(tracked, mine)
    assert report.copied == ["02_new.ipynb"] and report.updated_upstream == ["00_setup.ipynb"]
    assert (mine / "00_setup.ipynb").read_text() == '{"v": 1, "outputs": "the learner ran it"}'
    assert "make fresh-notebooks" in " ".join(report.lines(tracked, mine))


def test_fresh_moves_the_old_copies_aside_and_copies_anew(tracked: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my-notebooks"
    working_copy.sync(tracked, mine)
    (mine / "00_setup.ipynb").write_text("mine")
    (tracked / "00_setup.ipynb").write_text('{"v": 2}')
    aside = working_copy.fresh(tracked, mine, now=0)
    assert aside is not None and (aside / "00_setup.ipynb").read_text() == "mine"
    assert (mine / "00_setup.ipynb").read_text() == '{"v": 2}'
    assert working_copy.sync(tracked, mine).updated_upstream == []


def test_a_folder_without_notebooks_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="holds no notebooks"):
        working_copy.sync(tmp_path / "nowhere", tmp_path / "mine")
    assert not (tmp_path / "mine").exists()


def test_fresh_from_a_script_asks_and_changes_nothing_without_yes(tracked: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my-notebooks"
    working_copy.sync(tracked, mine)
    (mine / "00_setup.ipynb").write_text("mine")
    command = [sys.executable, "-m", "tutorial_helpers.working_copy", "fresh", str(tracked), str(mine)]
    refused = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert refused.returncode == 1 and "Nothing changed" in refused.stdout
    assert (mine / "00_setup.ipynb").read_text() == "mine"
    done = subprocess.run([*command, "--yes"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "previous ones are in" in done.stdout
    assert (mine / "00_setup.ipynb").read_text() == '{"v": 1}'
