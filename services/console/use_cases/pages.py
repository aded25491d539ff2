"""The data of the pages other than the overview: orders and one order's timeline, holds, parked
messages, vendors and channels. Every figure comes from its owning service; what a service does not
answer becomes a ``problems`` line of the page."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from services.console.clients import Answer
from services.console.ports import ConsolePorts
from services.console.views import (
    TimelineEntry,
    delivery_entries,
    intake_entries,
    merge_timeline,
    routing_entries,
    tracking_entries,
)
from shared.messaging.parking import ParkedMessage, ParkingError, show_parked

PARKED_SHOWN = 20


@dataclass
class Page:
    """What a page shows: named parts, and a line per part a service did not give."""

    data: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def take(self, name: str, answer: Answer, key: str | None = None, default: Any = None) -> Any:
        """``answer``'s body (or its ``key``) as ``name``; its problem noted when it is not usable."""
        if answer.ok:
            value = answer.body.get(key, default) if key and isinstance(answer.body, dict) else answer.body
        else:
            value = default
            self.problems.append(f"{name}: {answer.problem()}")
        self.data[name] = value
        return value


async def search_orders(ports: ConsolePorts, status: str, channel: str, q: str, cursor: str) -> Page:
    page = Page()
    answer = await ports.services.get("intake", "/v1/orders", status=status, channel=channel, q=q, cursor=cursor)
    page.take("orders", answer, "orders", [])
    page.data["next_cursor"] = answer.field("next_cursor")
    return page


async def order_detail(ports: ConsolePorts, order_id: str) -> Page:
    services = ports.services
    page = Page()
    order, history, routing, shipments = await asyncio.gather(
        services.get("intake", f"/v1/orders/{order_id}"),
        services.get("intake", f"/v1/orders/{order_id}/history"),
        services.get("splitter", f"/v1/orders/{order_id}/routing"),
        services.get("tracking", f"/v1/orders/{order_id}/shipments"),
    )
    page.take("order", order, default={})
    page.data["history"] = history.body if history.ok else None
    if not history.ok and history.status != 404:
        page.problems.append(f"history: {history.problem()}")
    page.take("routing", routing, default={})
    page.take("shipments", shipments, default={})
    vendor_order_ids = [v.get("vendor_order_id") for v in page.data["routing"].get("vendor_orders", [])]
    deliveries_answers = await asyncio.gather(
        *(services.get("gateway", "/v1/deliveries", vendor_order_id=str(v)) for v in vendor_order_ids if v)
    )
    deliveries: list[dict[str, Any]] = []
    for answer in deliveries_answers:
        if answer.ok:
            deliveries += answer.field("deliveries", [])
        elif answer.status is None and not any(p.startswith("deliveries:") for p in page.problems):
            page.problems.append(f"deliveries: {answer.problem()}")
    page.data["deliveries"] = deliveries
    groups: list[list[TimelineEntry]] = []
    if page.data["order"]:
        groups.append(intake_entries(page.data["order"], page.data["history"]))
    groups += [routing_entries(page.data["routing"]), tracking_entries(page.data["shipments"])]
    groups.append(delivery_entries(deliveries))
    page.data["timeline"] = merge_timeline(*groups)
    return page


async def holds(ports: ConsolePorts) -> Page:
    page = Page()
    held, vendors = await asyncio.gather(
        ports.services.get("splitter", "/v1/holds"), ports.services.get("splitter", "/v1/vendors")
    )
    page.take("holds", held, "holds", [])
    page.data["vendors"] = [v["code"] for v in vendors.field("vendors", [])]
    return page


@dataclass(frozen=True)
class ParkedPanel:
    queue: str
    count: int
    messages: list[ParkedMessage]
    problem: str | None = None


async def parked(ports: ConsolePorts) -> Page:
    """Every queue with parked messages, and the first of them with their errors (all stay parked)."""
    page = Page()
    rows = await ports.watch.refresh()
    if ports.watch.vendors_problem:
        page.problems.append(ports.watch.vendors_problem)
    panels: list[ParkedPanel] = []
    for row in rows:
        if not row.parked:
            continue
        try:
            shown = await show_parked(ports.amqp, ports.topology, row.queue, PARKED_SHOWN)
            panels.append(ParkedPanel(row.queue, row.parked, shown))
        except ParkingError as error:
            panels.append(ParkedPanel(row.queue, row.parked, [], str(error)))
    page.data["panels"] = panels
    page.data["queues"] = rows
    return page


async def vendors(ports: ConsolePorts) -> Page:
    page = Page()
    listed = page.take("vendors", await ports.services.get("splitter", "/v1/vendors"), "vendors", [])
    connections = await asyncio.gather(
        *(
            ports.services.get("gateway", f"/v1/connections/{v['code']}")
            for v in listed
            if v.get("kind") != "shipstation"
        )
    )
    states = {answer.path.rsplit("/", 1)[1]: answer for answer in connections}
    page.data["connections"] = {
        code: (answer.body if answer.ok else {"state": answer.problem()}) for code, answer in states.items()
    }
    return page


async def vendor_detail(ports: ConsolePorts, code: str) -> Page:
    services = ports.services
    page = Page()
    vendor = page.take("vendor", await services.get("splitter", f"/v1/vendors/{code}"), default={})
    feeds = services.get("splitter", "/v1/feeds", vendor=code)
    if vendor.get("kind") == "shipstation":
        answers = await asyncio.gather(
            feeds,
            services.get("shipstation", f"/v1/shipstation/{code}/settings"),
            services.get("shipstation", f"/v1/shipstation/{code}/polls"),
            services.get("shipstation", f"/v1/shipstation/{code}/problems"),
        )
        page.take("feeds", answers[0], "feeds", [])
        page.take("shipstation", answers[1], default={})
        page.take("polls", answers[2], "polls", [])
        page.take("problems", answers[3], "problems", [])
        return page
    answers = await asyncio.gather(
        feeds,
        services.get("gateway", f"/v1/connections/{code}"),
        services.get("gateway", "/v1/deliveries", vendor=code, limit="20"),
        services.get("gateway", "/v1/pickups", vendor=code, limit="20"),
    )
    page.take("feeds", answers[0], "feeds", [])
    page.take("connection", answers[1], default={})
    page.take("deliveries", answers[2], "deliveries", [])
    page.take("pickups", answers[3], "pickups", [])
    if vendor.get("kind") == "edi_x12":
        page.take(
            "interchanges", await services.get("gateway", f"/v1/partners/{code}/interchanges"), "interchanges", []
        )
    return page


async def channels(ports: ConsolePorts) -> Page:
    page = Page()
    listed, shops = await asyncio.gather(
        ports.services.get("intake", "/v1/channels"), ports.services.get("channels", "/v1/shops")
    )
    page.take("channels", listed, "channels", [])
    found = page.take("shops", shops, "shops", [])
    views = await asyncio.gather(*(ports.services.get("channels", f"/v1/shops/{s['code']}") for s in found))
    page.data["backlogs"] = {
        shop["code"]: (view.field("backlog", {}) if view.ok else {"problem": view.problem()})
        for shop, view in zip(found, views, strict=True)
    }
    return page
