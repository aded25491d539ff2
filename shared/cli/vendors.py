"""``dropship vendor …``: vendors on the splitter, and connecting a ShipStation account as one."""

from __future__ import annotations

import click

from shared.cli.client import Answer, State, segment
from shared.cli.output import created_word, emit
from shared.cli.shipstation import print_paste_block, settings_body, settings_options
from shared.contracts.vendors import VENDOR_KINDS


@click.group()
def vendor() -> None:
    """Vendors: who ships which lines, and in which format."""


def _print_vendor(code: str, answer: Answer) -> None:
    data = answer.body
    click.echo(f"Vendor {code} ({data.get('kind')}) {created_word(answer)}: {data.get('name')}")
    if data.get("queue"):
        click.echo(f"  its orders go to queue {data['queue']}")


@vendor.command("put")
@click.argument("code")
@click.option("--name", required=True, help="A name for people.")
@click.option("--kind", required=True, type=click.Choice(VENDOR_KINDS), help="How the vendor receives its orders.")
@click.option(
    "--own-adapter",
    is_flag=True,
    help='Its queue is read by an adapter of its own, not the gateway (settings {"adapter": "own"}).',
)
@click.pass_obj
def vendor_put(state: State, code: str, name: str, kind: str, own_adapter: bool) -> None:
    """Create or update vendor CODE (PUT /v1/vendors/CODE on the splitter)."""
    body: dict[str, object] = {"name": name, "kind": kind}
    if own_adapter:
        body["settings"] = {"adapter": "own"}
    answer = state.api.call("splitter", "PUT", f"/v1/vendors/{segment(code)}", body)
    emit(state, answer.body, lambda: _print_vendor(code, answer))


@vendor.command("add-shipstation")
@click.argument("code")
@click.option("--name", help="A name for people (default: CODE).")
@settings_options
@click.pass_obj
def vendor_add_shipstation(
    state: State,
    code: str,
    name: str | None,
    timezone: str | None,
    lookback_minutes: int | None,
    page_size: int | None,
) -> None:
    """Connect a ShipStation account as vendor CODE and print what to paste into its Custom Store form."""
    path = segment(code)
    # The vendor first: the adapter checks with the splitter that it exists and is a ShipStation vendor.
    created = state.api.call("splitter", "PUT", f"/v1/vendors/{path}", {"name": name or code, "kind": "shipstation"})
    body = settings_body(timezone, lookback_minutes, page_size, {})
    configured = state.api.call("shipstation", "PUT", f"/v1/shipstation/{path}/settings", body) if body else None
    credentials = state.api.call("shipstation", "POST", f"/v1/shipstation/{path}/credentials")

    def human() -> None:
        _print_vendor(code, created)
        zone = credentials.body.get("timezone")
        if zone is None and configured is not None:
            zone = configured.body.get("timezone")
        print_paste_block(code, credentials.body, zone)

    result = {
        "vendor": created.body,
        "settings": configured.body if configured else None,
        "credentials": credentials.body,
    }
    emit(state, result, human)


@vendor.command("rotate-credentials")
@click.argument("code")
@click.pass_obj
def vendor_rotate_credentials(state: State, code: str) -> None:
    """Issue a new ShipStation username and password for vendor CODE; the old ones stop working."""
    answer = state.api.call("shipstation", "POST", f"/v1/shipstation/{segment(code)}/credentials")
    emit(state, answer.body, lambda: print_paste_block(code, answer.body, answer.body.get("timezone")))
