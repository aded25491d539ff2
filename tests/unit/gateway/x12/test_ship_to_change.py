"""A new ship-to as an 860 change order: BCH01 04, the new ship-to party, no line changes; read back by our
reader, checked by our group rules and by pyx12's envelope check."""

from __future__ import annotations

import pytest

from services.gateway.x12 import ControlNumbers, PoNumberTooLong, Segment, check_group, read_file, render_ship_to_change
from shared.contracts.orders import Address
from tests.unit.gateway.x12 import NOW, NUMBERS, envelope_errors, make_order, partner

MOVED = Address(
    name="Jo Müller", company="Acme GmbH", address1="9 Other Street", address2="Unit 4", city="Springfield",
    state="IL", postal_code="62704", country="US",
)  # fmt: skip


def test_the_860_carries_bch_04_and_the_new_ship_to_party_only() -> None:
    content = render_ship_to_change(make_order(), MOVED, partner(cancel_as="860"), NUMBERS, NOW)
    assert b"GS*PC*" in content and b"ST*860*0001~" in content
    (interchange,) = read_file(content).interchanges
    (group,) = interchange.groups
    (transaction,) = group.sets
    segments = transaction.segments
    assert segments[0] == Segment("BCH", ("04", "DS", "1001-2", "", "", "20261127"))
    (n1,) = [s for s in segments if s.id == "N1"]
    assert n1.element(1) == "ST" and n1.element(2).upper() == "JO MULLER"
    assert next(s for s in segments if s.id == "N2").element(1).upper() == "ACME GMBH"
    n3 = next(s for s in segments if s.id == "N3")
    n4 = next(s for s in segments if s.id == "N4")
    assert n3.element(1).upper() == "9 OTHER STREET" and n3.element(2).upper() == "UNIT 4"
    assert (n4.element(2), n4.element(3), n4.element(4)) == ("IL", "62704", "US")
    assert not any(s.id in ("POC", "PO1", "CTT") for s in segments)
    checked = check_group(group)
    assert checked.status == "A" and [result.status for result in checked.sets] == ["A"]
    assert envelope_errors(content) == []


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_the_same_numbers_give_the_same_bytes(version: str) -> None:
    settings = partner(cancel_as="860", version=version)
    first = render_ship_to_change(make_order(), MOVED, settings, ControlNumbers(7, 7, 1), NOW)
    assert first == render_ship_to_change(make_order(), MOVED, settings, ControlNumbers(7, 7, 1), NOW)
    assert envelope_errors(first) == []


def test_a_po_number_over_22_characters_is_refused() -> None:
    with pytest.raises(PoNumberTooLong):
        render_ship_to_change(make_order(vendor_order_number="X" * 23), MOVED, partner(), NUMBERS, NOW)
