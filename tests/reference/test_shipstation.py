"""The project's ShipStation schema and examples against the reference folder's: our strict schema
gives the same verdict as the reference's on every case, our exports pass ShipStation's published
schema, and the reference examples are documents our code reads and accepts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from services.shipstation.shipnotice import parse_ship_notice
from services.shipstation.xml_export import DEFAULT_STATUS_NAMES, render_export_page
from tests.reference.support import without_undocumented_elements
from tests.unit.shipstation.support import (
    CHICAGO,
    EXAMPLES_DIR,
    SchemaCase,
    assert_valid,
    export_schema,
    exportable,
    minimal_order_fields,
    rich_order_fields,
    schema_cases,
    vendor_order,
)

pytestmark = pytest.mark.reference

QUERY = {"action": "shipnotify", "order_number": "1001-1", "carrier": "UPS", "service": ""}


@pytest.mark.parametrize("case", schema_cases(), ids=lambda case: case.name)
def test_strict_schemas_agree(case: SchemaCase, reference_strict_schema: etree.XMLSchema) -> None:
    document = etree.fromstring(case.document)
    ours, theirs = export_schema().validate(document), reference_strict_schema.validate(document)
    assert ours == theirs == case.valid, (
        f"{case.name}: ours {'accepts' if ours else 'refuses'}, the reference "
        f"{'accepts' if theirs else 'refuses'}, expected {'valid' if case.valid else 'invalid'}\n"
        f"{reference_strict_schema.error_log}"
    )


def _rendered_pages() -> dict[str, bytes]:
    pages = {"example page": (EXAMPLES_DIR / "export-page.xml").read_bytes()}
    for label, fields in (("rich", rich_order_fields()), ("minimal", minimal_order_fields())):
        for zone in (CHICAGO, ZoneInfo("UTC")):
            body, rejected = render_export_page(
                [exportable(vendor_order(fields))], pages=1, zone=zone, status_names=DEFAULT_STATUS_NAMES
            )
            assert rejected == []
            pages[f"{label} order in {zone.key}"] = body
    pages["empty page"], _ = render_export_page([], pages=0, zone=CHICAGO, status_names=DEFAULT_STATUS_NAMES)
    return pages


@pytest.mark.parametrize("body", [pytest.param(body, id=name) for name, body in sorted(_rendered_pages().items())])
def test_exports_pass_shipstations_published_schema(body: bytes, published_schema: etree.XMLSchema) -> None:
    assert_valid(export_schema(), etree.fromstring(body))
    assert_valid(published_schema, without_undocumented_elements(body))


def test_the_reference_export_page_passes_our_schema_and_adds_up(reference_examples: Path) -> None:
    root = etree.fromstring((reference_examples / "export-page.xml").read_bytes())

    assert_valid(export_schema(), root)
    orders = root.findall("Order")
    assert orders
    for order in orders:
        items = sum(
            (
                Decimal(item.findtext("UnitPrice") or "") * int(item.findtext("Quantity") or "")
                for item in order.iterfind("Items/Item")
            ),
            Decimal("0"),
        )
        charges = Decimal(order.findtext("ShippingAmount") or "") + Decimal(order.findtext("TaxAmount") or "0")
        assert items + charges == Decimal(order.findtext("OrderTotal") or ""), order.findtext("OrderID")


def test_the_reference_ship_notice_reads_as_ours_does(reference_examples: Path) -> None:
    theirs = parse_ship_notice((reference_examples / "shipnotice-partial.xml").read_bytes(), QUERY, CHICAGO)
    ours = parse_ship_notice((EXAMPLES_DIR / "shipnotice-partial.xml").read_bytes(), QUERY, CHICAGO)

    assert theirs.items and theirs.tracking_number
    assert theirs == ours
