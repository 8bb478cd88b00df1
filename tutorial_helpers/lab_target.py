"""`make lab`'s TaskRouter: a workshop room's when a card says so, else the learner's own; then JupyterLab.

    python -m tutorial_helpers.lab_target --port 8765 -- jupyter lab --no-browser ...

Without a card this is what `make lab` always did: find or start the learner's own local TaskRouter on
--port (ensure.py) and give JupyterLab LOCAL_TASKROUTER_URL=http://127.0.0.1:PORT (or the environment's
LOCAL_TASKROUTER_URL) and LOCAL_TASKROUTER_PORT. With a card (LOCAL_TASKROUTER_URL, TWILIO_ACCOUNT_SID and
TWILIO_AUTH_TOKEN together in .env or the environment, settings.room_card) nothing is started here: the
room's TaskRouter must answer and accept the card's account, and JupyterLab's kernels read the card from
the same place this did. The decision is `plan`, made in Python with the settings' own loading rather
than in make's language, so it is the same rule the notebooks follow.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tutorial_helpers.local_twilio.defaults import DEFAULT_HOST, DEFAULT_PORT
from tutorial_helpers.local_twilio.ensure import LocalTaskRouterUnavailable, ensure_running, probe
from tutorial_helpers.settings import Card, SettingsError, from_environment, load_settings, room_card


@dataclass(frozen=True)
class LabPlan:
    """What `make lab` does: use the room on `card`, or start the learner's own on `port`."""

    url: str  # the TaskRouter the notebooks will use
    port: int  # the learner's own server's port (LOCAL_TASKROUTER_PORT), started only without a card
    card: Card | None = None
    # Set for JupyterLab on top of this process's environment.
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def starts_own(self) -> bool:
        return self.card is None


def plan(port: int = DEFAULT_PORT, env_file: str | Path | None = None) -> LabPlan:
    """The room when there is a card, else exactly what `make lab` did before cards existed."""
    card = room_card(env_file)
    if card is not None:
        # Not LOCAL_TASKROUTER_URL: the kernels read the whole card where it is (a URL from the environment
        # and the token from .env would not be a card). The port still says where the learner's own would be.
        return LabPlan(card.url, port, card, {"LOCAL_TASKROUTER_PORT": str(port)})
    url = from_environment("LOCAL_TASKROUTER_URL") or f"http://{DEFAULT_HOST}:{port}"
    return LabPlan(url, port, None, {"LOCAL_TASKROUTER_URL": url, "LOCAL_TASKROUTER_PORT": str(port)})


def use_room(card: Card, timeout: float = 10.0) -> str:
    """One line saying the room's TaskRouter answers and accepts the card's account; LocalTaskRouterUnavailable
    (with what to check) when it does not."""
    where = f"LOCAL_TASKROUTER_URL from your card, in {card.source}"
    if probe(card.url).health is None:
        raise LocalTaskRouterUnavailable(
            f"No local TaskRouter answers at {card.url} ({where}); nothing was started on this machine. Is the "
            "facilitator's server running, and is this machine on the room's network? Remove the card's three "
            "values to use your own local TaskRouter instead.")
    try:
        answer = requests.get(f"{card.url}/v1/Workspaces?PageSize=1", auth=(card.account_sid, card.auth_token),
                              timeout=timeout)
    except requests.RequestException as exc:
        raise LocalTaskRouterUnavailable(f"The room's TaskRouter at {card.url} did not answer ({type(exc).__name__})."
                                         ) from None
    if answer.status_code == 401:
        raise LocalTaskRouterUnavailable(
            f"The room's TaskRouter at {card.url} refused the account on your card ({card.account_sid[:6]}...): copy "
            f"TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN again from your card into {card.source}.")
    if not answer.ok:
        raise LocalTaskRouterUnavailable(f"The room's TaskRouter at {card.url} answered HTTP {answer.status_code}.")
    return (f"Using the workshop room's TaskRouter at {card.url} with the account on your card "
            f"({card.account_sid[:6]}..., from {card.source}); nothing started on this machine.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Use the room's TaskRouter or start your own, then run COMMAND "
                                                 "(JupyterLab) with the settings that say which.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="your own local TaskRouter's port")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run (jupyter lab ...)")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    try:
        chosen = plan(args.port)
        if chosen.card is not None:
            # CALLBACK_HOST and the rest are checked now, not first in a notebook's first cell.
            load_settings(prompt=False)
            print(use_room(chosen.card))
        else:
            print(f"Local TaskRouter running at {ensure_running(DEFAULT_HOST, args.port)}/v1")
            print("The local TaskRouter keeps running after JupyterLab stops (Ctrl-C twice); 'make stop' stops it.")
    except (LocalTaskRouterUnavailable, SettingsError) as exc:
        print(exc, file=sys.stderr)
        return 1
    sys.stdout.flush()
    if not command:
        return 0
    # JupyterLab replaces this process, so Ctrl-C reaches it as it did when make ran it directly; it inherits
    # this process's environment with the plan's values on top.
    os.environ.update(chosen.environment)
    os.execvp(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
