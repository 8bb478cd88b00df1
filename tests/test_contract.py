"""The facts-only contract: what scripts/make_contract.py keeps, and the committed file it made."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "tests" / "contracts"
SCHEMA_KEYS = {"type", "nullable", "enum", "format", "pattern", "minLength", "maxLength", "properties", "items",
               "$ref"}

spec_ = importlib.util.spec_from_file_location("make_contract", ROOT / "scripts" / "make_contract.py")
make_contract = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(make_contract)

SOURCE = {
    "openapi": "3.0.1",
    "info": {"title": "Twilio - Example", "version": "1.0.0", "description": "prose"},
    "paths": {
        "/v1/Things/{Sid}": {
            "description": "prose",
            "x-twilio": {"pathType": "instance"},
            "get": {
                "summary": "prose",
                "parameters": [{"name": "Sid", "in": "path", "description": "prose"}],
                "responses": {"200": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/thing"},
                    "examples": {"fetch": {"value": {"sid": "TH123"}}},
                }}}},
            },
            "delete": {"responses": {"204": {"headers": {"X-Rate-Limit-Limit": {}}}}},
            "options": {"responses": {"200": {}}},
        },
    },
    "components": {"schemas": {
        "thing": {"type": "object", "properties": {
            "sid": {"type": "string", "pattern": "^TH[0-9a-f]{32}$", "minLength": 34, "maxLength": 34,
                    "nullable": True, "description": "prose", "default": "x"},
            "status": {"$ref": "#/components/schemas/thing_enum_status", "description": "prose"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "description": {"type": "string", "nullable": True},  # a field so named is a fact, and stays
        }},
        "thing_enum_status": {"type": "string", "enum": ["on", "off"], "description": "prose"},
        "unused": {"type": "object"},
    }},
}


def test_only_facts_are_kept_and_references_followed() -> None:
    contract = make_contract.make_contract(SOURCE, "example.json", b"{}")
    assert contract["paths"] == {"/v1/Things/{Sid}": {
        "get": {"200": {"$ref": "thing"}},
        "delete": {"204": None},
    }}
    assert contract["schemas"] == {
        "thing": {"type": "object", "properties": {
            "sid": {"type": "string", "nullable": True, "pattern": "^TH[0-9a-f]{32}$", "minLength": 34,
                    "maxLength": 34},
            "status": {"$ref": "thing_enum_status"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "description": {"type": "string", "nullable": True},
        }},
        "thing_enum_status": {"type": "string", "enum": ["on", "off"]},
    }
    assert "prose" not in json.dumps([contract["paths"], contract["schemas"]])
    about = contract["about"]
    assert "example.json" in about["source"] and "MIT" in about["license"]


def test_a_dangling_reference_is_refused_by_name() -> None:
    broken = json.loads(json.dumps(SOURCE))
    del broken["components"]["schemas"]["thing_enum_status"]
    with pytest.raises(make_contract.ContractError, match="thing_enum_status"):
        make_contract.make_contract(broken, "example.json", b"{}")


def test_check_says_whether_the_output_is_stale(tmp_path: Path, capsys) -> None:
    source = tmp_path / "example.json"
    source.write_text(json.dumps(SOURCE))
    output = tmp_path / "out" / "example.contract.json"
    assert make_contract.main([str(source), str(output), "--check"]) == 1  # missing counts as stale
    assert make_contract.main([str(source), str(output)]) == 0
    assert make_contract.main([str(source), str(output), "--check"]) == 0
    output.write_text(output.read_text().replace('"on"', '"maybe"'))
    assert make_contract.main([str(source), str(output), "--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert sorted(p.name for p in output.parent.iterdir()) == ["example.contract.json"]  # no temporary left


def test_a_source_that_is_not_openapi_is_refused(tmp_path: Path, capsys) -> None:
    source = tmp_path / "notes.json"
    source.write_text('{"hello": "world"}')
    assert make_contract.main([str(source), str(tmp_path / "out.json")]) == 2
    assert "not an OpenAPI description" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


def walk(schema: dict, where: str):
    yield schema, where
    for field, prop in schema.get("properties", {}).items():
        yield from walk(prop, f"{where}.{field}")
    if "items" in schema:
        yield from walk(schema["items"], f"{where}[]")


@pytest.mark.parametrize("name", ["taskrouter_v1.json", "api_v2010.json"])
def test_the_committed_contract_is_facts_only_and_names_its_source(name: str) -> None:
    contract = json.loads((CONTRACTS / name).read_text())
    assert list(contract) == ["about", "paths", "schemas"]
    assert "twilio-oai" in contract["about"]["source"] and "MIT" in contract["about"]["license"]
    assert (CONTRACTS / "twilio-oai.LICENSE").read_text().startswith("MIT License")
    roots = [(body, f"{path} {method} {status}")
             for path, operations in contract["paths"].items()
             for method, responses in operations.items()
             for status, body in responses.items() if body is not None]
    roots += [(schema, name) for name, schema in contract["schemas"].items()]
    for root, where in roots:
        for node, place in walk(root, where):
            assert set(node) <= SCHEMA_KEYS, f"{place} keeps {sorted(set(node) - SCHEMA_KEYS)}"
            if "$ref" in node:
                assert node["$ref"] in contract["schemas"], f"{place} names a schema the contract lacks"
