"""EventBridge, locally: what Twilio's worker SDK (`twilio-taskrouter`) talks to instead of TaskRouter.

The SDK never calls taskrouter.twilio.com. It opens one websocket to
EventBridge, which pushes `{"event_type", "payload"}` frames, and sends every
REST call through an HTTP "tunnel": a POST to the same `/v1/wschannels` URL
whose JSON body names the TaskRouter path, method, parameters and the
worker's access token. Both live in the local server beside `/v1`:

    tokens.py   the worker's AccessToken: HS256, signed with an API key's secret
    wire.py     rows in the SDK's shapes (epoch seconds, every descriptor key)
    rest_route.py  the worker SDK's REST calls (its "tunnel") -> one backend call, answered {"payload": ...}
    hub.py      open sockets per worker; events pushed at commit, in order; heartbeats
    routes.py   the two routes on the Flask app (flask-sock for the websocket)
"""

from .hub import Hub
from .routes import install

__all__ = ["Hub", "install"]
