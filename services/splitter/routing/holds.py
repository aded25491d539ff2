"""The order-level hold rules: what keeps a whole order back before any line is routed.

A channel's own hold and an unpaid order wait for the channel; an order over the merchant's value
limit, shipping to a PO box, or looking like a repeat of a recent order waits for a person. Line-level
holds (unmapped SKU, no stock, no vendor for the country, every vendor rejected, acknowledgement
overdue) come from routing itself; the code sets below say which holds clear by themselves.

Every detail is a sentence a person can act on: the rule, the numbers it used and what releases it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from services.splitter.routing.model import Hold, HoldRules
from shared.contracts.orders import Address, HoldCode, OrderReceivedData

CENT = Decimal("0.01")

ORDER_LEVEL_CODES: frozenset[HoldCode] = frozenset(
    {"channel_on_hold", "unpaid", "over_value_limit", "po_box", "duplicate"}
)
"""Holds that concern the whole order (``line_id`` none): decided by :func:`order_holds` from the order
and the merchant's rules, before routing looks at any line."""

LINE_LEVEL_CODES: frozenset[HoldCode] = frozenset(
    {"unmapped_sku", "no_stock", "no_vendor_for_country", "vendor_rejected", "ack_overdue"}
)
"""Holds that concern one line (``line_id`` set): routing found no source for it, or every vendor
tried for it refused or never answered."""

RELEASABLE_BY_ITSELF: frozenset[HoldCode] = frozenset(
    {"unmapped_sku", "no_stock", "no_vendor_for_country", "unpaid", "channel_on_hold"}
)
"""Holds whose cause can go away without anyone deciding anything, so routing them again is enough: a
catalog update maps the SKU, a feed brings stock, a vendor is added for the country, the channel marks
the order paid or lifts its own hold. The others need a person's judgement and stay until released:
a value limit, a PO box and a suspected duplicate are checks the merchant asked for, and a vendor that
rejected or never acknowledged a line has already been tried (rerouting again would repeat it)."""


def order_value(order: OrderReceivedData) -> Decimal:
    """What the customer pays: the lines at their unit prices, less discounts, plus tax and shipping."""
    subtotal = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0"))
    discounts = sum((discount.amount for discount in order.discounts), Decimal("0"))
    return subtotal - discounts + order.tax_amount + order.shipping_amount


# Each spelling is anchored so a street that merely starts with the word is not taken for a box:
# "Box 12" is a box, "Boxwood Lane" and "Box Hill Road" are streets.
_PO_BOX_PATTERNS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\bp\s*\.?\s*o\s*\.?\s*box\b",  # PO Box, P.O. Box, P O Box, P. O. Box, POBox
        r"\bpost\s*office\s+box\b",
        r"^\s*p\s*\.?\s*o\s*\.?\s*b\b\.?\s*#?\s*\d",  # POB 12, P.O.B. 12
        r"^\s*box\s*#?\s*\d",  # Box 12, Box #12 (Scandinavian addresses write a PO box this way)
        r"\bpostfach\b",  # DE, AT, CH
        r"\bpostbus\b",  # NL
        r"^\s*apartado\b",  # ES: Apartado 123, Apartado de Correos 123, Apartado Postal 45
        r"^\s*apdo\s*\.?\s*\d",  # its abbreviation: Apdo. 12
        r"\bcaixa\s+postal\b",  # BR, PT
        r"\bbo[iî]te\s+postale\b",  # FR, BE
        r"\bcasilla\s+de\s+correos?\b",  # AR, CL
    )
)


def po_box_line(address: Address) -> str | None:
    """The first of address1, address2 and company (in that order) that reads like a PO box."""
    for text in (address.address1, address.address2, address.company):
        if text and any(pattern.search(text) for pattern in _PO_BOX_PATTERNS):
            return text
    return None


def looks_like_po_box(address: Address) -> bool:
    return po_box_line(address) is not None


def _normalised(text: str | None) -> str:
    """Case and runs of whitespace say nothing about who or where: "JO  Müller " is "jo müller"."""
    return " ".join((text or "").casefold().split())


def duplicate_fingerprint(order: OrderReceivedData) -> str:
    """A digest of what makes two orders the same purchase: channel, customer, ship-to and lines.

    Order number, external id, time and prices are left out on purpose: a channel that resends an
    order under a new id, or a customer who clicks twice, gives different values there. The customer
    is the e-mail when there is one (addresses are not case-sensitive in practice), else the name.
    Lines are a sorted multiset of (sku, quantity), so their order does not matter.
    """
    customer = order.customer
    email = (customer.email or "").strip().lower() if customer else ""
    who = f"email:{email}" if email else f"name:{_normalised(customer.name if customer else None)}"
    ship_to = order.ship_to
    where = [
        _normalised(ship_to.name),
        _normalised(ship_to.address1),
        _normalised(ship_to.address2),
        _normalised(ship_to.city),
        "".join(ship_to.postal_code.casefold().split()),
        _normalised(ship_to.country),
    ]
    lines = sorted([line.sku, line.quantity] for line in order.lines)
    canonical = json.dumps(["v1", order.channel, who, where, lines], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DuplicateMatch:
    """An earlier order with the same fingerprint, as the caller found it."""

    order_id: str
    order_number: str
    external_id: str
    received_at: datetime

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def _minutes_ago(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute ago"
    return "1 minute ago" if minutes == 1 else f"{minutes} minutes ago"


def _duplicate_hold(
    order: OrderReceivedData, rules: HoldRules, now: datetime, duplicate_of: DuplicateMatch | None
) -> Hold | None:
    # An order re-evaluated later (its status changed) finds itself: that is no duplicate.
    if rules.duplicate_window_minutes <= 0 or duplicate_of is None or duplicate_of.order_id == order.order_id:
        return None
    # A match stamped a little after ``now`` (clocks of two hosts) is as recent as can be.
    age = max(now - duplicate_of.received_at, timedelta(0))
    if age > timedelta(minutes=rules.duplicate_window_minutes):
        return None
    return Hold(
        "duplicate",
        f"same customer, ship-to and lines as order {duplicate_of.order_number} "
        f"(external id {duplicate_of.external_id}), received {_minutes_ago(age)}",
    )


def order_holds(
    order: OrderReceivedData, rules: HoldRules, *, now: datetime, duplicate_of: DuplicateMatch | None = None
) -> tuple[Hold, ...]:
    """Every order-level hold that applies now, in a fixed order (the channel's first, then payment,
    value, address, duplicate), so the same order always gets the same list.

    ``duplicate_of`` is the most recent earlier order with the same :func:`duplicate_fingerprint`, if
    the caller found one; it holds this order when it arrived within the merchant's window before
    ``now``. ``channel_on_hold`` always applies: the channel asked for it, no setting turns it off.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    holds: list[Hold] = []
    if order.status == "on_hold":
        holds.append(
            Hold(
                "channel_on_hold",
                "the channel put the order on hold (for example a fraud review); "
                "it is routed when the channel lifts the hold",
            )
        )
    if order.status == "unpaid" and rules.unpaid:
        holds.append(
            Hold("unpaid", "the channel reports the order unpaid; it is routed when the channel marks it paid")
        )
    value = order_value(order)
    if rules.max_order_value is not None and value > rules.max_order_value:
        holds.append(
            Hold(
                "over_value_limit",
                f"order value {_money(value)} {order.currency} is over the limit "
                f"{_money(rules.max_order_value)} {order.currency}",
            )
        )
    box_line = po_box_line(order.ship_to) if rules.po_box else None
    if box_line is not None:
        holds.append(
            Hold(
                "po_box",
                f'the ship-to "{box_line}" looks like a PO box, which many carriers do not deliver to; '
                "correct the address, or release the order if the vendor ships there",
            )
        )
    duplicate = _duplicate_hold(order, rules, now, duplicate_of)
    if duplicate is not None:
        holds.append(duplicate)
    return tuple(holds)
