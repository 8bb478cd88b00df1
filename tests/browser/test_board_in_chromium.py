"""The facilitator's board in Debian's chromium: four simulated attendees at different steps (one with a callback
nothing listens on), then a step done after the page loaded shows up without a reload. A name with markup in it
stays text. The screenshot is tests/browser/artifacts/board.png."""

from pathlib import Path

from board_support import Attendee, Facilitator, room
from playwright.sync_api import Page, expect

WAIT = 15_000  # the page polls every second; a slow shared machine gets some slack
MARKUP_NAME = 'Eve <img src=x onerror="document.title=1">'


def cells(page: Page, name: str) -> list[str]:
    row = page.locator("#rows tr").filter(has=page.locator("td.name", has_text=name))
    return row.locator("td").all_inner_texts()


def test_the_board_shows_each_attendees_step_and_updates_by_itself(taskrouter, callbacks, page: Page,
                                                                  screenshot_dir: Path):
    facilitator = Facilitator(taskrouter.base_url, taskrouter.data_dir)
    callbacks.answer_json({"instruction": "accept"})
    attendees = room(taskrouter, facilitator, callbacks.url())
    eve = Attendee(facilitator.create(MARKUP_NAME), taskrouter.base_url)  # has not started yet

    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{taskrouter.base_url}/_local/Board?token={facilitator.token}")
    assert page.url == f"{taskrouter.base_url}/_local/Board"  # the token left the address bar
    expect(page.locator("#rows tr")).to_have_count(5, timeout=WAIT)

    assert cells(page, "Ana")[:7] == ["Ana", "✓", "—", "—", "—", "—", "—"]
    assert cells(page, "Ben")[:7] == ["Ben", "✓", "✓", "—", "—", "—", "—"]
    assert cells(page, "Chloé")[:7] == ["Chloé", "✓", "✓", "✓", "—", "—", "—"]
    dev = cells(page, "Dev")
    assert dev[:7] == ["Dev", "✓", "—", "—", "—", "—", "—"]
    assert dev[7].startswith("callback unreachable (11200)") and dev[7].endswith(("just now", "s ago"))
    # The attendee-chosen name is shown as typed, not run as markup.
    assert cells(page, "Eve")[0] == MARKUP_NAME and page.locator("#rows img").count() == 0
    assert page.title() == "Workshop board"
    expect(page.locator('#counts li[data-key="workspace_built"]')).to_have_text("2 Workspace built")

    # Ben does notebook 03 while the facilitator watches: his row and the counts change without a reload.
    page.evaluate("window.loadedOnce = true")
    attendees["Ben"].accept_by_callback(callbacks.url(), taskrouter)
    eve.build()
    expect(page.locator("#rows tr").filter(has_text="Ben").locator('td[data-key="step_03"]')).to_have_text(
        "✓", timeout=WAIT)
    expect(page.locator("#rows tr").filter(has_text="Eve").locator('td[data-key="workspace_built"]')).to_have_text(
        "✓", timeout=WAIT)
    expect(page.locator('#counts li[data-key="step_03"]')).to_have_text("2 Accepted by callback", timeout=WAIT)
    assert page.evaluate("window.loadedOnce") is True  # the same page, never reloaded
    assert errors == []
    page.screenshot(path=str(screenshot_dir / "board.png"), full_page=True)


def test_a_wrong_token_gives_a_page_that_says_so(taskrouter, page: Page):
    response = page.goto(f"{taskrouter.base_url}/_local/Board?token=not-the-token")
    assert response is not None and response.status == 401
    expect(page.locator("h1")).to_have_text("The facilitator's board needs the facilitator's token")
    expect(page.locator("#why")).to_have_text("That link's token is not this server's facilitator token.")
