"""Reading an 856: the HL tree with several packages, without packs, with unknown segments, and
what is wrong with its items."""

from __future__ import annotations

from datetime import date

from services.gateway.x12 import (
    Segment,
    ShippedItem,
    ShippedOrder,
    ShippedPackage,
    TransactionSet,
    read_file,
    read_ship_notice,
)
from tests.unit.gateway.x12 import fixture


def only_set(name: str) -> TransactionSet:
    return read_file(fixture(name)).interchanges[0].groups[0].sets[0]


def test_a_ship_notice_with_two_packages() -> None:
    notice = read_ship_notice(only_set("ship_notice_856.x12"))
    assert (notice.shipment_number, notice.ship_date) == ("SHP-77001", date(2026, 12, 2))
    assert (notice.carrier, notice.service) == ("UPSN", "UPS GROUND")
    assert notice.errors == []
    assert notice.orders == [
        ShippedOrder(
            "1001-2",
            [
                ShippedPackage(["1Z999AA10123456784"], [ShippedItem(1, "AC-MUG", 2), ShippedItem(2, "AC-TEE", 1)]),
                ShippedPackage(["00000123450000000017", "1Z999AA10123456795"], [ShippedItem(2, "AC-TEE", 1)]),
            ],
        )
    ]


def test_unknown_segments_change_nothing() -> None:
    assert read_ship_notice(only_set("unknown_segments_856.x12")) == read_ship_notice(only_set("ship_notice_856.x12"))


def test_items_straight_under_the_order_make_one_package_with_the_shipments_tracking() -> None:
    notice = read_ship_notice(only_set("ship_notice_856_no_packs.x12"))
    assert (notice.carrier, notice.service) == ("FEDEX HOME DELIVERY", None)
    assert notice.orders == [
        ShippedOrder(
            "1002-1", [ShippedPackage(["794612345678"], [ShippedItem(1, "AC-MUG", 4), ShippedItem(2, "AC-CAP", 1)])]
        )
    ]


def test_the_tree_is_walked_by_parent_ids_through_a_tare() -> None:
    segments = [
        Segment("BSN", ("00", "S1", "20261202", "1000")),
        Segment("HL", ("1", "", "S")),
        Segment("REF", ("CN", "SHIPTRACK")),
        Segment("HL", ("2", "1", "O")),
        Segment("PRF", ("1001-2",)),
        Segment("HL", ("3", "2", "T")),
        Segment("HL", ("4", "3", "P")),
        Segment("HL", ("5", "1", "O")),
        Segment("PRF", ("1001-3",)),
        Segment("HL", ("6", "4", "I")),
        Segment("SN1", ("1", "3", "EA")),
    ]
    notice = read_ship_notice(TransactionSet("856", "0001", segments))
    assert notice.errors == []
    assert notice.orders == [
        ShippedOrder("1001-2", [ShippedPackage(["SHIPTRACK"], [ShippedItem(1, None, 3)])]),
        ShippedOrder("1001-3", []),
    ]


def test_bad_items_orphans_and_an_order_without_prf_are_errors() -> None:
    segments = [
        Segment("HL", ("1", "", "S")),
        Segment("HL", ("2", "1", "O")),
        Segment("HL", ("3", "1", "O")),
        Segment("PRF", ("1001-2",)),
        Segment("HL", ("4", "3", "I")),
        Segment("SN1", ("", "two", "EA")),
        Segment("HL", ("5", "9", "I")),
        Segment("SN1", ("", "1", "EA")),
        Segment("HL", ("6", "3", "I")),
        Segment("HL", ("6", "3", "I")),
    ]
    notice = read_ship_notice(TransactionSet("856", "0001", segments))
    assert notice.errors == [
        "no BSN: the ship notice has no shipment number",
        "HL 6 appears twice; the second is ignored",
        "order level HL 2 has no PRF01 purchase order number",
        "item HL 4: SN102 'two' is not a whole number of units",
        "item HL 5 belongs to no order",
        "item HL 6 has no SN1 quantity",
    ]
    assert notice.orders == [ShippedOrder("1001-2", [])]
