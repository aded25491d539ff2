"""``dropship catalog …``: which vendors ship a SKU, on the splitter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from shared.cli.client import State, segment
from shared.cli.output import as_text, emit, print_table

_SOURCE_PARTS = ("priority", "stock", "cost", "vendor_sku")


def parse_source(text: str) -> dict[str, Any]:
    """``VENDOR[:PRIORITY[:STOCK[:COST[:VENDOR_SKU]]]]``; an empty part is left out, the vendor SKU may
    contain colons."""
    parts = text.split(":", len(_SOURCE_PARTS))
    vendor_code = parts[0].strip()
    if not vendor_code:
        raise click.BadParameter(f"{text!r}: the vendor is missing")
    source: dict[str, Any] = {"vendor": vendor_code}
    for name, part in zip(_SOURCE_PARTS, (p.strip() for p in parts[1:]), strict=False):
        if not part:
            continue
        if name in {"priority", "stock"}:
            # str.isdigit alone also accepts digits such as '²' that int() refuses.
            if not (part.isascii() and part.isdigit()):
                raise click.BadParameter(f"{text!r}: {name} must be a whole number, not {part!r}")
            source[name] = int(part)
        elif name == "cost":
            try:
                Decimal(part)
            except InvalidOperation:
                raise click.BadParameter(f"{text!r}: cost must be a decimal amount such as 7.10") from None
            # Sent as the text given: money travels as decimal strings, never floats.
            source[name] = part
        else:
            source[name] = part
    return source


def _sources_option(_: click.Context, __: click.Parameter, values: Sequence[str]) -> list[dict[str, Any]]:
    return [parse_source(value) for value in values]


@click.group()
def catalog() -> None:
    """The catalog: which vendors can ship a SKU, at what priority, stock and cost."""


def _print_catalog_entry(data: Mapping[str, Any]) -> None:
    click.echo(f"SKU {data.get('sku')}: {as_text(data.get('name'))}")
    sources = data.get("sources") or []
    if sources:
        print_table(sources, ["vendor", "priority", "stock", "cost", "vendor_sku"])
    else:
        click.echo("  no source: orders for it are held")
    if data.get("released_vendor_orders"):
        click.echo(f"Released {data['released_vendor_orders']} held vendor order(s).")


@catalog.command("put")
@click.argument("sku")
@click.option("--name", help="A name for people.")
@click.option(
    "--source",
    "sources",
    multiple=True,
    required=True,
    callback=_sources_option,
    metavar="VENDOR[:PRIORITY[:STOCK[:COST[:VENDOR_SKU]]]]",
    help="A vendor that ships this SKU (repeatable); lower priority is preferred, e.g. east:1:40:7.10:TS-R-M.",
)
@click.pass_obj
def catalog_put(state: State, sku: str, name: str | None, sources: list[dict[str, Any]]) -> None:
    """Set SKU's name and sources (PUT /v1/catalog/SKU on the splitter); the sources given replace all."""
    body: dict[str, Any] = {"sources": sources}
    if name is not None:
        body["name"] = name
    answer = state.api.call("splitter", "PUT", f"/v1/catalog/{segment(sku)}", body)
    emit(state, answer.body, lambda: _print_catalog_entry(answer.body))


@catalog.command("get")
@click.argument("sku")
@click.pass_obj
def catalog_get(state: State, sku: str) -> None:
    """Show SKU and its sources."""
    answer = state.api.call("splitter", "GET", f"/v1/catalog/{segment(sku)}")
    emit(state, answer.body, lambda: _print_catalog_entry(answer.body))
