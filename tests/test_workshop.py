"""The facilitator's command (issue 16), as a facilitator runs it: `python -m tutorial_helpers.workshop` as a real
process with its own HOME and XDG_DATA_HOME, its room's server a real process too, and every card's credentials
tried through the twilio SDK. Every room a test starts is stopped at the end."""

import csv
import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioException

from tutorial_helpers.local_twilio import make_local_client
from tutorial_helpers.local_twilio.accounts import facilitator_token
from tutorial_helpers.local_twilio.ensure import probe, stop_running
from tutorial_helpers.local_twilio.instance import is_mine
from tutorial_helpers.workshop.room import advertised_url, lan_address

ROOT = Path(__file__).resolve().parents[1]
WORKSHOP = [sys.executable, "-m", "tutorial_helpers.workshop"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Facilitator:
    """Someone with their own HOME, running the workshop command; remembers each room to stop it afterwards."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.rooms: list[tuple[Path, int]] = []

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "LOCAL_TASKROUTER_"))}
        return {**env, "HOME": str(self.home), "XDG_DATA_HOME": str(self.home / "share")}

    @property
    def data_dir(self) -> Path:
        return self.home / "share" / "taskrouter-notebooks" / "workshop"

    @property
    def cards_dir(self) -> Path:
        return self.data_dir / "cards"

    def run(self, *args: str, stdin: str = "", port: bool = True) -> subprocess.CompletedProcess:
        command = [*WORKSHOP, *args]
        if port and len(args) and args[0] == "start" and "--port" not in args:
            command += ["--port", str(self.port)]
        if args and args[0] == "start":
            data_dir = Path(args[args.index("--data-dir") + 1]) if "--data-dir" in args else self.data_dir
            self.rooms.append((data_dir, int(command[command.index("--port") + 1])))
        return subprocess.run(command, env=self.env, cwd=ROOT, input=stdin, capture_output=True, text=True,
                              timeout=120)

    def start(self, *args: str) -> subprocess.CompletedProcess:
        result = self.run("start", *args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def cards(self, out: Path | None = None) -> list[dict[str, str]]:
        with open((out or self.cards_dir) / "cards.csv", newline="") as file:
            return list(csv.DictReader(file))

    def stop_all(self) -> None:
        for data_dir, port in self.rooms:
            code, _ = stop_running("127.0.0.1", port, data_dir=data_dir)
            health = probe(f"http://127.0.0.1:{port}").health
            if code and health and is_mine(health, data_dir) and isinstance(health.get("pid"), int):
                os.kill(health["pid"], signal.SIGKILL)


@pytest.fixture
def facilitator(tmp_path: Path) -> Iterator[Facilitator]:
    person = Facilitator(tmp_path / "facilitator")
    yield person
    person.stop_all()


def workspaces(card: dict[str, str]) -> list:
    client = make_local_client(card["LOCAL_TASKROUTER_URL"], card["TWILIO_ACCOUNT_SID"], card["TWILIO_AUTH_TOKEN"])
    return client.taskrouter.v1.workspaces.list()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_start_writes_secret_cards_whose_credentials_work(facilitator: Facilitator) -> None:
    result = facilitator.start("--attendees", "3")
    csv_path, html_path = facilitator.cards_dir / "cards.csv", facilitator.cards_dir / "cards.html"
    assert mode(csv_path) == 0o600 and mode(html_path) == 0o600
    cards = facilitator.cards()
    assert [c["name"] for c in cards] == ["Attendee 1", "Attendee 2", "Attendee 3"]
    url = f"http://127.0.0.1:{facilitator.port}"
    for card in cards:
        assert card["LOCAL_TASKROUTER_URL"] == url
        assert workspaces(card) == []  # the card's own account, authenticated with its own token
    page = html_path.read_text()
    assert "<script" not in page and "http" not in page.replace(url, "")  # no script, no CDN
    assert page.count('class="card"') == 3
    assert f"TWILIO_AUTH_TOKEN={cards[0]['TWILIO_AUTH_TOKEN']}" in page  # the .env lines
    out = result.stdout
    assert f"{url}/_local/Board?token={facilitator_token(facilitator.data_dir)}" in out  # the link to open
    assert str(csv_path) in out and str(html_path) in out and "SECRET" in out
    assert "workshop stop" in out and "workshop clean" in out
    assert "WARNING" not in result.stderr  # loopback: nothing exposed


def test_rerun_adds_only_the_missing_attendees_and_keeps_the_tokens(facilitator: Facilitator) -> None:
    facilitator.start("--attendees", "3")
    first = facilitator.cards()
    result = facilitator.start("--attendees", "5")
    assert "2 created now" in result.stdout
    cards = facilitator.cards()
    assert cards[:3] == first
    assert [c["name"] for c in cards[3:]] == ["Attendee 4", "Attendee 5"]
    assert len({c["TWILIO_ACCOUNT_SID"] for c in cards}) == 5
    for card in cards:
        assert workspaces(card) == []


def test_a_lost_card_is_reported_and_reissue_gives_a_new_token(facilitator: Facilitator) -> None:
    facilitator.start("--attendees", "2")
    one, two = facilitator.cards()
    client = make_local_client(two["LOCAL_TASKROUTER_URL"], two["TWILIO_ACCOUNT_SID"], two["TWILIO_AUTH_TOKEN"])
    client.taskrouter.v1.workspaces.create(friendly_name="Attendee 2's work")
    # Attendee 2's card is lost: only Attendee 1's is left in the CSV.
    lines = (facilitator.cards_dir / "cards.csv").read_text().splitlines(keepends=True)
    (facilitator.cards_dir / "cards.csv").write_text("".join(lines[:2]))

    result = facilitator.start("--attendees", "2")
    assert "No card for 1 account of the room: Attendee 2" in result.stderr
    assert "cannot be shown again" in result.stderr and "--reissue 'Attendee 2'" in result.stderr
    assert facilitator.cards() == [one]

    result = facilitator.start("--reissue", "attendee 2")  # names are matched case aside, as the server does
    assert "workspace" in result.stderr and "No card" not in result.stderr
    cards = facilitator.cards()
    assert cards[0] == one and cards[1]["name"] == "Attendee 2"
    assert cards[1]["TWILIO_ACCOUNT_SID"] != two["TWILIO_ACCOUNT_SID"]
    assert workspaces(cards[1]) == []  # a new, empty account
    with pytest.raises(TwilioException, match="401"):
        workspaces(two)  # the old token and account are gone

    unknown = facilitator.run("start", "--reissue", "Nobody")
    assert unknown.returncode == 2 and "--reissue 'Nobody'" in unknown.stderr


def test_names_from_a_file_are_escaped_on_the_page(facilitator: Facilitator, tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("Ana & Bo <b>\n\n  Chen  \n")
    facilitator.start("--names", str(names))
    assert [c["name"] for c in facilitator.cards()] == ["Ana & Bo <b>", "Chen"]
    page = (facilitator.cards_dir / "cards.html").read_text()
    assert "Ana &amp; Bo &lt;b&gt;" in page and "<b>" not in page


@pytest.mark.parametrize(("args", "named"), [
    (["--attendees", "0"], "--attendees: must be 1 to 500, got 0"),
    (["--attendees", "501"], "--attendees: must be 1 to 500, got 501"),
    (["--attendees", "many"], "--attendees: must be a whole number"),
    (["--port", "0"], "--port: must be 1 to 65535"),
    (["--attendees", "2", "--names", "NAMES"], "not allowed with argument"),
    ([], "start needs --attendees N or --names FILE"),
    (["--names", "DUPLICATES"], "names some attendees twice (case aside): ana"),
    (["--names", "BLANK"], "has no names"),
    (["--names", "MISSING"], "cannot read"),
])
def test_bad_input_is_an_argparse_error_naming_it(
    facilitator: Facilitator, tmp_path: Path, args: list[str], named: str
) -> None:
    files = {"NAMES": "Ana\n", "DUPLICATES": "Ana\nBo\nana\n", "BLANK": "\n  \n\n", "MISSING": None}
    for key, text in files.items():
        if text is not None:
            (tmp_path / key).write_text(text)
    args = [str(tmp_path / a) if a in files else a for a in args]
    result = facilitator.run("start", *args, port="--port" not in args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert named in result.stderr and "usage:" in result.stderr
    assert not facilitator.data_dir.exists()  # nothing was started or made


def test_a_port_held_by_another_server_is_an_error_naming_it(facilitator: Facilitator, tmp_path: Path) -> None:
    facilitator.start("--attendees", "1", "--data-dir", str(tmp_path / "first-room"))
    result = facilitator.run("start", "--attendees", "1")  # the default room, on the same port
    assert result.returncode == 2
    assert f"--port {facilitator.port}" in result.stderr and "is not yours" in result.stderr
    assert "give the room another port" in result.stderr
    assert not (facilitator.cards_dir / "cards.csv").exists()


def test_all_interfaces_prints_what_it_exposes_and_cards_name_the_lan_address(facilitator: Facilitator) -> None:
    lan = lan_address()
    advertise = [] if lan else ["--advertise", "127.0.0.1"]  # a machine with no network at all
    result = facilitator.start("--attendees", "1", "--host", "0.0.0.0", *advertise)
    warning = result.stderr
    assert "WARNING: --host 0.0.0.0" in warning and f"port {facilitator.port}" in warning
    assert "try tokens" in warning and "EventBridge" in warning and "board" in warning
    assert "trusted network" in warning
    (card,) = facilitator.cards()
    assert card["LOCAL_TASKROUTER_URL"] == f"http://{lan or '127.0.0.1'}:{facilitator.port}"
    assert workspaces(card) == []  # reachable at the address on the card
    # Listening beyond this machine is never inherited silently by a later start.
    again = facilitator.run("start", "--attendees", "2")
    assert again.returncode == 2 and "pass --host 0.0.0.0 again" in again.stderr
    assert len(facilitator.cards()) == 1


def test_status_stop_and_clean(facilitator: Facilitator) -> None:
    facilitator.start("--attendees", "2")
    url = f"http://127.0.0.1:{facilitator.port}"
    status = facilitator.run("status")  # the port comes from what start recorded
    assert status.returncode == 0, status.stderr
    assert "with 2 accounts" in status.stdout and f"{url}/_local/Board" in status.stdout

    stopped = facilitator.run("stop")
    assert stopped.returncode == 0 and "accounts and cards are kept" in stopped.stdout
    assert probe(url).health is None
    assert facilitator.run("status").returncode == 1

    facilitator.start("--attendees", "2")  # resumes: same accounts, same cards
    assert len(facilitator.cards()) == 2 and "0 created now" in facilitator.start("--attendees", "2").stdout

    refused = facilitator.run("clean", stdin="no\n")
    assert refused.returncode == 1 and "Nothing deleted" in refused.stdout
    assert facilitator.data_dir.exists() and probe(url).health is not None

    cleaned = facilitator.run("clean", "--yes")
    assert cleaned.returncode == 0, cleaned.stderr
    assert not facilitator.data_dir.exists()
    assert probe(url).health is None
    assert facilitator.run("clean", "--yes").stdout.startswith("No room")


def test_clean_deletes_nothing_that_is_not_a_room(facilitator: Facilitator, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    result = facilitator.run("clean", "--yes", "--data-dir", str(precious))
    assert result.returncode == 1 and "does not look like" in result.stderr
    assert (precious / "thesis.tex").exists()


def test_the_address_on_the_cards() -> None:
    assert advertised_url("127.0.0.1", 8765, None) == "http://127.0.0.1:8765"
    assert advertised_url("0.0.0.0", 8765, "10.1.2.3") == "http://10.1.2.3:8765"
    assert advertised_url("0.0.0.0", 8765, "http://room.local:9000/") == "http://room.local:9000"
    assert advertised_url("::1", 8765, None) == "http://[::1]:8765"
