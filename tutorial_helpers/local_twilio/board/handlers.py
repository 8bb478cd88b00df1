"""The board's two endpoints: the figures as JSON, and the page that shows them.

The page takes the facilitator's token once, as `?token=` in the URL the facilitator's command prints. A right
token is answered with a redirect to the bare URL that sets it as a cookie: the token leaves the address bar and
the history (even with JavaScript off), and a reload still works. The cookie is HttpOnly, SameSite=Strict, and
scoped to the page's path only (not Board.json, nor anything else): the page embeds the token for its script,
which sends it to Board.json as `Authorization: Bearer`, the one way every facilitator endpoint is authenticated.
Its name carries the port, because browsers share cookies across the ports of one host (two rooms' servers on
one machine would otherwise overwrite each other's). A wrong or missing token gets a page saying what to open.
"""

from pathlib import Path

from flask import Response, current_app, redirect, render_template_string, request

from ..accounts import Accounts
from ..core.http import reply
from .progress import board

TEMPLATES = Path(__file__).with_name("templates")
_templates: dict[str, str] = {}


def _template(name: str) -> str:
    """A template's text, read once (rendered with Flask's Jinja, which escapes every value in a string template)."""
    if name not in _templates:
        _templates[name] = (TEMPLATES / name).read_text(encoding="utf-8")
    return _templates[name]


def accounts() -> Accounts:
    return current_app.config["ACCOUNTS"]


def _cookie_name() -> str:
    port = request.host.rpartition(":")[2] if ":" in request.host else "80"
    return f"local_board_{port if port.isdigit() else '80'}"


def _private(response: Response) -> Response:
    # The page carries the token and the figures are the room's: no cache may keep either.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def figures() -> Response:
    return _private(reply(board(accounts())))


def page() -> Response:
    given = request.args.get("token")
    if given is not None:
        if not accounts().is_facilitator(given.strip()):
            return _refused("That link's token is not this server's facilitator token.")
        response = redirect(request.path, 303)  # the page's own URL, without the token
        response.set_cookie(_cookie_name(), given.strip(), path=request.path, httponly=True, samesite="Strict")
        return _private(response)
    token = request.cookies.get(_cookie_name())
    if not accounts().is_facilitator(token):
        return _refused("This page needs the facilitator's token." if token is None else
                        "The token this browser kept is no longer this server's facilitator token.")
    return _private(Response(render_template_string(_template("board.html"), token=token),
                             mimetype="text/html"))


def _refused(why: str) -> Response:
    response = Response(render_template_string(_template("refused.html"), why=why, page=request.path), status=401,
                        mimetype="text/html")
    response.delete_cookie(_cookie_name(), path=request.path)
    return _private(response)
