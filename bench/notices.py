"""Ship notices: ShipStation's ``shipnotify`` posts at a fixed rate (open loop) for orders that went
through the whole flow, and the time from each notice to the channel's signed webhook arriving at a
real receiver on loopback (adapter → tracking → intake → channel)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import aiohttp

from bench.export import basic_auth
from bench.machine import UsageMeter
from bench.orders import OrderSample
from bench.scenario import Merchant, WebhookReceiver
from bench.stats import summary
from bench.system import BenchSystem


@dataclass
class NoticeSample:
    tracking_number: str
    scheduled: float
    status: int | None = None
    answered: float | None = None
    error: str | None = None


def notice_body(order: OrderSample, vendor: str, tracking_number: str) -> tuple[str, bytes]:
    vendor_order_id, number = order.vendor_orders[vendor]
    items = "".join(
        f"<Item><SKU>{escape(line.sku)}</SKU><Name>Item</Name><Quantity>{line.quantity}</Quantity>"
        f"<LineItemID>{escape(line.line_id)}</LineItemID></Item>"
        for line in order.planned.lines_by_vendor[vendor]
    )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><ShipNotice>'
        f"<OrderNumber>{escape(number)}</OrderNumber><OrderID>{escape(vendor_order_id)}</OrderID>"
        "<CustomerCode>jo@example.com</CustomerCode><NotifyCustomer>true</NotifyCustomer>"
        "<LabelCreateDate>11/27/2026 14:05</LabelCreateDate><ShipDate>11/27/2026</ShipDate>"
        "<Carrier>UPS</Carrier><Service>UPS Ground</Service>"
        f"<TrackingNumber>{tracking_number}</TrackingNumber><ShippingCost>7.42</ShippingCost>"
        f"<Items>{items}</Items></ShipNotice>"
    )
    return number, xml.encode()


async def notice_step(
    session: aiohttp.ClientSession,
    system: BenchSystem,
    merchant: Merchant,
    receiver: WebhookReceiver,
    orders: list[OrderSample],
    rate: float,
    seconds: float,
    drain_seconds: float,
    p99_limit: float,
    step: int,
) -> dict[str, Any]:
    """One notice per order (its vendor-A half, all lines), at ``rate`` per second for ``seconds``."""
    vendor = merchant.vendor_a
    auth = basic_auth(*merchant.credentials[vendor])
    base = f"{system.urls['shipstation']}/shipstation/{vendor}"
    count = min(len(orders), max(1, round(rate * seconds)))
    prepared = []
    for index, order in enumerate(orders[:count]):
        tracking = f"1ZB{merchant.run_id}{step:02d}{index:07d}"
        number, body = notice_body(order, vendor, tracking)
        query = urlencode({"action": "shipnotify", "order_number": number, "carrier": "UPS", "service": ""})
        prepared.append((tracking, f"{base}?{query}", body))
    start = time.monotonic() + 0.05
    samples = [NoticeSample(tracking, start + i / rate) for i, (tracking, _, _) in enumerate(prepared)]
    headers = {**auth, "Content-Type": "application/xml"}

    async def post(sample: NoticeSample, url: str, body: bytes) -> None:
        try:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                sample.status, sample.answered = response.status, time.monotonic()
                if response.status != 200:
                    sample.error = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            sample.error = f"{type(error).__name__}: {error}"

    meter = UsageMeter(await system.process_groups()).start()
    tasks = []
    for sample, (_, url, body) in zip(samples, prepared, strict=True):
        delay = sample.scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(sample, url, body)))
    await asyncio.gather(*tasks)
    deadline = time.monotonic() + drain_seconds
    while time.monotonic() < deadline and any(  # noqa: ASYNC110 - the receiver fills arrivals in
        s.error is None and s.tracking_number not in receiver.arrivals for s in samples
    ):
        await asyncio.sleep(0.05)
    usage = meter.stop(await system.process_groups())
    system.check_alive()

    accepted = [s for s in samples if s.status == 200 and s.answered is not None]
    errors: dict[str, int] = {}
    for sample in samples:
        if sample.error is not None:
            errors[sample.error] = errors.get(sample.error, 0) + 1
    http = [s.answered - s.scheduled for s in accepted if s.answered is not None]
    webhook = [
        receiver.arrivals[s.tracking_number] - s.scheduled for s in accepted if s.tracking_number in receiver.arrivals
    ]
    first = min((s.scheduled for s in samples), default=0.0)
    last_answer = max((s.answered for s in accepted if s.answered is not None), default=first)
    webhook_summary = summary(webhook)
    http_summary = summary(http)
    p99_http, p99_webhook = http_summary["p99"], webhook_summary["p99"]
    return {
        "offered_per_s": rate,
        "seconds": seconds,
        "notices": len(samples),
        "accepted": len(accepted),
        "accepted_per_s": round(len(accepted) / max(last_answer - first, 1e-9), 1),
        "webhooks_arrived": len(webhook),
        "errors": errors,
        "notice_to_200_s": http_summary,
        "notice_to_webhook_s": webhook_summary,
        "sustained": (
            len(accepted) == len(samples)
            and len(webhook) == len(samples)
            and p99_http is not None
            and float(p99_http) < p99_limit
            and p99_webhook is not None
            and float(p99_webhook) < p99_limit
        ),
        "usage": usage,
        "cpu_ms_per_notice": {
            name: round(cores * usage["seconds"] / max(len(webhook), 1) * 1000, 2)
            for name, cores in usage["process_cores"].items()
        },
        "rss_mb": system.rss(),
    }
