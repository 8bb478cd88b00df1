"""The attendees' cards: cards.csv (the facilitator's only copy of each token) and cards.html (to print).

A token is shown once, when its account is created, so the CSV is the record that later runs merge into:
it is read back, kept, and added to. Both files hold secrets: they are written 0600, atomically (a temporary
file in the same directory, then a rename), so a crash never leaves half a file or a moment where another
user could read one.
"""

from __future__ import annotations

import csv
import html
import io
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import TutorialError

CSV_NAME = "cards.csv"
HTML_NAME = "cards.html"
# The column names are the variables' own, so the CSV can feed a mail merge as it is.
COLUMNS = ["name", "LOCAL_TASKROUTER_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"]


@dataclass(frozen=True)
class Card:
    name: str
    url: str
    account_sid: str
    auth_token: str

    def env_lines(self) -> str:
        """The three lines an attendee pastes into `.env`."""
        return (f"LOCAL_TASKROUTER_URL={self.url}\nTWILIO_ACCOUNT_SID={self.account_sid}\n"
                f"TWILIO_AUTH_TOKEN={self.auth_token}\n")


class CardsError(TutorialError, ValueError):
    """cards.csv exists but cannot be read as cards: never overwritten, since it may be the only copy."""


def read_cards(out_dir: Path) -> list[Card]:
    """The cards written so far, in order (none when there is no cards.csv yet)."""
    path = out_dir / CSV_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or any(column not in reader.fieldnames for column in COLUMNS):
        raise CardsError(f"{path} does not have the columns {', '.join(COLUMNS)}; it was left as it is. "
                         "Move it aside (it may hold the only copy of some tokens) or pass another --out")
    return [Card(row["name"], row["LOCAL_TASKROUTER_URL"], row["TWILIO_ACCOUNT_SID"], row["TWILIO_AUTH_TOKEN"])
            for row in reader]


def write_secret(path: Path, text: str) -> None:
    """Write text to path, mode 0600, atomically: readers see the old file or the new one, whole."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(out_dir: Path, cards: Iterable[Card]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for card in cards:
        writer.writerow([card.name, card.url, card.account_sid, card.auth_token])
    path = out_dir / CSV_NAME
    write_secret(path, buffer.getvalue())
    return path


# Plain HTML and CSS: it must print from any browser with no network (no CDN, no script).
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1cm; color: #111; }
.note { border: 2px solid #b00; padding: .5em 1em; margin-bottom: 1em; }
.cards { display: flex; flex-wrap: wrap; gap: .6cm; }
.card { width: 8.6cm; border: 1px dashed #555; padding: .4cm; break-inside: avoid; page-break-inside: avoid; }
.card h2 { font-size: 1.2em; margin: 0 0 .3em; }
.card dl { margin: 0; font-size: .8em; }
.card dt { font-weight: bold; margin-top: .3em; }
.card dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
.card pre { font-size: .7em; background: #f3f3f3; padding: .3em; white-space: pre-wrap; word-break: break-all; }
.break { break-after: page; page-break-after: always; flex-basis: 100%; height: 0; }
@media print { .note { display: none; } body { margin: 0; } }
"""
CARDS_PER_PAGE = 8  # two columns of four fit an A4 or Letter page


def render_html(cards: list[Card]) -> str:
    e = html.escape
    parts = []
    for i, card in enumerate(cards):
        if i and i % CARDS_PER_PAGE == 0:
            parts.append('<div class="break"></div>')
        parts.append(
            '<section class="card">'
            f"<h2>{e(card.name)}</h2>"
            "<dl>"
            f"<dt>LOCAL_TASKROUTER_URL</dt><dd>{e(card.url)}</dd>"
            f"<dt>TWILIO_ACCOUNT_SID</dt><dd>{e(card.account_sid)}</dd>"
            f"<dt>TWILIO_AUTH_TOKEN</dt><dd>{e(card.auth_token)}</dd>"
            "</dl>"
            "<p>Paste these three lines into <code>.env</code>, then run <code>make lab</code>:</p>"
            f"<pre>{e(card.env_lines())}</pre>"
            "</section>"
        )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>TaskRouter workshop: attendees' cards</title>"
        f"<style>{_STYLE}</style></head><body>"
        '<p class="note">Secret: each card holds an attendee\'s auth token. Print, cut along the dashed lines, '
        "hand out one per attendee, and keep this file (and cards.csv) to yourself. This note is not printed.</p>"
        f'<div class="cards">{"".join(parts)}</div>'
        "</body></html>\n"
    )


def write_html(out_dir: Path, cards: list[Card]) -> Path:
    path = out_dir / HTML_NAME
    write_secret(path, render_html(cards))
    return path
