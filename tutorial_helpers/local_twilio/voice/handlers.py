"""One function per 2010-04-01 endpoint: read params -> one backend call -> render."""

from flask import Response, current_app, g, request

from ..core.exceptions import InvalidParameter, NotFound
from ..core.http import param, param_int, reply
from ..core.limits import CALL_TIMEOUT, QUEUE_MAX_SIZE
from .models import VoiceBackend
from .rendering import page, render_call, render_key, render_number, render_queue


def voice() -> VoiceBackend:
    return current_app.config["VOICE"]


def account(account_sid: str) -> str:
    """The account in the path must be the one that authenticated."""
    if account_sid != g.account_sid:
        raise NotFound(f"/Accounts/{account_sid}.json")
    return account_sid


def _number_params() -> dict[str, str | None]:
    names = {"voice_url": "VoiceUrl", "voice_method": "VoiceMethod", "voice_fallback_url": "VoiceFallbackUrl",
             "voice_fallback_method": "VoiceFallbackMethod", "status_callback": "StatusCallback",
             "status_callback_method": "StatusCallbackMethod", "friendly_name": "FriendlyName"}
    return {field: param(wire) for field, wire in names.items()}


def list_numbers(account_sid: str) -> Response:
    rows = voice().numbers(account(account_sid), param("PhoneNumber"), param("FriendlyName"))
    return page(rows, "incoming_phone_numbers", render_number)


def create_number(account_sid: str) -> Response:
    row = voice().create_number(account(account_sid), param("PhoneNumber"), param("AreaCode"), **_number_params())
    return reply(render_number(row), 201)


def fetch_number(account_sid: str, sid: str) -> Response:
    return reply(render_number(voice().number(account(account_sid), sid)))


def update_number(account_sid: str, sid: str) -> Response:
    return reply(render_number(voice().update_number(account(account_sid), sid, **_number_params())))


def delete_number(account_sid: str, sid: str) -> Response:
    voice().delete_number(account(account_sid), sid)
    return Response(status=204)


def list_keys(account_sid: str) -> Response:
    return page(voice().keys(account(account_sid)), "keys", render_key)


def create_key(account_sid: str) -> Response:
    row = voice().create_key(account(account_sid), param("FriendlyName"))
    return reply(render_key(row, with_secret=True), 201)


def fetch_key(account_sid: str, sid: str) -> Response:
    return reply(render_key(voice().key(account(account_sid), sid)))


def update_key(account_sid: str, sid: str) -> Response:
    return reply(render_key(voice().update_key(account(account_sid), sid, param("FriendlyName"))))


def delete_key(account_sid: str, sid: str) -> Response:
    voice().delete_key(account(account_sid), sid)
    return Response(status=204)


def list_calls(account_sid: str) -> Response:
    rows = voice().calls(account(account_sid), param("To"), param("From"), param("Status"))
    return page(reversed(rows), "calls", render_call)  # newest first, as Twilio lists calls


def create_call(account_sid: str) -> Response:
    row = voice().create_call(
        account(account_sid), param("To"), param("From"), url=param("Url"), method=param("Method"),
        twiml=param("Twiml"), send_digits=param("SendDigits"), timeout=param_int("Timeout", CALL_TIMEOUT),
        status_callback=param("StatusCallback"), status_callback_method=param("StatusCallbackMethod"),
        status_callback_event=request.form.getlist("StatusCallbackEvent"),
    )
    return reply(render_call(row), 201)


def fetch_call(account_sid: str, sid: str) -> Response:
    return reply(render_call(voice().call(account(account_sid), sid)))


def update_call(account_sid: str, sid: str) -> Response:
    row = voice().update_call(account(account_sid), sid, status=param("Status"), url=param("Url"),
                              method=param("Method"), twiml=param("Twiml"))
    return reply(render_call(row))


def _render_queue(row) -> dict:
    return render_queue(row, voice().members(row), voice().clock.now())


def list_queues(account_sid: str) -> Response:
    return page(voice().queues(account(account_sid)), "queues", _render_queue)


def create_queue(account_sid: str) -> Response:
    row = voice().create_queue(account(account_sid), param("FriendlyName"), param_int("MaxSize", QUEUE_MAX_SIZE))
    return reply(_render_queue(row), 201)


def fetch_queue(account_sid: str, sid: str) -> Response:
    return reply(_render_queue(voice().queue(account(account_sid), sid)))


def update_queue(account_sid: str, sid: str) -> Response:
    row = voice().update_queue(account(account_sid), sid, param("FriendlyName"), param_int("MaxSize", QUEUE_MAX_SIZE))
    return reply(_render_queue(row))


def delete_queue(account_sid: str, sid: str) -> Response:
    voice().delete_queue(account(account_sid), sid)
    return Response(status=204)


# ---------------------------------------------------------------------------- local control (outside the API)


def press_digits(sid: str) -> Response:
    """POST /_local/Calls/{sid}/Digits: keys pressed on the call now, as a caller's keypad sends them."""
    digits = param("Digits") or ""
    if not digits or any(key not in "0123456789*#" for key in digits):
        raise InvalidParameter(f"Digits must be keys 0-9, * or #, got {digits!r}")
    voice().call(g.account_sid, sid)
    voice().press(sid, digits)
    return reply({"call_sid": sid, "digits": digits})


def call_transcript(sid: str) -> Response:
    """GET /_local/Calls/{sid}/Transcript: what the call heard, and where it stands."""
    row = voice().call(g.account_sid, sid)
    return reply({"call_sid": sid, "status": row["status"], "waiting": row.get("_waiting"),
                  "task_sid": row.get("_task_sid"), "peer_call_sid": row.get("_peer"),
                  "transcript": voice().transcript(sid)})


def answer_call(sid: str) -> Response:
    """POST /_local/Calls/{sid}/Answer: the softphone the call rings picks up."""
    return reply({"call_sid": sid, "status": voice().answer(g.account_sid, sid)["status"]})


def decline_call(sid: str) -> Response:
    """POST /_local/Calls/{sid}/Decline: the softphone the call rings declines it (the call ends busy)."""
    return reply({"call_sid": sid, "status": voice().decline(g.account_sid, sid)["status"]})


def register_softphone() -> Response:
    """POST /_local/Softphones: a softphone at Address (client:alice, +1..., sip:...), made once."""
    row = voice().register_softphone(g.account_sid, param("Address") or "", param("FriendlyName"))
    return reply({"address": row["address"], "friendly_name": row["friendly_name"]}, 201)


def softphone(address: str) -> Response:
    """GET /_local/Softphones/{address}: the calls ringing or talking there, with their Task."""
    return reply(voice().softphone_view(g.account_sid, address))
