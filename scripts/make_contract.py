"""Make a facts-only wire contract from one of Twilio's OpenAPI descriptions (twilio-oai, MIT).

    python scripts/make_contract.py SOURCE.json OUTPUT.json          # write OUTPUT
    python scripts/make_contract.py SOURCE.json OUTPUT.json --check  # exit 1 if OUTPUT is stale

The tests check every answer of the local services against such a contract, so
the repository must hold it: a clone with nothing beside it has to pass `make
test`. It keeps only facts the tests check: each path, its methods, their
status codes, and for each answer body the field names, JSON types,
nullability, enums, formats, patterns and lengths; for each operation that
takes query or form parameters, their names with the same facts, as a schema
named "request <METHOD> <path>" (what the schema fuzzer sends). Twilio's prose
(descriptions, summaries, examples) and its vendor extensions are left out.
tests/contracts/README.md says where the sources are and how to regenerate.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

KEPT_KEYWORDS = ("type", "nullable", "enum", "format", "pattern", "minLength", "maxLength")
METHODS = ("get", "post", "put", "delete")
REQUEST_PREFIX = "request "  # "request POST /v1/Workspaces": that operation's query and form parameters
SOURCE_REPOSITORY = "https://github.com/twilio/twilio-oai (spec/json)"
LICENSE_NOTE = (
    "MIT License, Copyright (C) 2023, Twilio, Inc.; the full text is in twilio-oai.LICENSE beside this file"
)


class ContractError(ValueError):
    """The source is not an OpenAPI description this script understands."""


def reduce_schema(schema: dict[str, Any], refs: set[str]) -> dict[str, Any]:
    """The schema's facts, recursively; every component it names is added to `refs`."""
    if "$ref" in schema:
        name = component_name(schema["$ref"])
        refs.add(name)
        return {"$ref": name}
    reduced: dict[str, Any] = {key: schema[key] for key in KEPT_KEYWORDS if key in schema}
    if "properties" in schema:
        reduced["properties"] = {
            field: reduce_schema(prop, refs) for field, prop in schema["properties"].items()
        }
    if "items" in schema:
        reduced["items"] = reduce_schema(schema["items"], refs)
    return reduced


def request_schema(operation: dict[str, Any], refs: set[str]) -> dict[str, Any] | None:
    """The operation's query and form parameters as one object schema (path parameters are in the template)."""
    properties: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query":
            properties[parameter["name"]] = reduce_schema(parameter.get("schema", {}), refs)
    form = operation.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded", {})
    for name, prop in form.get("schema", {}).get("properties", {}).items():
        properties[name] = reduce_schema(prop, refs)
    return {"type": "object", "properties": properties} if properties else None


def component_name(ref: str) -> str:
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix):
        raise ContractError(f"unsupported $ref {ref!r}: only {prefix}... is followed")
    return ref[len(prefix):]


def make_contract(spec: dict[str, Any], source_name: str, source_bytes: bytes) -> dict[str, Any]:
    """The contract for `spec`: {"about", "paths": {template: {method: {status: body}}}, "schemas"}."""
    if "paths" not in spec or "components" not in spec:
        raise ContractError(f"{source_name} has no 'paths' or 'components': not an OpenAPI description")
    refs: set[str] = set()
    paths: dict[str, Any] = {}
    requests: dict[str, Any] = {}
    for template, item in spec["paths"].items():
        operations = {}
        for method in METHODS:
            if method not in item:
                continue
            responses = {}
            for status, response in item[method].get("responses", {}).items():
                body = response.get("content", {}).get("application/json", {}).get("schema")
                responses[status] = None if body is None else reduce_schema(body, refs)
            operations[method] = responses
            request = request_schema(item[method], refs)
            if request is not None:
                requests[f"{REQUEST_PREFIX}{method.upper()} {template}"] = request
        paths[template] = operations

    components = spec["components"].get("schemas", {})
    schemas: dict[str, Any] = {}
    pending = sorted(refs)
    while pending:  # components name other components (enums), so follow until closed
        name = pending.pop()
        if name in schemas:
            continue
        if name not in components:
            raise ContractError(f"{source_name} refers to a missing component schema {name!r}")
        found: set[str] = set()
        schemas[name] = reduce_schema(components[name], found)
        pending.extend(sorted(found - set(schemas)))

    info = spec.get("info", {})
    return {
        "about": {
            "what": "Facts-only contract of Twilio's API answers: paths, methods, status codes, and per answer "
                    "the field names, JSON types, nullability, enums, formats, patterns and lengths; each operation's "
                    "query and form parameters with the same facts (schemas named 'request METHOD path'). No prose.",
            "source": f"{source_name} ({info.get('title', '?')}, OpenAPI {spec.get('openapi', '?')}, "
                      f"version {info.get('version', '?')}) from {SOURCE_REPOSITORY}",
            "source_sha256": hashlib.sha256(source_bytes).hexdigest(),
            "license": LICENSE_NOTE,
            "generated_by": "scripts/make_contract.py (do not edit by hand; see README.md beside this file)",
        },
        "paths": paths,
        "schemas": dict(sorted({**schemas, **requests}.items())),
    }


def render(contract: dict[str, Any]) -> str:
    return json.dumps(contract, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="Twilio's OpenAPI description (twilio-oai's spec/json/*.json)")
    parser.add_argument("output", type=Path, help="where the contract goes (tests/contracts/*.json)")
    parser.add_argument("--check", action="store_true", help="only say whether OUTPUT matches SOURCE")
    args = parser.parse_args(argv)
    try:
        source_bytes = args.source.read_bytes()
        contract = make_contract(json.loads(source_bytes), args.source.name, source_bytes)
    except (OSError, json.JSONDecodeError, ContractError) as exc:
        print(f"make_contract: {args.source}: {exc}", file=sys.stderr)
        return 2
    text = render(contract)
    if args.check:
        current = args.output.read_text() if args.output.is_file() else None
        if current != text:
            print(f"{args.output} is stale: regenerate it from {args.source}", file=sys.stderr)
            return 1
        print(f"{args.output} matches {args.source}")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.output.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.replace(args.output)  # never a half-written contract
    print(f"wrote {args.output}: {len(contract['paths'])} paths, {len(contract['schemas'])} schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
