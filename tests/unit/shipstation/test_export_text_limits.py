"""Channels send text as their stores hold it (docs/architecture.md, intake): the export fits it to
ShipStation's field limits and the page still passes the export schema."""

from __future__ import annotations

from lxml import etree

from services.shipstation.export_rules import ITEM_NAME_LIMIT, NAME_LIMIT, NOTES_LIMIT
from services.shipstation.xml_export import DEFAULT_STATUS_NAMES, render_export_page
from tests.unit.shipstation.support import CHICAGO, assert_valid, exportable, vendor_order

NOTE = "Leave at the door\x00\x07 please 🎁\x1b👍🏽 thanks\x0b"


def test_long_names_and_a_noisy_note_are_fitted_to_shipstations_limits(custom_store_schema: etree.XMLSchema) -> None:
    order = vendor_order(lines__0__name="N" * 500, ship_to__name="S" * 300, customer_notes=NOTE)

    body, rejected = render_export_page([exportable(order)], pages=1, zone=CHICAGO, status_names=DEFAULT_STATUS_NAMES)
    page = etree.fromstring(body)

    assert rejected == []
    assert page.findtext("Order/Items/Item/Name") == "N" * ITEM_NAME_LIMIT == "N" * 200
    assert page.findtext("Order/Customer/ShipTo/Name") == "S" * NAME_LIMIT
    assert page.findtext("Order/Customer/BillTo/Name") == "S" * NAME_LIMIT  # the ship-to name stands in
    notes = page.findtext("Order/CustomerNotes")
    assert notes == "Leave at the door please 🎁👍🏽 thanks"
    assert notes is not None and len(notes) <= NOTES_LIMIT
    assert_valid(custom_store_schema, page)


def test_a_note_over_the_limit_is_cut_by_characters_without_splitting_an_emoji(
    custom_store_schema: etree.XMLSchema,
) -> None:
    order = vendor_order(customer_notes="a" * (NOTES_LIMIT - 1) + "👍🏽 and more")

    body, _ = render_export_page([exportable(order)], pages=1, zone=CHICAGO, status_names=DEFAULT_STATUS_NAMES)
    page = etree.fromstring(body)

    assert page.findtext("Order/CustomerNotes") == "a" * (NOTES_LIMIT - 1)
    assert_valid(custom_store_schema, page)
