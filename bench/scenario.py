"""The merchant the benchmark plays: one channel (with a real webhook receiver on loopback), two
ShipStation vendors that share every order (3 lines: 2 for one vendor, 1 for the other), a third
ShipStation vendor holding the export's 100,000 stored orders, two vendors the gateway delivers to (a
webhook vendor and an SFTP vendor, sharing the orders of the gateway section: 1 line each), and the
catalog that routes them."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
from aiohttp import web

from services.intake.domain import OrderRequest, new_order_id, to_order_received
from shared.contracts.orders import OrderReceived
from shared.processes import free_port

SKUS_PER_VENDOR = 20
FIRST_NAMES = ("Jo", "Sam", "Alex", "Kim", "Lee", "Ana", "Max", "Eva", "Noah", "Mia")
LAST_NAMES = ("Müller", "Smith", "García", "Nguyen", "Okafor", "Kowalski", "Rossi", "Dubois")
CITIES = (("Springfield", "IL", "62701"), ("Austin", "TX", "73301"), ("Portland", "OR", "97201"))


@dataclass(frozen=True)
class Line:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class PlannedOrder:
    """One order the bench will send: its body, and what it expects to find downstream."""

    number: str
    body: bytes
    lines_by_vendor: dict[str, tuple[Line, ...]]


@dataclass
class Merchant:
    run_id: str
    channel: str
    vendor_a: str
    vendor_b: str
    vendor_bulk: str
    vendor_hook: str
    vendor_sftp: str
    channel_key: str = ""
    webhook_secret: str = ""
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)
    _counter: int = 0

    @classmethod
    def for_run(cls, run_id: str) -> Merchant:
        return cls(
            run_id=run_id,
            channel=f"bench-shop-{run_id}",
            vendor_a=f"bench-east-{run_id}",
            vendor_b=f"bench-west-{run_id}",
            vendor_bulk=f"bench-bulk-{run_id}",
            vendor_hook=f"bench-hook-{run_id}",
            vendor_sftp=f"bench-sftp-{run_id}",
        )

    @property
    def shipstation_vendors(self) -> list[str]:
        return [self.vendor_a, self.vendor_b, self.vendor_bulk]

    @property
    def gateway_vendors(self) -> list[str]:
        return [self.vendor_hook, self.vendor_sftp]

    @property
    def vendors(self) -> list[str]:
        return [*self.shipstation_vendors, *self.gateway_vendors]

    def sku(self, vendor: str, index: int) -> str:
        prefix = {self.vendor_a: "EAST", self.vendor_hook: "HOOK", self.vendor_sftp: "FILE"}.get(vendor, "WEST")
        return f"{prefix}-{self.run_id}-{index:03d}"

    def order_dict(
        self, number: str, rng: random.Random, gateway: bool = False
    ) -> tuple[dict[str, Any], dict[str, tuple[Line, ...]]]:
        """A realistic channel order (every optional field the contract carries): 2 lines for
        vendor A, 1 for vendor B; or, with ``gateway``, 1 line for each vendor the gateway serves."""
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        email = f"{first.lower()}.{number.lower()}@example.com"
        city, state, postal = rng.choice(CITIES)
        a_skus = rng.sample(range(SKUS_PER_VENDOR), 2)
        picks = [
            (self.vendor_a, a_skus[0]),
            (self.vendor_a, a_skus[1]),
            (self.vendor_b, rng.randrange(SKUS_PER_VENDOR)),
        ]
        if gateway:
            picks = [(vendor, rng.randrange(SKUS_PER_VENDOR)) for vendor in self.gateway_vendors]
        lines: list[dict[str, Any]] = []
        by_vendor: dict[str, list[Line]] = {vendor: [] for vendor, _ in picks}
        for position, (vendor, sku_index) in enumerate(picks, start=1):
            sku, quantity = self.sku(vendor, sku_index), rng.randint(1, 3)
            line_id = f"L{position}"
            lines.append(
                {
                    "line_id": line_id,
                    "sku": sku,
                    "name": f"Item {sku_index} ({'red' if sku_index % 2 else 'blue'})",
                    "quantity": quantity,
                    "unit_price": f"{rng.randint(500, 9900) / 100:.2f}",
                    "weight": f"{rng.randint(100, 2000) / 100:.2f}",
                    "weight_unit": "ounces",
                    "image_url": f"https://cdn.example.com/{sku.lower()}.jpg",
                    "options": [{"name": "Color", "value": "Red"}, {"name": "Size", "value": "M"}],
                    "location": f"A-{sku_index:02d}-3",
                    "upc": f"0123456{sku_index:05d}",
                }
            )
            by_vendor[vendor].append(Line(line_id, sku, quantity))
        address = {
            "name": name,
            "company": "Acme & Sons",
            "address1": f"{rng.randint(1, 999)} Main St",
            "address2": "Apt 4",
            "city": city,
            "state": state,
            "postal_code": postal,
            "country": "US",
            "phone": "+1 555 0100",
        }
        order = {
            "channel": self.channel,
            "external_id": f"ext-{number}",
            "order_number": number,
            "ordered_at": "2026-11-26T23:41:00-06:00",
            "status": "paid",
            "currency": "USD",
            "customer": {"name": name, "email": email, "phone": "+1 555 0100"},
            "bill_to": {"name": name, "company": None, "phone": "+1 555 0100", "email": email},
            "ship_to": address,
            "shipping_method": "UPS Ground",
            "payment_method": "Credit Card",
            "tax_amount": "3.99",
            "shipping_amount": "5.99",
            "discounts": [{"code": "WELCOME5", "amount": "5.00"}],
            "gift": True,
            "gift_message": f"Happy birthday, {first}!",
            "customer_notes": "Leave at the back door",
            "internal_notes": "Fraud check passed",
            "lines": lines,
        }
        return order, {vendor: tuple(found) for vendor, found in by_vendor.items()}

    def planner(self, seed: int, gateway: bool = False) -> Callable[[], PlannedOrder]:
        """Makes the next order each call: unique numbers for the whole run (``gateway``: orders for
        the vendors the gateway serves)."""
        rng = random.Random(seed)  # noqa: S311 - test data, not crypto

        def plan() -> PlannedOrder:
            self._counter += 1
            number = f"{'G' if gateway else 'B'}{self.run_id}-{self._counter:07d}"
            order, by_vendor = self.order_dict(number, rng, gateway)
            return PlannedOrder(number, json.dumps(order, ensure_ascii=False).encode(), by_vendor)

        return plan

    def order_event_bytes(self) -> bytes:
        """An ``order.received`` message for one such order, exactly as intake publishes it."""
        order, _ = self.order_dict(f"B{self.run_id}-SIZE", random.Random(0))  # noqa: S311
        request = OrderRequest.model_validate(json.loads(json.dumps(order), parse_float=Decimal))
        data = to_order_received(new_order_id(), request)
        return OrderReceived(correlation_id=data.order_id, data=data).model_dump_json().encode()


@dataclass
class WebhookReceiver:
    """The sales channel's webhook endpoint: a real aiohttp server on loopback that notes when each
    shipment's update arrived (by tracking number)."""

    arrivals: dict[str, float] = field(default_factory=dict)
    received: int = 0
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = time.monotonic()
        self.received += 1
        shipment = body.get("shipment") or {}
        tracking = shipment.get("tracking_number")
        if tracking and tracking not in self.arrivals:
            self.arrivals[tracking] = now
        return web.Response(status=204)

    async def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/webhooks", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def call(session: aiohttp.ClientSession, method: str, url: str, token: str, body: Any = None) -> dict[str, Any]:
    async with session.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
        answer: dict[str, Any] = await response.json()
        if not 200 <= response.status < 300:
            raise RuntimeError(f"{method} {url} answered {response.status}: {answer}")
        return answer


async def set_up(
    session: aiohttp.ClientSession,
    urls: dict[str, str],
    admin_token: str,
    merchant: Merchant,
    webhook_url: str,
    *,
    untracked_stock: bool = False,
) -> None:
    """Through the admin API, as an operator would: channel, vendors, ShipStation credentials, catalog.

    ``untracked_stock``: the sources' stock is not tracked, so routing sums no reservations (the sum
    over every open line of a SKU grows with the orders of a run; this takes it off the hot path to
    measure the rest)."""
    stock = None if untracked_stock else 1_000_000
    created = await call(
        session,
        "PUT",
        f"{urls['intake']}/v1/channels/{merchant.channel}",
        admin_token,
        {"name": "Bench shop", "webhook_url": webhook_url},
    )
    merchant.channel_key, merchant.webhook_secret = created["api_key"], created["webhook_secret"]
    for vendor in merchant.shipstation_vendors:
        await call(
            session,
            "PUT",
            f"{urls['splitter']}/v1/vendors/{vendor}",
            admin_token,
            {"name": vendor, "kind": "shipstation"},
        )
        issued = await call(session, "POST", f"{urls['shipstation']}/v1/shipstation/{vendor}/credentials", admin_token)
        merchant.credentials[vendor] = (issued["username"], issued["password"])
    for vendor in (merchant.vendor_a, merchant.vendor_b):
        for index in range(SKUS_PER_VENDOR):
            sku = merchant.sku(vendor, index)
            source = {"vendor": vendor, "vendor_sku": f"V-{sku}", "cost": "7.10", "stock": stock, "priority": 1}
            await call(
                session,
                "PUT",
                f"{urls['splitter']}/v1/catalog/{sku}",
                admin_token,
                {"name": f"Item {index}", "sources": [source]},
            )
