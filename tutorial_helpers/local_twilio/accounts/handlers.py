"""One function per control endpoint: read params -> one call on the accounts -> render."""

from flask import Response, current_app

from ..core.http import no_content, param, reply
from .models import Account, Accounts


def accounts() -> Accounts:
    return current_app.config["ACCOUNTS"]


def render(account: Account) -> dict:
    return {"sid": account.sid, "friendly_name": account.friendly_name, "date_created": account.date_created}


def create_account() -> Response:
    account, token = accounts().create(param("FriendlyName"))
    # The only time the token is shown: the store keeps its hash.
    return reply({"sid": account.sid, "friendly_name": account.friendly_name, "auth_token": token,
                  "date_created": account.date_created}, 201)


def list_accounts() -> Response:
    return reply({"accounts": [render(a) for a in accounts().created()]})


def delete_account(sid: str) -> Response:
    accounts().delete(sid)
    return no_content()
