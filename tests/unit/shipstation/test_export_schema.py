"""The project's export schema (services/shipstation/schema/custom-store.xsd) is as strict as
ShipStation's protocol: it refuses every document that would break an import and accepts every
document we may send. The ``reference`` tier holds ShipStation's own schemas to the same cases."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.unit.shipstation.support import EXPORT_SCHEMA, SchemaCase, export_schema, schema_cases

CASES = schema_cases()


def test_the_schema_says_what_it_is() -> None:
    head = EXPORT_SCHEMA.read_text(encoding="utf-8")[:2000]
    assert "Dropship Router" in head and "validates every export" in head


def test_the_cases_cover_both_verdicts() -> None:
    assert sum(case.valid for case in CASES) >= 20
    assert sum(not case.valid for case in CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_verdict(case: SchemaCase) -> None:
    schema = export_schema()
    accepted = schema.validate(etree.fromstring(case.document))
    assert accepted == case.valid, f"{case.name}: expected {'valid' if case.valid else 'invalid'}\n{schema.error_log}"
