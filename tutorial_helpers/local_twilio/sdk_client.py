"""Point the official twilio SDK at the local Twilio server."""

from twilio.rest import Client


def make_local_client(base_url: str, account_sid: str, auth_token: str) -> Client:
    """An unmodified `twilio.rest.Client` whose TaskRouter and 2010-04-01 API calls go to `base_url`.

    Region and edge are cleared because the SDK rewrites hostnames when either
    is set (constructor or TWILIO_REGION/TWILIO_EDGE), which would send a
    local URL to a made-up host.
    """
    client = Client(account_sid, auth_token)
    client.region = None
    client.edge = None
    client.taskrouter.base_url = base_url.rstrip("/")
    client.api.base_url = base_url.rstrip("/")  # IncomingPhoneNumbers, Keys (and calls, later)
    return client
