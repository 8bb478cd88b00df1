"""tutorial_helpers.headless: the click a headless run inserts where the learner would click."""

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tutorial_helpers.headless import add_autopilot


def test_the_click_goes_right_after_the_controls_and_through_their_name() -> None:
    nb = new_notebook(cells=[
        new_markdown_cell("controls = WorkerActivityControls(client, quickstart) in prose is not code"),
        new_code_cell("task = make_task()"),
        new_code_cell("panel = WorkerActivityControls(client, quickstart)\ndisplay(panel)"),
        new_code_cell("check()"),
    ])
    assert add_autopilot(nb, "Bob", "Busy") == 1
    sources = [cell.source for cell in nb.cells]
    assert sources[3] == "panel.autopilot('Bob', 'Busy')  # inserted: a headless run"
    assert sources[4] == "check()" and len(sources) == 5
    assert nb.cells[3].metadata["tags"] == ["autopilot"]


def test_a_notebook_without_controls_is_left_as_it_is() -> None:
    nb = new_notebook(cells=[new_code_cell("print('hello')")])
    assert add_autopilot(nb) == 0
    assert [cell.source for cell in nb.cells] == ["print('hello')"]
