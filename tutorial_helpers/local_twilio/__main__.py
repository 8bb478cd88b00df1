"""local-taskrouter --host 127.0.0.1 --port 8765 ...  (also: python -m tutorial_helpers.local_twilio)"""

import argparse
import logging
import os
import signal
import sys
import threading

from .accounts import RoomKeyError
from .core.validators import E164
from .defaults import DEFAULT_HOST, DEFAULT_PORT, default_credentials, default_data_dir
from .ensure import stop_running
from .server import DEFAULT_EVENT_RETENTION_DAYS, LocalTaskRouter
from .voice.models import DEFAULT_PHONE_NUMBERS


def program_name() -> str:
    """The name to show in usage lines: the console script's, or the `python -m` form."""
    name = os.path.basename(sys.argv[0])
    return name if name == "local-taskrouter" else "python -m tutorial_helpers.local_twilio"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    sid, token = default_credentials()
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="A local, persistent Twilio TaskRouter v1 for the tutorial notebooks.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"interface to listen on (default {DEFAULT_HOST}; never all "
                             "interfaces unless you pass 0.0.0.0)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--data-dir", default=str(default_data_dir()),
                        help="where the SQLite state lives (default %(default)s)")
    parser.add_argument("--account-sid", default=sid,
                        help="the account clients authenticate as (default: $TWILIO_ACCOUNT_SID, "
                             "else a fixed local AC sid)")
    parser.add_argument("--auth-token", default=token,
                        help="its auth token, also the key that signs callbacks (default: "
                             "$TWILIO_AUTH_TOKEN, else a fixed local token)")
    parser.add_argument("--phone-numbers", default=",".join(DEFAULT_PHONE_NUMBERS),
                        help="the local numbers every account gets, E.164, comma-separated (default %(default)s)")
    parser.add_argument("--event-retention-days", type=float, default=DEFAULT_EVENT_RETENTION_DAYS,
                        help="events older than this (on the TaskRouter clock) are deleted (default %(default)g, "
                             "as Twilio)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument("--stop", action="store_true",
                        help="stop the local TaskRouter running at --host/--port (its data is kept); only the "
                             "one of --data-dir: another user's is never stopped")
    args = parser.parse_args(argv)
    sid = args.account_sid
    if not (len(sid) == 34 and sid.startswith("AC") and all(c in "0123456789abcdefABCDEF"
                                                             for c in sid[2:])):
        parser.error(f"--account-sid must be AC followed by 32 hex digits, got {sid[:6]}...")
    if not args.event_retention_days > 0:
        parser.error(f"--event-retention-days must be positive, got {args.event_retention_days:g}")
    if not args.auth_token:
        parser.error("--auth-token must not be empty")
    args.phone_numbers = tuple(n.strip() for n in args.phone_numbers.split(",") if n.strip())
    bad = [n for n in args.phone_numbers if not E164.match(n)]
    if bad or not args.phone_numbers:
        parser.error(f"--phone-numbers must be E.164 numbers like +12025550100, got {', '.join(bad) or 'none'}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.stop:
        code, message = stop_running(args.host, args.port, data_dir=args.data_dir)
        print(message, file=sys.stderr if code else sys.stdout)
        return code
    router = LocalTaskRouter(args.data_dir, args.host, args.port, args.account_sid,
                             args.auth_token, standalone=True, phone_numbers=args.phone_numbers,
                             event_retention_days=args.event_retention_days)
    try:
        router.start()
    except RoomKeyError as exc:
        print(f"local TaskRouter did not start: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"local TaskRouter could not listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Local TaskRouter ready at {router.base_url}/v1 (account {router.account_sid}, "
          f"data in {router.data_dir})", flush=True)
    # Wake now and then: the OS may deliver SIGTERM to another thread, and then only the main thread's next
    # bytecode runs the handler; a wait with no timeout would never get there.
    while not stop.wait(0.2):
        pass
    router.stop()
    print("Local TaskRouter stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
