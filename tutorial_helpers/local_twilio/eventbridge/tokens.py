"""The worker's AccessToken, checked as EventBridge checks it: signature, expiry, TaskRouter grant.

Twilio's AccessToken (twilio.jwt.access_token) is HS256 with the API key's SID
as `iss`, the account SID as `sub`, and `grants.task_router` naming the
workspace and worker. Expiry is judged on the local server's one clock, so
fast-forwarding it expires tokens as time passing would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jwt

from ..core.exceptions import TwilioError

# Twilio's access token errors.
INVALID = 20101
EXPIRED = 20104
NOT_YET_VALID = 20105
BAD_GRANTS = 20106
BAD_SIGNATURE = 20107


class TokenError(TwilioError):
    status = 401


@dataclass(frozen=True)
class Grant:
    account_sid: str
    key_sid: str
    workspace_sid: str
    worker_sid: str
    role: str | None
    expires_at: float


def verify(token: str | None, key_secret: Callable[[str, str], str | None], now: float) -> Grant:
    """The grant a valid worker token carries; TokenError (401) naming what is wrong otherwise."""
    if not token:
        raise TokenError("an access token is required (the worker's JWT)", code=INVALID)
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise TokenError(f"Invalid Access Token: {exc}", code=INVALID) from None
    if header.get("alg") != "HS256":
        raise TokenError(f"Invalid Access Token: algorithm {header.get('alg')!r}, not HS256", code=INVALID)
    key_sid, account_sid = str(claims.get("iss", "")), str(claims.get("sub", ""))
    secret = key_secret(account_sid, key_sid) if key_sid.startswith("SK") else None
    if secret is None:
        raise TokenError(f"Invalid Access Token issuer/subject: no API key {key_sid!r} on account {account_sid!r}",
                         code=INVALID)
    try:
        jwt.decode(token, secret, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False})
    except jwt.PyJWTError:
        raise TokenError("Invalid Access Token signature", code=BAD_SIGNATURE) from None
    expires_at = claims.get("exp")
    if not isinstance(expires_at, int | float) or expires_at <= now:
        raise TokenError("Access Token expired or expiration date invalid", code=EXPIRED)
    if isinstance(claims.get("nbf"), int | float) and claims["nbf"] > now + 60:
        raise TokenError("Access Token not yet valid", code=NOT_YET_VALID)
    grant = (claims.get("grants") or {}).get("task_router") or {}
    workspace_sid, worker_sid = grant.get("workspace_sid"), grant.get("worker_sid")
    if not (isinstance(workspace_sid, str) and workspace_sid.startswith("WS")
            and isinstance(worker_sid, str) and worker_sid.startswith("WK")):
        raise TokenError("Invalid Access Token grants: a task_router grant with workspace_sid and worker_sid is "
                         "needed", code=BAD_GRANTS)
    return Grant(account_sid, key_sid, workspace_sid, worker_sid, grant.get("role"), float(expires_at))
