"""``dropship order …``: an order as intake and the splitter see it, and cancelling it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from shared.cli.client import State, segment
from shared.cli.output import as_text, emit, print_table


@click.group()
def order() -> None:
    """Orders: their status, split, shipments, cancellation."""


def _print_order(data: Mapping[str, Any]) -> None:
    click.echo(
        f"Order {data.get('id')}: #{as_text(data.get('order_number'))} from {as_text(data.get('channel'))}"
        f" (their id {as_text(data.get('external_id'))}), {as_text(data.get('status'))}"
    )
    if data.get("hold_reason"):
        click.echo(f"  held: {data['hold_reason']}")
    lines = data.get("lines") or []
    if lines:
        click.echo("Lines:")
        print_table(lines, ["line_id", "sku", "quantity", "unit_price", "name"])
    # Intake asks the splitter for the split; when it cannot, the order still shows, with why not.
    split = data.get("split")
    if isinstance(split, dict) and split.get("vendor_orders"):
        click.echo("Vendor orders:")
        print_table(split["vendor_orders"], ["vendor_order_number", "vendor", "status"])
    elif isinstance(split, dict) and split.get("unavailable"):
        click.echo(f"Vendor orders: unknown (splitter: {split['unavailable']})")
    shipments = data.get("shipments") or []
    if isinstance(shipments, list) and shipments:
        click.echo("Shipments:")
        print_table(shipments, ["vendor", "carrier", "service", "tracking_number", "ship_date"])


@order.command("get")
@click.argument("order_id")
@click.pass_obj
def order_get(state: State, order_id: str) -> None:
    """Show an order with its status, split and shipments."""
    answer = state.api.call("intake", "GET", f"/v1/orders/{segment(order_id)}")
    emit(state, answer.body, lambda: _print_order(answer.body))


@order.command("cancel")
@click.argument("order_id")
@click.option("--reason", help="Why; kept with the order.")
@click.pass_obj
def order_cancel(state: State, order_id: str, reason: str | None) -> None:
    """Cancel an order, and with it every vendor order not yet shipped."""
    body = {"reason": reason} if reason else None
    answer = state.api.call("intake", "POST", f"/v1/orders/{segment(order_id)}/cancel", body)

    def human() -> None:
        click.echo(f"Order {order_id}: {as_text(answer.body.get('status'))}")

    emit(state, answer.body, human)


@order.command("routing")
@click.argument("order_id")
@click.pass_obj
def order_routing(state: State, order_id: str) -> None:
    """Which vendor got which line of an order, and why (the splitter's decisions)."""
    answer = state.api.call("splitter", "GET", f"/v1/orders/{segment(order_id)}/routing")

    def human() -> None:
        data = answer.body
        click.echo(f"Order {order_id}: #{as_text(data.get('order_number'))}, {as_text(data.get('state'))}")
        if data.get("hold_reason"):
            click.echo(f"  held: {data['hold_reason']}")
        if data.get("decisions"):
            click.echo("Decisions:")
            print_table(data["decisions"], ["line_id", "sku", "quantity", "vendor", "reason"])
        if data.get("vendor_orders"):
            click.echo("Vendor orders:")
            print_table(data["vendor_orders"], ["vendor_order_number", "vendor", "status", "cancelled_at"])

    emit(state, answer.body, human)
