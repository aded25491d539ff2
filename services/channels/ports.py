"""The channels service's small interfaces: what a platform webhook means (:class:`InboundDecision`,
decided by each platform's pure ``orders`` module), and what the core asks of a platform's API
(:class:`Platform`: register webhooks, list changed orders, push a shipment, set stock).

Platforms live in ``services/channels/shopify/`` and ``services/channels/woocommerce/``: pure mapping
and planning modules (no I/O) and one ``client`` module each, the only code that talks to the platform.
Use cases take these interfaces, so tests give them the fakes in ``tests/fakes/`` or stand-ins alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

PlatformName = Literal["shopify", "woocommerce"]
ChannelStatus = Literal["paid", "unpaid", "on_hold"]
DecisionKind = Literal["upsert", "cancel", "ignore", "skip"]


@dataclass(frozen=True)
class ShopConfig:
    """One shop as a platform client sees it (secrets already opened)."""

    code: str
    platform: PlatformName
    base_url: str
    """Where the platform's API lives, without a trailing slash (``https://acme.myshopify.com``)."""
    secrets: Mapping[str, str]
    """Shopify: ``access_token``; WooCommerce: ``consumer_key``, ``consumer_secret``. Both: ``webhook_secret``."""
    api_version: str | None = None
    """Shopify's Admin API version (``2026-10``); WooCommerce: none."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Per-shop settings: ``tracking_url_templates`` ({carrier: "https://…{number}"}), ``location_id``
    (Shopify: the location whose stock is set; default the shop's first active location)."""


@dataclass(frozen=True)
class InboundDecision:
    """What one platform webhook (or a reconciled order) asks of intake. Decided without I/O.

    ``fingerprint`` summarises what the connector acts on (payment status, cancellation, ship-to); an
    ``orders/updated`` whose fingerprint equals the last one recorded for the order changes nothing we
    act on (our own fulfillment written back, a tag edited) and is ignored, so our writes never loop.
    """

    kind: DecisionKind
    platform_order_id: str
    reason: str = ""
    """Why: ``skip``/``ignore`` say it to a person ("no line requires shipping"); ``cancel`` is passed to intake."""
    order: dict[str, Any] | None = None
    """``upsert``: the ``POST /v1/orders`` body without ``channel`` (the core adds the shop's channel)."""
    channel_status: ChannelStatus | None = None
    """``upsert``: the platform's payment/review status as intake names it."""
    fingerprint: str = ""
    updated_at: datetime | None = None
    """The platform's ``updated_at`` of the order (UTC): the reconciler's cursor."""
    items: Sequence[PlatformItem] = ()
    """SKU ↔ platform item ids seen on the order's lines (remembered for stock pushes)."""


@dataclass(frozen=True)
class PlatformItem:
    """Where one SKU's stock lives on the platform."""

    sku: str
    item_id: str
    """Shopify: the variant id (numeric); WooCommerce: the product id, or the variation id."""
    parent_id: str | None = None
    """WooCommerce: the parent product of a variation; otherwise none."""


@dataclass(frozen=True)
class ShippedLine:
    line_id: str
    """The platform's line item id (intake's ``line_id`` is the platform's, see the mapping)."""
    quantity: int


@dataclass(frozen=True)
class PushedShipment:
    """A shipment of this order already pushed: what the platform answered then."""

    shipment_id: str
    vendor: str
    remote_id: str
    """Shopify: the fulfillment's gid; WooCommerce: the order note id."""
    tracking_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShipmentPush:
    """One shipment to tell the platform about."""

    shipment_id: str
    platform_order_id: str
    order_number: str
    vendor: str
    carrier: str | None
    service: str | None
    tracking_number: str | None
    ship_date: date | None
    notify_customer: bool
    lines: tuple[ShippedLine, ...]
    """Empty: a further box of lines already shipped (its tracking number joins that fulfillment)."""
    order_shipped: bool
    """Every line of the order has shipped now (WooCommerce: set ``completed``)."""
    earlier: tuple[PushedShipment, ...] = ()
    """What was pushed for this order before (recorded by the core), newest last."""


@dataclass(frozen=True)
class PushOutcome:
    remote_id: str
    tracking_numbers: tuple[str, ...] = ()
    detail: str = ""
    """For a person: "fulfillment gid://shopify/Fulfillment/5 created", "already there (found after a restart)"."""


@dataclass(frozen=True)
class StockPush:
    sku: str
    available: int


@dataclass(frozen=True)
class StockOutcome:
    updated: tuple[str, ...]
    """SKUs whose quantity the platform now has."""
    unknown: tuple[str, ...] = ()
    """SKUs the shop does not sell (no product or variant with that SKU): nothing to set."""


@dataclass(frozen=True)
class ChangedOrder:
    """An order the platform reports changed since the reconciler's cursor, shaped as its webhook."""

    topic: str
    """``orders/updated`` (Shopify) or ``order.updated`` (WooCommerce)."""
    payload: dict[str, Any]


class PlatformError(Exception):
    """A call that did not do what was asked. ``retryable``: worth trying later (network, 5xx,
    throttled); not: no retry can help (401/403, a 404 order, a ``userErrors`` that says the input is
    wrong). ``retry_after``: the platform said when to come back (seconds)."""

    def __init__(
        self, message: str, *, retryable: bool = True, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


class Platform(Protocol):
    """One shop's API. Every method raises :class:`PlatformError`; each logs its calls (method, path,
    status, duration), never a token."""

    async def register_webhooks(self, callback_url: str) -> list[str]:
        """Subscribe the shop's order webhooks to ``callback_url``; answers the topics subscribed.
        Idempotent: a topic already subscribed to that URL is left as it is."""
        ...

    def orders_changed_since(self, since: datetime | None) -> AsyncIterator[ChangedOrder]:
        """Every order updated at or after ``since`` (all recent ones when none), oldest first, paged."""
        ...

    async def push_shipment(self, push: ShipmentPush) -> PushOutcome:
        """Tell the platform the shipment left. Idempotent across crashes: the order's fulfillments (or
        notes and trackings) are read first and a shipment already there is answered, not sent again."""
        ...

    async def set_stock(self, levels: Sequence[StockPush]) -> StockOutcome:
        """Set what the shop may sell of each SKU, batched as the platform allows."""
        ...

    async def close(self) -> None: ...
