"""The 2010-04-01 API's JSON: RFC 2822 dates, `uri` paths ending in .json, and its own list envelope."""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from ..core.http import param_int, reply
from ..core.limits import PAGE, PAGE_SIZE, check_offset
from ..core.state import Row

API = "/2010-04-01"


def rfc2822(ts: float) -> str:
    """Twilio's 2010 dates: 'Fri, 18 Oct 2019 17:00:00 +0000'."""
    return format_datetime(datetime.fromtimestamp(int(ts), UTC))


def number_uri(row: Row) -> str:
    return f"{API}/Accounts/{row['account_sid']}/IncomingPhoneNumbers/{row['sid']}.json"


def render_number(row: Row) -> dict[str, Any]:
    return {
        "account_sid": row["account_sid"],
        "address_sid": None,
        "address_requirements": "none",
        "api_version": "2010-04-01",
        "beta": False,
        "capabilities": {"voice": True, "sms": False, "mms": False, "fax": False},
        "date_created": rfc2822(row["_created_ts"]),
        "date_updated": rfc2822(row["_updated_ts"]),
        "friendly_name": row["friendly_name"],
        "identity_sid": None,
        "phone_number": row["phone_number"],
        "origin": "twilio",
        "sid": row["sid"],
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": None,
        "sms_method": "POST",
        "sms_url": None,
        "status_callback": row["status_callback"],
        "status_callback_method": row["status_callback_method"],
        "trunk_sid": None,
        "uri": number_uri(row),
        "voice_receive_mode": "voice",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": row["voice_fallback_method"],
        "voice_fallback_url": row["voice_fallback_url"],
        "voice_method": row["voice_method"],
        "voice_url": row["voice_url"],
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "bundle_sid": None,
        "status": "in-use",
        "type": "local",
    }


def render_call(row: Row) -> dict[str, Any]:
    uri = f"{API}/Accounts/{row['account_sid']}/Calls/{row['sid']}"
    start, end = row["_start_ts"], row["_end_ts"]
    return {
        "sid": row["sid"],
        "date_created": rfc2822(row["_created_ts"]),
        "date_updated": rfc2822(row["_updated_ts"]),
        "parent_call_sid": None,
        "account_sid": row["account_sid"],
        "to": row["to"],
        "to_formatted": row["to"],
        "from": row["from"],
        "from_formatted": row["from"],
        "phone_number_sid": row["phone_number_sid"],
        "status": row["status"],
        "start_time": rfc2822(start) if start else None,
        "end_time": rfc2822(end) if end else None,
        "duration": str(int(end - start)) if start and end else None,
        "price": None,
        "price_unit": "USD",
        "direction": row["direction"],
        "answered_by": None,
        "api_version": "2010-04-01",
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": "0",
        "trunk_sid": None,
        "uri": f"{uri}.json",
        "subresource_uris": {
            "notifications": f"{uri}/Notifications.json",
            "recordings": f"{uri}/Recordings.json",
            "payments": f"{uri}/Payments.json",
            "events": f"{uri}/Events.json",
            "siprec": f"{uri}/Siprec.json",
            "streams": f"{uri}/Streams.json",
            "transcriptions": f"{uri}/Transcriptions.json",
            "user_defined_message_subscriptions": f"{uri}/UserDefinedMessageSubscriptions.json",
            "user_defined_messages": f"{uri}/UserDefinedMessages.json",
        },
    }


def render_queue(row: Row, members: list[Row], now: float) -> dict[str, Any]:
    waits = [now - m["_queue_entered_ts"] for m in members]
    return {
        "date_updated": rfc2822(row["_updated_ts"]),
        "current_size": len(members),
        "friendly_name": row["friendly_name"],
        "uri": f"{API}/Accounts/{row['account_sid']}/Queues/{row['sid']}.json",
        "account_sid": row["account_sid"],
        "average_wait_time": int(sum(waits) / len(waits)) if waits else 0,
        "sid": row["sid"],
        "date_created": rfc2822(row["_created_ts"]),
        "max_size": row["max_size"],
    }


def render_key(row: Row, with_secret: bool = False) -> dict[str, Any]:
    body = {
        "sid": row["sid"],
        "friendly_name": row["friendly_name"],
        "date_created": rfc2822(row["_created_ts"]),
        "date_updated": rfc2822(row["_updated_ts"]),
    }
    if with_secret:
        body["secret"] = row["_secret"]
    return body


def page(rows: Iterable[Row], key: str, render: Callable[[Row], dict]) -> Response:
    """The 2010 list envelope, paged with PageSize and Page (the SDK follows next_page_uri)."""
    rows = list(rows)
    size = param_int("PageSize", PAGE_SIZE, default=50)
    number = param_int("Page", PAGE, default=0)
    assert size is not None and number is not None  # the defaults
    start = check_offset(number, size)
    chunk = rows[start:start + size]
    filters = [(k, v) for k, v in request.args.items(multi=True) if k not in ("Page", "PageSize", "PageToken")]

    def uri(page_number: int) -> str:
        query = urlencode([*filters, ("PageSize", size), ("Page", page_number)])
        return f"{request.path}?{query}"

    return reply({
        key: [render(r) for r in chunk],
        "end": max(start + len(chunk) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(number + 1) if start + size < len(rows) else None,
        "page": number,
        "page_size": size,
        "previous_page_uri": uri(number - 1) if number > 0 else None,
        "start": start,
        "uri": uri(number),
    })
