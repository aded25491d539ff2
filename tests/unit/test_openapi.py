"""The committed OpenAPI documents are what the code generates, and they hold together."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shared.openapi import SERVICES, render, service_document
from shared.settings import ServiceName

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi"


@pytest.mark.parametrize("service", SERVICES)
def test_committed_document_is_current(service: ServiceName) -> None:
    committed = DOCS / f"{service}.json"
    assert committed.exists(), f"docs/openapi/{service}.json is missing: run `make openapi` and commit it"
    assert committed.read_text() == render(service_document(service)), (
        f"docs/openapi/{service}.json is stale: run `make openapi` and commit it"
    )


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _references(value)]
    return []


@pytest.mark.parametrize("service", SERVICES)
def test_every_reference_resolves_and_every_path_parameter_is_declared(service: ServiceName) -> None:
    document = service_document(service)
    schemas = document["components"]["schemas"]
    for reference in _references(document):
        assert reference.startswith("#/components/schemas/"), reference
        assert reference.rsplit("/", 1)[1] in schemas, reference
    operation_ids = []
    for path, operations in document["paths"].items():
        templated = set(re.findall(r"{(\w+)}", path))
        for method, operation in operations.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == templated, (method, path)
            assert operation["responses"], (method, path)
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids))


@pytest.mark.parametrize("service", SERVICES)
def test_authenticated_operations_document_401_and_429(service: ServiceName) -> None:
    for path, operations in service_document(service)["paths"].items():
        for method, operation in operations.items():
            if operation["security"]:
                assert {"401", "429"} <= set(operation["responses"]), (method, path)
                assert "Retry-After" in operation["responses"]["429"]["headers"], (method, path)


def test_request_models_are_documented_as_the_server_reads_them() -> None:
    order = service_document("intake")["components"]["schemas"]["OrderRequest"]
    tax = order["properties"]["tax_amount"]
    # Money is a decimal string, never a JSON number: the schema must not offer "number".
    assert tax["type"] == "string" and "anyOf" not in tax
    assert json.dumps(order).count('"pattern"') > 0
    ship_to = service_document("intake")["components"]["schemas"]["AddressIn"]
    assert "DE" in ship_to["properties"]["country"]["enum"]
