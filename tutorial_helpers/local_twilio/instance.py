"""Whose local TaskRouter is this? An id per data dir, reported by /_local/health.

On a shared machine (a JupyterHub, a classroom server) every user's `make lab` asks for 127.0.0.1:8765. The
first user's server would answer everyone after that, with the same fixed local account, and their notebooks
would silently edit one workspace. So each data dir gets a random id, created once and kept in a small file
beside the data; the server loads it at start and /_local/health reports it. A server that reports the id found
in *my* data dir is mine, restarted or not (the id belongs to the data, as the workspace does); any other is a
stranger's: `ensure` does not use it and `--stop` does not stop it.

The id tells an accident from an intent more than a friend from a foe: /_local/health is unauthenticated, so
anyone who can read it from a running server can repeat it. The file is still 0600: another user who cannot
read my data dir's id cannot pass for my server before mine has run, and `--stop`, which signals the pid a
server reports as mine, is not handed to them that easily.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

INSTANCE_FILE = "instance-id"


def instance_id(data_dir: str | Path) -> str:
    """This data dir's id, created the first time it is asked for (by the server, or by ensure before it starts one)."""
    data_dir = Path(data_dir)
    found = read_instance_id(data_dir)
    if found:
        return found
    data_dir.mkdir(parents=True, exist_ok=True)
    candidate = secrets.token_hex(16)
    scratch = data_dir / f".{INSTANCE_FILE}.{os.getpid()}.{candidate[:8]}"
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(candidate + "\n")
    try:
        # A hard link never replaces a file, and readers see it whole or not at all: two starts racing on one
        # data dir both end up with the id written first.
        os.link(scratch, data_dir / INSTANCE_FILE)
    except FileExistsError:
        pass
    except OSError:
        # A file system without hard links: still atomic for readers; a racing start's id may win instead.
        os.replace(scratch, data_dir / INSTANCE_FILE)
    finally:
        scratch.unlink(missing_ok=True)
    return read_instance_id(data_dir) or candidate


def read_instance_id(data_dir: str | Path) -> str | None:
    """The data dir's id, or None when no server has used this data dir yet (nothing is created)."""
    try:
        return (Path(data_dir) / INSTANCE_FILE).read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def health_facts(data_dir: str | Path) -> dict[str, Any]:
    """What /_local/health says about whose server this is: the data dir's id and the uid that owns it.

    The owner's uid is reported as well because, when the id is not mine, it says *why* in the words a learner
    needs: another user's server (ask them, or pick another port), or one of their own with another data dir.
    The data dir's owner rather than the process's uid: the data (the workspace) is what would be shared.
    """
    return {"instance": instance_id(data_dir), "owner_uid": Path(data_dir).stat().st_uid}


def is_mine(health: Mapping[str, Any], data_dir: str | Path) -> bool:
    """True when the server that answered `health` keeps its data in `data_dir`."""
    mine = read_instance_id(data_dir)
    return mine is not None and health.get("instance") == mine


def same_user(health: Mapping[str, Any]) -> bool:
    """True when the server's data dir belongs to the user running this code."""
    if not hasattr(os, "getuid"):  # Windows: no uids to compare, and no shared-login JupyterHub either
        return True
    return health.get("owner_uid") == os.getuid()


def whose(health: Mapping[str, Any], data_dir: str | Path) -> str:
    """What follows "The local TaskRouter at URL " for a server that is not `data_dir`'s: whose it is, in words."""
    if same_user(health):
        return (f"is not yours: it keeps its data in another data dir than yours ({data_dir}; another "
                "XDG_DATA_HOME or --data-dir)")
    return f"is another user's ({_user_name(health.get('owner_uid'))}), not yours"


def _user_name(uid: object) -> str:
    if not isinstance(uid, int):
        return "an unknown user"
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except (ImportError, KeyError):  # no pwd module, or a uid without a name (a container's)
        return f"uid {uid}"
