"""Values the 2010-04-01 API takes: phone numbers, webhook URLs and methods. A bad one is a 400 that names it.

Webhook URLs follow the one rule every API of the local server uses (`..validators.valid_url`).
"""

import re

from ..core.exceptions import InvalidParameter
from ..core.validators import valid_url

__all__ = ["E164", "METHODS", "valid_method", "valid_url"]

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
METHODS = ("GET", "POST")


def valid_method(value: str, what: str) -> str:
    method = value.upper()
    if method not in METHODS:
        raise InvalidParameter(f"{what} must be GET or POST, got {value[:20]!r}")
    return method
