"""The 2010-04-01 API's facts-only contract (tests/contracts/api_v2010.json) and the check of an answer against it,
for the tests of the local voice side's wire (voice/test_api_2010.py) and of its numbers' ranges
(core/test_number_ranges_2010.py)."""

import json
import re
from email.utils import parsedate_to_datetime
from pathlib import Path

CONTRACT = json.loads((Path(__file__).resolve().parents[1] / "contracts" / "api_v2010.json").read_text())
TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list, "number": (int, float)}


def route(template: str) -> tuple[int, re.Pattern, str]:
    literals = sum(1 for part in template.split("/") if part and "{" not in part)
    return literals, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = CONTRACT["schemas"][schema["$ref"]]
    return schema


def check(schema: dict, value, where: str) -> None:
    schema = resolve(schema)
    if value is None:
        assert schema.get("nullable") or "type" not in schema, f"{where} is null but not nullable"
        return
    kind = schema.get("type")
    if kind:
        assert isinstance(value, TYPES[kind]) and not (kind == "integer" and isinstance(value, bool)), (
            f"{where}: {value!r} is not {kind}")
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "pattern" in schema:
        assert re.match(schema["pattern"], value), f"{where}: {value!r} does not match {schema['pattern']}"
    fmt = schema.get("format")
    if fmt == "date-time-rfc-2822":
        assert value.endswith("+0000") and parsedate_to_datetime(value), f"{where}: {value!r} is not RFC 2822"
    elif fmt == "uri":
        assert value.startswith(("/2010-04-01/", "http://", "https://")), f"{where}: {value!r} is not a uri"
    elif fmt == "phone-number":
        assert re.fullmatch(r"\+[1-9]\d{6,14}", value), f"{where}: {value!r} is not E.164"
    if "properties" in schema and isinstance(value, dict):
        missing = sorted(set(schema["properties"]) - set(value))
        assert not missing, f"{where}: fields missing from the answer: {missing}"
        for name, prop in schema["properties"].items():
            check(prop, value[name], f"{where}.{name}")
    if "items" in schema and isinstance(value, list):
        for i, item in enumerate(value):
            check(schema["items"], item, f"{where}[{i}]")
