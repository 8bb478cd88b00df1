"""Documented defaults of the local TaskRouter's command line.

A fixed port and a fixed local account let notebooks find the server that
`make lab` started without any configuration.
"""

import os
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# A fixed, obviously-local account: "AC" + 32 hex digits, never a real one.
DEFAULT_ACCOUNT_SID = "AC" + "10ca1" + "0" * 27
DEFAULT_AUTH_TOKEN = "local-taskrouter-auth-token"


def default_data_dir() -> Path:
    """Where state lives unless --data-dir says otherwise (XDG data home)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "taskrouter-notebooks" / "local-taskrouter"


def default_credentials() -> tuple[str, str]:
    """The account used when no flag is given: the environment's, else the fixed local one."""
    return (
        os.environ.get("TWILIO_ACCOUNT_SID") or DEFAULT_ACCOUNT_SID,
        os.environ.get("TWILIO_AUTH_TOKEN") or DEFAULT_AUTH_TOKEN,
    )
