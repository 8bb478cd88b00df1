"""The local TaskRouter's first home, kept so that everything that used it keeps working.

The server now lives in `tutorial_helpers.local_twilio` (one server, a folder
per Twilio service); `python -m tutorial_helpers.local_taskrouter`, its
`ensure` module and these imports still work.
"""

from tutorial_helpers.local_twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_HOST,
    DEFAULT_PORT,
    LocalTaskRouter,
    create_app,
    make_client,
)

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "LocalTaskRouter",
    "create_app",
    "make_client",
]
