"""python -m tutorial_helpers.workshop start|status|stop|clean: the facilitator's command (docs/workshops.md)."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from dataclasses import replace
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; two starts at once on one room are the facilitator's to avoid
    fcntl = None

from ..callback_host import is_loopback
from ..local_twilio.accounts.models import MAX_FRIENDLY_NAME
from ..local_twilio.defaults import DEFAULT_HOST, DEFAULT_PORT
from ..local_twilio.ensure import LocalTaskRouterUnavailable, probe, stop_running
from ..local_twilio.instance import is_mine, whose
from .cards import CSV_NAME, HTML_NAME, Card, CardsError, read_cards, write_csv, write_html
from .room import (
    BOARD,
    MAX_ATTENDEES,
    Facilitator,
    Record,
    RoomError,
    advertised_url,
    local_url,
    looks_like_room,
    start_server,
    workshop_data_dir,
)

PROG = "python -m tutorial_helpers.workshop"


def attendee_count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not 1 <= n <= MAX_ATTENDEES:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_ATTENDEES}, got {n}")
    return n


def port_number(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number, got {text!r}") from None
    # Not 0 ("any free port"): the port is printed on every card, so it must be the same at every start.
    if not 1 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"must be 1 to 65535, got {n}")
    return n


def read_names(path: str) -> list[str]:
    """One attendee per line; blank lines are skipped, surrounding spaces dropped (they would hide on a card)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"{path} is not UTF-8 text") from None
    names = [line.strip() for line in lines if line.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{path} has no names (one attendee per line)")
    if len(names) > MAX_ATTENDEES:
        raise argparse.ArgumentTypeError(f"{path} has {len(names)} names; at most {MAX_ATTENDEES}")
    bad = [n for n in names if len(n) > MAX_FRIENDLY_NAME or not n.isprintable()]
    if bad:
        raise argparse.ArgumentTypeError(
            f"{path}: names must be 1 to {MAX_FRIENDLY_NAME} printable characters: {bad[0][:80]!r}")
    # The server refuses a second account of the same name, case aside: say it here, before anything is made.
    seen: dict[str, str] = {}
    duplicates = []
    for name in names:
        if name.lower() in seen:
            duplicates.append(name)
        seen.setdefault(name.lower(), name)
    if duplicates:
        raise argparse.ArgumentTypeError(f"{path} names some attendees twice (case aside): "
                                         f"{', '.join(sorted(set(duplicates)))}; names must be unique")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="One local TaskRouter for a workshop's room: an "
                                     "account and a card per attendee, and the facilitator's board.")
    room = argparse.ArgumentParser(add_help=False)
    room.add_argument("--data-dir", type=Path, default=None,
                      help=f"the room's data (default {workshop_data_dir()}, apart from your own)")
    room.add_argument("--out", type=Path, default=None,
                      help="where the cards are written (default: DATA_DIR/cards)")
    room.add_argument("--host", default=None,
                      help=f"interface to listen on (default {DEFAULT_HOST}: this machine only; 0.0.0.0 for "
                           "attendees on other machines)")
    room.add_argument("--port", type=port_number, default=None,
                      help=f"port (default {DEFAULT_PORT}, or the room's last one)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    start = commands.add_parser("start", parents=[room], help="start the room, create accounts, write the cards")
    who = start.add_mutually_exclusive_group()
    who.add_argument("--attendees", type=attendee_count, help=f"accounts Attendee 1..N (1 to {MAX_ATTENDEES})")
    who.add_argument("--names", type=read_names, metavar="FILE", help="one attendee's name per line")
    start.add_argument("--advertise", default=None, metavar="ADDRESS",
                       help="the address on the cards (default: this machine's network address with --host "
                            "0.0.0.0, else --host)")
    start.add_argument("--reissue", action="append", default=[], metavar="NAME",
                       help="delete and re-create NAME's account, for a new token (their workspace goes)")
    commands.add_parser("status", parents=[room], help="is the room running, how many accounts, the board's URL")
    commands.add_parser("stop", parents=[room], help="stop the room's local TaskRouter (its data is kept)")
    clean = commands.add_parser("clean", parents=[room], help="stop the room and delete its data and cards")
    clean.add_argument("--yes", action="store_true", help="do not ask first")
    return parser


class Room:
    """Where the room is, from the flags, else from what `start` recorded, else the defaults."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.data_dir: Path = (args.data_dir or workshop_data_dir()).expanduser().absolute()
        self.record = Record.read(self.data_dir)
        recorded = self.record or Record()
        self.host: str = args.host or recorded.host
        self.port: int = args.port or recorded.port
        self.out: Path = (args.out or (Path(recorded.out) if recorded.out else self.data_dir / "cards")).absolute()
        self.url = local_url(self.host, self.port)

    def again(self, command: str) -> str:
        """The command line for `command` on this room (the flags a default would not give)."""
        extra = [] if self.data_dir == workshop_data_dir().absolute() else ["--data-dir", str(self.data_dir)]
        if not is_loopback(self.host):  # never inherited by `start`: see start()
            extra += ["--host", self.host]
        return shlex.join([*PROG.split(), command, *extra])


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def exposure_warning(host: str, port: int) -> str:
    where = "every network interface of this machine" if host in ("0.0.0.0", "::") else f"the address {host}"
    return (f"WARNING: --host {host} listens on {where}, so other machines can connect. Anyone on the network who "
            f"can reach port {port} reaches the room's local TaskRouter: its API (/v1 and the 2010-04-01 API), "
            "the EventBridge (the worker pages' websocket) and the facilitator's board, and can try tokens "
            "against them. There is no TLS: tokens cross the network in clear. Use a trusted network (the "
            "room's own, not a public one), and stop the room when the session ends.")


def start(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.attendees is None and args.names is None and not args.reissue:
        parser.error("start needs --attendees N or --names FILE (or --reissue NAME)")
    room = Room(args)
    recorded = room.record
    # Listening beyond this machine is always asked for out loud, at every start, never inherited quietly.
    if args.host is None and recorded and not is_loopback(recorded.host):
        parser.error(f"the room was started with --host {recorded.host}: pass --host {recorded.host} again "
                     f"(or --host {DEFAULT_HOST} for this machine only)")
    running = probe(room.url).health
    if recorded and running and is_mine(running, room.data_dir) and recorded.host != room.host:
        parser.error(f"--host {room.host}: the room already runs with --host {recorded.host}; stop it first "
                     f"({room.again('stop')}), then start it again with --host {room.host}")
    advertise = args.advertise or (recorded.advertise if recorded and recorded.host == room.host else None)
    try:
        card_url = advertised_url(room.host, room.port, advertise)
        kept = read_cards(room.out)
    except (RoomError, CardsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not is_loopback(room.host):
        print(exposure_warning(room.host, room.port), file=sys.stderr)
    try:
        start_server(room.host, room.port, room.data_dir)
    except RoomError as exc:
        parser.error(str(exc))
    except LocalTaskRouterUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    Record(room.host, room.port, args.advertise or advertise, str(room.out)).write(room.data_dir)
    facilitator = Facilitator(room.url, room.data_dir)
    # Two starts at once would each write the cards they know of, and the last rename would lose the other's
    # tokens: one start at a time per room.
    with open(room.data_dir / "workshop.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            kept = read_cards(room.out)  # again, under the lock: what a start that just finished wrote
            return _accounts_and_cards(parser, args, room, facilitator, kept, card_url)
        finally:
            facilitator.close()


def _accounts_and_cards(parser: argparse.ArgumentParser, args: argparse.Namespace, room: Room,
                        facilitator: Facilitator, kept: list[Card], card_url: str) -> int:
    accounts = facilitator.accounts()
    by_name = {a["friendly_name"].lower(): a for a in accounts}
    unknown = [n for n in args.reissue if n.strip().lower() not in by_name]
    if unknown:
        parser.error(f"--reissue {unknown[0]!r}: the room has no account of that name "
                     f"({len(accounts)} accounts; their names are in {room.out / CSV_NAME})")
    live = {a["sid"] for a in accounts}
    dropped = [c for c in kept if c.account_sid not in live]
    moved = sorted({c.url for c in kept if c.account_sid in live and c.url != card_url})
    # Cards whose account is gone would only confuse an attendee; the rest follow the room's current address.
    cards = [replace(c, url=card_url) for c in kept if c.account_sid in live]
    out = room.out

    def save() -> None:
        # After every account made: its token exists nowhere else, so it is written before the next request.
        write_csv(out, cards)

    for name in args.reissue:
        old = by_name[name.strip().lower()]
        print(f"Reissuing {old['friendly_name']}: their account {old['sid']} is deleted, with its workspace, "
              "tasks and workers; the new card's account starts empty.", file=sys.stderr)
        facilitator.delete(old["sid"])
        new = facilitator.create(old["friendly_name"], card_url)
        at = next((i for i, c in enumerate(cards) if c.account_sid == old["sid"]), None)
        if at is None:
            cards.append(new)
        else:
            cards[at] = new
        by_name[new.name.lower()] = {"sid": new.account_sid, "friendly_name": new.name}
        save()
    wanted = args.names or [f"Attendee {i}" for i in range(1, (args.attendees or 0) + 1)]
    created = 0
    for name in wanted:
        if name.lower() in by_name:
            continue  # names are unique: this one was made by an earlier run, and keeps its token
        card = facilitator.create(name, card_url)
        cards.append(card)
        by_name[name.lower()] = {"sid": card.account_sid, "friendly_name": card.name}
        created += 1
        save()
    csv_path = write_csv(out, cards)
    html_path = write_html(out, cards)
    carded = {c.account_sid for c in cards}
    missing = [a for a in facilitator.accounts() if a["sid"] not in carded]
    total = len(carded) + len(missing)

    print(f"The room's local TaskRouter: {room.url} (data in {room.data_dir})")
    print(f"Accounts: {created} created now, {len(args.reissue)} reissued; {total} in the room.")
    print(f"Attendees use LOCAL_TASKROUTER_URL={card_url}")
    print(f"Cards ({len(cards)}), SECRET: each holds an attendee's auth token, and these files are your only copy "
          "of them (written 0600; keep them to yourself, do not commit or share them):")
    print(f"  {html_path}   (print, cut, hand out one per attendee)")
    print(f"  {csv_path}")
    # The whole link: the board takes the token once from it (then a cookie), so this is what to open.
    print(f"Board (open this link; it holds your token): {room.url}{BOARD}?token={facilitator.token}")
    print(f"Facilitator token (the board and /_local/Accounts ask for it; keep it to yourself): {facilitator.token}")
    print(f"Status: {room.again('status')}")
    print(f"Stop the room (accounts and cards kept; `start` again resumes): {room.again('stop')}")
    print(f"After the workshop, delete the room's accounts, data and cards: {room.again('clean')}")
    if moved:
        print(f"The room's address changed ({', '.join(moved)} -> {card_url}): the cards now say {card_url}; "
              "hand out the new ones (the tokens are unchanged).", file=sys.stderr)
    if dropped:
        print(f"Dropped {plural(len(dropped), 'card')} whose account no longer exists: "
              f"{', '.join(c.name for c in dropped)}.", file=sys.stderr)
    if missing:
        names = ", ".join(a["friendly_name"] for a in missing)
        example = f"{room.again('start')} --reissue {shlex.quote(missing[0]['friendly_name'])}"
        print(f"No card for {plural(len(missing), 'account')} of the room: {names}. A token is shown once, "
              "when its account is made, and cannot be shown again. If their cards are elsewhere, pass that "
              f"--out (these are read from {out / CSV_NAME}). Otherwise give each a new token with --reissue "
              f"NAME (e.g. {example}): it deletes and re-creates the account, and the attendee's workspace goes "
              "with it.", file=sys.stderr)
    return 0


def status(args: argparse.Namespace) -> int:
    room = Room(args)
    if room.record is None and not looks_like_room(room.data_dir):
        print(f"No room in {room.data_dir} yet: {PROG} start --attendees N makes one.")
        return 1
    found = probe(room.url)
    cards = read_cards(room.out) if (room.out / CSV_NAME).exists() else []
    print(f"Cards: {len(cards)} in {room.out / CSV_NAME}")
    if found.health is None:
        print(f"The room's local TaskRouter is not running at {room.url} ({room.again('start')} starts it, "
              "accounts and cards as they were).")
        return 1
    if not is_mine(found.health, room.data_dir):
        print(f"The local TaskRouter at {room.url} {whose(found.health, room.data_dir)}.")
        return 1
    facilitator = Facilitator(room.url, room.data_dir)
    try:
        count = len(facilitator.accounts())
    finally:
        facilitator.close()
    print(f"The room's local TaskRouter runs at {room.url} (--host {room.host}), with {count} accounts.")
    print(f"Board (open this link; it holds your token): {room.url}{BOARD}?token={facilitator.token}")
    return 0


def stop(args: argparse.Namespace) -> int:
    room = Room(args)
    if probe(room.url).health is None:
        print(f"The room's local TaskRouter is not running at {room.url}; nothing to stop.")
        return 0
    code, message = stop_running(room.host, room.port, data_dir=room.data_dir)
    if code:
        print(message, file=sys.stderr)
        return code
    print(f"Stopped the room's local TaskRouter at {room.url}; its accounts and cards are kept "
          f"({room.again('start')} resumes).")
    return 0


def clean(args: argparse.Namespace) -> int:
    room = Room(args)
    card_files = [p for p in (room.out / CSV_NAME, room.out / HTML_NAME) if p.exists()]
    has_data = room.data_dir.exists()
    if has_data and not looks_like_room(room.data_dir):
        print(f"error: {room.data_dir} does not look like a local TaskRouter's data dir; nothing deleted.",
              file=sys.stderr)
        return 1
    if not has_data and not card_files:
        print(f"No room in {room.data_dir}; nothing to clean.")
        return 0
    print("This stops the room's local TaskRouter and deletes, for good:")
    if has_data:
        print(f"  {room.data_dir} (every attendee's account, workspace, tasks and the room key)")
    for path in card_files:
        print(f"  {path}")
    if not args.yes:
        try:
            answer = input("Type yes to go on: ")
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            print("Nothing deleted (--yes skips this question).")
            return 1
    found = probe(room.url).health
    if found is not None and is_mine(found, room.data_dir):
        code, message = stop_running(room.host, room.port, data_dir=room.data_dir)
        if code:  # never delete the data under a server that still runs
            print(f"{message} Nothing deleted.", file=sys.stderr)
            return code
    for path in card_files:
        path.unlink(missing_ok=True)
    if room.out.exists() and not any(room.out.iterdir()):
        room.out.rmdir()
    if has_data:
        shutil.rmtree(room.data_dir)
    print("The room is cleaned up: its server stopped, its data and cards deleted.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            return start(parser, args)
        if args.command == "status":
            return status(args)
        if args.command == "stop":
            return stop(args)
        return clean(args)
    except (RoomError, CardsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
