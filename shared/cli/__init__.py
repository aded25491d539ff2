"""``dropship``: the command line for people, a thin wrapper over the services' admin HTTP API.

Every command is one or a few HTTP calls to intake, the splitter or the ShipStation adapter, made with
the admin token (``DROPSHIP_ADMIN_TOKEN``, else the file ``make run`` writes, ``.dropship/admin-token``)
to the addresses the services use (``DROPSHIP_INTAKE_URL`` and friends, else 127.0.0.1 and the default
ports); ``dropship parked …`` talks to RabbitMQ instead. ``--json`` prints the services' answers as they
are, for scripts; errors go to stderr, exit 1.

One module per command group (``channels``, ``vendors``, ``shipstation``, ``catalog``, ``orders``,
``parked``, ``secrets``), on top of ``client`` (the HTTP calls and their error lines) and ``output``
(text and JSON).
"""

from __future__ import annotations

import click
from pydantic import ValidationError

from shared.cli.catalog import catalog
from shared.cli.channels import channel
from shared.cli.client import Api, State
from shared.cli.gateway import deliveries, stock  # also adds the gateway's commands to `vendor`
from shared.cli.orders import order
from shared.cli.parked import parked
from shared.cli.secrets import secrets
from shared.cli.shipstation import shipstation
from shared.cli.shops import shop
from shared.cli.vendors import vendor
from shared.settings import Settings

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print the services' JSON answers instead of text.")
@click.pass_context
def cli(ctx: click.Context, as_json: bool) -> None:
    """Dropship Router's command line: channels, vendors, ShipStation, catalog, orders and secrets.

    Talks to the running services (make run) with the admin token from DROPSHIP_ADMIN_TOKEN or
    .dropship/admin-token.
    """
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(f"DROPSHIP_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        raise click.ClickException(f"bad settings: {problems}") from None
    ctx.obj = State(Api(settings), as_json)


for group in (channel, shop, vendor, shipstation, catalog, order, parked, secrets, deliveries, stock):
    cli.add_command(group)


def main() -> None:
    """The ``dropship`` console script."""
    cli(prog_name="dropship")
