"""TaskRouter v1, as a service of the local Twilio server: its routes, handlers, rendering and models.

`urls.py` is the route table, `handlers.py` one function per endpoint,
`rendering.py` Twilio's JSON, `models/` every verb and lifecycle rule (one
module per resource), `routing.py`/`expressions.py` the workflow configuration
and expression language, `callbacks.py` the signed assignment and event
callbacks, `indexes.py` the routing indexes over the shared state (core/state.py, the unit of work).
"""
