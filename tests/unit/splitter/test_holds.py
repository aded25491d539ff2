"""Order-level holds (services/splitter/routing/holds.py): order value, PO boxes, the duplicate
fingerprint, each hold code with its detail, and which codes clear by themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.splitter.routing.holds import (
    LINE_LEVEL_CODES,
    ORDER_LEVEL_CODES,
    RELEASABLE_BY_ITSELF,
    DuplicateMatch,
    duplicate_fingerprint,
    looks_like_po_box,
    order_holds,
    order_value,
    po_box_line,
)
from services.splitter.routing.model import Hold, HoldRules
from shared.contracts.orders import HOLD_CODES, Address, Customer, Discount, OrderLine, OrderReceivedData

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def make_address(**fields: Any) -> Address:
    values: dict[str, Any] = {
        "name": "Jo Müller",
        "address1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "country": "US",
    }
    return Address(**{**values, **fields})


def make_line(line_id: str = "L1", sku: str = "SKU-A", quantity: int = 1, unit_price: str = "10.00") -> OrderLine:
    return OrderLine(line_id=line_id, sku=sku, name=f"Item {sku}", quantity=quantity, unit_price=Decimal(unit_price))


def make_order(**fields: Any) -> OrderReceivedData:
    values: dict[str, Any] = {
        "order_id": "ord_1",
        "channel": "shop",
        "external_id": "5521",
        "order_number": "1001",
        "ordered_at": NOW - timedelta(hours=1),
        "currency": "USD",
        "customer": Customer(name="Jo Müller", email="jo@example.com"),
        "ship_to": make_address(),
        "lines": [make_line()],
    }
    return OrderReceivedData(**{**values, **fields})


# ------------------------------------------------------------------------------------------- order value


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, "10.00", id="one-line"),
        pytest.param(
            {"lines": [make_line("L1", quantity=2, unit_price="19.75"), make_line("L2", "SKU-B", 1, "9.50")]},
            "49.00",
            id="quantities-times-prices",
        ),
        pytest.param(
            {
                "lines": [make_line(quantity=2, unit_price="19.75"), make_line("L2", "SKU-B", 1, "9.50")],
                "tax_amount": Decimal("3.99"),
                "shipping_amount": Decimal("5.99"),
                "discounts": [Discount(code="WELCOME5", amount=Decimal("5.00"))],
            },
            "53.98",
            id="less-discounts-plus-tax-and-shipping",
        ),
        pytest.param(
            {"discounts": [Discount(code="A", amount=Decimal("2")), Discount(code="B", amount=Decimal("3.50"))]},
            "4.50",
            id="several-discounts",
        ),
    ],
)
def test_order_value(fields: dict[str, Any], expected: str) -> None:
    assert order_value(make_order(**fields)) == Decimal(expected)


# ---------------------------------------------------------------------------------------------- PO boxes


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("PO Box 12", id="po-box"),
        pytest.param("P.O. Box 12", id="p.o.-box"),
        pytest.param("P O Box 12", id="p-o-box-spaced"),
        pytest.param("P. O. Box 12", id="p.-o.-box"),
        pytest.param("p.o.box 12", id="lower-no-space"),
        pytest.param("POBox 12", id="pobox-joined"),
        pytest.param("Post Office Box 12", id="post-office-box"),
        pytest.param("POB 12", id="pob"),
        pytest.param("P.O.B. 12", id="p.o.b."),
        pytest.param("Box 12", id="box-number"),
        pytest.param("  box #12", id="box-hash-number"),
        pytest.param("Postfach 12 34 56", id="postfach-de"),
        pytest.param("Apartado 123", id="apartado-es"),
        pytest.param("Apartado de Correos 45", id="apartado-de-correos"),
        pytest.param("Apdo. 12", id="apdo"),
        pytest.param("Postbus 100", id="postbus-nl"),
        pytest.param("Caixa Postal 88", id="caixa-postal-br"),
        pytest.param("Boîte postale 7", id="boite-postale-fr"),
        pytest.param("Casilla de Correo 9", id="casilla-de-correo"),
        pytest.param("Attn: Receiving, PO Box 7", id="po-box-inside-the-line"),
    ],
)
def test_po_box_spellings_are_recognised(line: str) -> None:
    assert looks_like_po_box(make_address(address1=line))
    assert po_box_line(make_address(address2=line)) == line


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("12 Boxwood Lane", id="boxwood-lane"),
        pytest.param("Boxwood Lane 4", id="boxwood-at-start"),
        pytest.param("Box Hill Road 3", id="box-hill-road"),
        pytest.param("1 Main St", id="plain-street"),
        pytest.param("12 Post Office Road", id="post-office-road"),
        pytest.param("Postfachweg 3", id="postfach-as-part-of-a-word"),
        pytest.param("Hippo Box Company, 3 Elm St", id="hippo-box"),
        pytest.param("4 Depot Boxes Way", id="depot-boxes"),
        pytest.param("Apartamento 3B, Calle Mayor 1", id="apartamento"),
        pytest.param("Calle del Apartado 5", id="apartado-street-name"),
        pytest.param("Suite 12, The Box Factory", id="box-factory"),
        pytest.param("Poblenou 12", id="poblenou"),
    ],
)
def test_streets_that_merely_contain_box_words_are_not_po_boxes(line: str) -> None:
    assert not looks_like_po_box(make_address(address1=line, address2=line, company=line))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"address1": "PO Box 1", "address2": "Box 2"}, "PO Box 1", id="address1-first"),
        pytest.param({"address2": "P.O. Box 9"}, "P.O. Box 9", id="address2"),
        pytest.param({"company": "PO Box 5"}, "PO Box 5", id="company"),
        pytest.param({"address2": None, "company": None}, None, id="none"),
    ],
)
def test_po_box_line_names_the_line_matched(fields: dict[str, Any], expected: str | None) -> None:
    assert po_box_line(make_address(**fields)) == expected


# ---------------------------------------------------------------------------------------------- fingerprint


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"order_id": "ord_2", "order_number": "1002", "external_id": "9999"}, id="ids"),
        pytest.param({"ordered_at": NOW}, id="ordered-at"),
        pytest.param({"lines": [make_line(unit_price="99.99")]}, id="prices"),
        pytest.param({"tax_amount": Decimal("4.00"), "shipping_amount": Decimal("9.00")}, id="tax-and-shipping"),
        pytest.param({"lines": [make_line("other-line-id")]}, id="line-ids"),
        pytest.param({"customer": Customer(name="Someone Else", email="  JO@Example.COM ")}, id="email-case"),
        pytest.param(
            {
                "ship_to": make_address(
                    name="  jo   MÜLLER ", address1="1  MAIN st", city="SPRINGFIELD", country="us", postal_code="627 01"
                )
            },
            id="address-case-and-whitespace",
        ),
        pytest.param({"ship_to": make_address(phone="555-0100", state="Illinois")}, id="phone-and-state"),
        pytest.param({"status": "unpaid"}, id="status"),
    ],
)
def test_fingerprint_ignores_what_differs_between_copies_of_one_purchase(changes: dict[str, Any]) -> None:
    assert duplicate_fingerprint(make_order(**changes)) == duplicate_fingerprint(make_order())


def test_fingerprint_ignores_the_order_of_lines() -> None:
    one = make_order(lines=[make_line("L1", "SKU-A", 1), make_line("L2", "SKU-B", 3)])
    other = make_order(lines=[make_line("L9", "SKU-B", 3), make_line("L8", "SKU-A", 1)])
    assert duplicate_fingerprint(one) == duplicate_fingerprint(other)


def test_fingerprint_without_email_uses_the_normalised_name() -> None:
    one = make_order(customer=Customer(name="Jo  Müller"))
    other = make_order(customer=Customer(name=" JO MÜLLER"))
    assert duplicate_fingerprint(one) == duplicate_fingerprint(other)
    assert duplicate_fingerprint(one) != duplicate_fingerprint(make_order(customer=Customer(name="Al Smith")))


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"channel": "other-shop"}, id="channel"),
        pytest.param({"customer": Customer(name="Jo Müller", email="jo2@example.com")}, id="email"),
        pytest.param({"customer": None}, id="no-customer"),
        pytest.param({"ship_to": make_address(name="Al Smith")}, id="ship-to-name"),
        pytest.param({"ship_to": make_address(address1="2 Main St")}, id="address1"),
        pytest.param({"ship_to": make_address(address2="Apt 4")}, id="address2"),
        pytest.param({"ship_to": make_address(city="Shelbyville")}, id="city"),
        pytest.param({"ship_to": make_address(postal_code="62702")}, id="postal-code"),
        pytest.param({"ship_to": make_address(country="CA")}, id="country"),
        pytest.param({"lines": [make_line(sku="SKU-B")]}, id="sku"),
        pytest.param({"lines": [make_line(quantity=2)]}, id="quantity"),
        pytest.param({"lines": [make_line(), make_line("L2")]}, id="a-line-more"),
        pytest.param({"lines": [make_line(sku="sku-a")]}, id="sku-case"),
    ],
)
def test_fingerprint_differs_when_the_purchase_differs(changes: dict[str, Any]) -> None:
    assert duplicate_fingerprint(make_order(**changes)) != duplicate_fingerprint(make_order())


def test_fingerprint_is_a_stable_sha256_hex_digest() -> None:
    digest = duplicate_fingerprint(make_order())
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest == duplicate_fingerprint(make_order())


@given(st.text(alphabet=" \t\nABCabcÄä0", min_size=1).filter(lambda s: s.strip()))
def test_fingerprint_of_an_address_line_ignores_case_and_whitespace_runs(address1: str) -> None:
    messy = " " + "  ".join(address1.upper().split()) + "\t"
    assert duplicate_fingerprint(make_order(ship_to=make_address(address1=address1))) == duplicate_fingerprint(
        make_order(ship_to=make_address(address1=messy))
    )


# ------------------------------------------------------------------------------------------------- holds


def duplicate(minutes_ago: float, order_id: str = "ord_0") -> DuplicateMatch:
    return DuplicateMatch(order_id, "1000", "ext-77", NOW - timedelta(minutes=minutes_ago))


UNPAID = "the channel reports the order unpaid; it is routed when the channel marks it paid"
ON_HOLD = "the channel put the order on hold (for example a fraud review); it is routed when the channel lifts the hold"
PO_BOX = (
    'the ship-to "PO Box 12" looks like a PO box, which many carriers do not deliver to; '
    "correct the address, or release the order if the vendor ships there"
)
EXPENSIVE = [make_line(quantity=12, unit_price="100.00")]


@pytest.mark.parametrize(
    ("order_fields", "rules", "duplicate_of", "expected"),
    [
        pytest.param({}, HoldRules(), None, [], id="nothing"),
        pytest.param({"status": "on_hold"}, HoldRules(), None, [("channel_on_hold", ON_HOLD)], id="channel-on-hold"),
        pytest.param(
            {"status": "on_hold"},
            HoldRules(unpaid=False, duplicate_window_minutes=0),
            None,
            [("channel_on_hold", ON_HOLD)],
            id="channel-on-hold-whatever-the-rules",
        ),
        pytest.param({"status": "unpaid"}, HoldRules(), None, [("unpaid", UNPAID)], id="unpaid"),
        pytest.param({"status": "unpaid"}, HoldRules(unpaid=False), None, [], id="unpaid-allowed"),
        pytest.param({"status": "paid"}, HoldRules(), None, [], id="paid"),
        pytest.param(
            {"lines": EXPENSIVE},
            HoldRules(max_order_value=Decimal("1000")),
            None,
            [("over_value_limit", "order value 1200.00 USD is over the limit 1000.00 USD")],
            id="over-value-limit",
        ),
        pytest.param(
            {"lines": [make_line(quantity=10, unit_price="100.00")]},
            HoldRules(max_order_value=Decimal("1000.00")),
            None,
            [],
            id="at-the-value-limit",
        ),
        pytest.param(
            {"lines": EXPENSIVE, "discounts": [Discount(code="BIG", amount=Decimal("250"))]},
            HoldRules(max_order_value=Decimal("1000")),
            None,
            [],
            id="under-the-limit-after-discount",
        ),
        pytest.param({"lines": EXPENSIVE}, HoldRules(max_order_value=None), None, [], id="no-value-limit"),
        pytest.param(
            {"ship_to": make_address(address1="PO Box 12")},
            HoldRules(po_box=True),
            None,
            [("po_box", PO_BOX)],
            id="po-box",
        ),
        pytest.param({"ship_to": make_address(address1="PO Box 12")}, HoldRules(), None, [], id="po-box-allowed"),
        pytest.param(
            {},
            HoldRules(),
            duplicate(12),
            [
                (
                    "duplicate",
                    "same customer, ship-to and lines as order 1000 (external id ext-77), received 12 minutes ago",
                )
            ],
            id="duplicate",
        ),
        pytest.param(
            {},
            HoldRules(),
            duplicate(1.5),
            [
                (
                    "duplicate",
                    "same customer, ship-to and lines as order 1000 (external id ext-77), received 1 minute ago",
                )
            ],
            id="duplicate-one-minute",
        ),
        pytest.param(
            {},
            HoldRules(),
            duplicate(-0.2),
            [
                (
                    "duplicate",
                    "same customer, ship-to and lines as order 1000 (external id ext-77), "
                    "received less than a minute ago",
                )
            ],
            id="duplicate-stamped-after-now",
        ),
        pytest.param(
            {},
            HoldRules(duplicate_window_minutes=60),
            duplicate(60),
            [
                (
                    "duplicate",
                    "same customer, ship-to and lines as order 1000 (external id ext-77), received 60 minutes ago",
                )
            ],
            id="duplicate-at-the-window-edge",
        ),
        pytest.param({}, HoldRules(duplicate_window_minutes=60), duplicate(61), [], id="duplicate-outside-window"),
        pytest.param({}, HoldRules(duplicate_window_minutes=0), duplicate(1), [], id="duplicate-check-off"),
        pytest.param({}, HoldRules(), duplicate(1, order_id="ord_1"), [], id="the-order-itself"),
    ],
)
def test_each_hold_and_its_detail(
    order_fields: dict[str, Any],
    rules: HoldRules,
    duplicate_of: DuplicateMatch | None,
    expected: list[tuple[str, str]],
) -> None:
    holds = order_holds(make_order(**order_fields), rules, now=NOW, duplicate_of=duplicate_of)
    assert [(hold.code, hold.detail) for hold in holds] == expected
    assert all(hold.line_id is None for hold in holds)


def test_every_hold_at_once_comes_in_a_fixed_order() -> None:
    order = make_order(status="on_hold", lines=EXPENSIVE, ship_to=make_address(address2="Postfach 1"))
    rules = HoldRules(max_order_value=Decimal("1000"), po_box=True)
    holds = order_holds(order, rules, now=NOW, duplicate_of=duplicate(5))
    assert [hold.code for hold in holds] == ["channel_on_hold", "over_value_limit", "po_box", "duplicate"]
    unpaid = order_holds(order.model_copy(update={"status": "unpaid"}), rules, now=NOW, duplicate_of=duplicate(5))
    assert [hold.code for hold in unpaid] == ["unpaid", "over_value_limit", "po_box", "duplicate"]
    assert unpaid[2] == Hold(
        "po_box",
        'the ship-to "Postfach 1" looks like a PO box, which many carriers do not deliver to; '
        "correct the address, or release the order if the vendor ships there",
    )


def test_value_limit_uses_the_orders_currency() -> None:
    order = make_order(currency="EUR", lines=[make_line(unit_price="1000.00")])
    (hold,) = order_holds(order, HoldRules(max_order_value=Decimal("999.5")), now=NOW)
    assert hold.detail == "order value 1000.00 EUR is over the limit 999.50 EUR"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: order_holds(make_order(), HoldRules(), now=datetime(2026, 1, 1)), id="naive-now"),  # noqa: DTZ001
        pytest.param(lambda: DuplicateMatch("o", "1", "e", datetime(2026, 1, 1)), id="naive-received-at"),  # noqa: DTZ001
    ],
)
def test_naive_times_are_refused(call: Any) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


# ----------------------------------------------------------------------------------------------- code sets


def test_code_sets_split_every_hold_code_between_order_and_line() -> None:
    assert set(HOLD_CODES) == ORDER_LEVEL_CODES | LINE_LEVEL_CODES
    assert not ORDER_LEVEL_CODES & LINE_LEVEL_CODES


@pytest.mark.parametrize(
    ("code", "releasable"),
    [
        pytest.param("unmapped_sku", True, id="unmapped_sku"),
        pytest.param("no_stock", True, id="no_stock"),
        pytest.param("no_vendor_for_country", True, id="no_vendor_for_country"),
        pytest.param("unpaid", True, id="unpaid"),
        pytest.param("channel_on_hold", True, id="channel_on_hold"),
        pytest.param("over_value_limit", False, id="over_value_limit"),
        pytest.param("po_box", False, id="po_box"),
        pytest.param("duplicate", False, id="duplicate"),
        pytest.param("vendor_rejected", False, id="vendor_rejected"),
        pytest.param("ack_overdue", False, id="ack_overdue"),
    ],
)
def test_which_holds_release_by_themselves(code: str, releasable: bool) -> None:
    assert (code in RELEASABLE_BY_ITSELF) is releasable
