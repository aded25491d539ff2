"""``dropship shipstation …``: a ShipStation connection's settings, problems and poll log, on the adapter.

Also what ``dropship vendor add-shipstation`` and ``rotate-credentials`` share with it: the settings
options and the block to paste into ShipStation's Custom Store form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import click

from shared.cli.client import State, segment
from shared.cli.output import as_text, emit, print_fields, print_table
from shared.contracts.vendors import SHIPSTATION_STATUS_LABELS, SHIPSTATION_STATUSES

Command = TypeVar("Command", bound=Callable[..., Any])


def settings_options(function: Command) -> Command:
    """``--timezone``, ``--lookback-minutes`` and ``--page-size``, the settings a connection starts with."""
    function = click.option("--page-size", type=click.IntRange(min=1), help="Orders per export page.")(function)
    function = click.option(
        "--lookback-minutes", type=click.IntRange(min=0), help="Widen each export window back by this many minutes."
    )(function)
    function = click.option("--timezone", help="IANA zone of the dates exchanged with ShipStation, e.g. UTC.")(function)
    return function


def settings_body(
    timezone: str | None, lookback_minutes: int | None, page_size: int | None, statuses: Mapping[str, str]
) -> dict[str, Any]:
    """The ``PUT …/settings`` body with only the settings given, so the others keep their values."""
    body: dict[str, Any] = {}
    if timezone is not None:
        body["timezone"] = timezone
    if lookback_minutes is not None:
        body["lookback_minutes"] = lookback_minutes
    if page_size is not None:
        body["page_size"] = page_size
    if statuses:
        body["status_names"] = dict(statuses)
    return body


def parse_statuses(values: Iterable[str]) -> dict[str, str]:
    """``NAME=VALUE`` items into ``status_names``; NAME is a ShipStation status key, any case, ``-`` for ``_``."""
    statuses: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not sep or not value.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE")
        if key not in SHIPSTATION_STATUSES:
            raise click.BadParameter(f"unknown status {key!r}; one of {', '.join(SHIPSTATION_STATUSES)}")
        statuses[key] = value.strip()
    return statuses


def _statuses_option(_: click.Context, __: click.Parameter, values: Sequence[str]) -> dict[str, str]:
    return parse_statuses(values)


def print_paste_block(code: str, credentials: Mapping[str, Any], timezone: Any) -> None:
    """What to type into ShipStation's Custom Store form, box by box, in the form's order."""
    names = credentials.get("status_names") or {}
    click.echo(f"\nIn ShipStation, connect a Custom Store for vendor {code} with:")
    click.echo(f"  URL:       {credentials.get('url')}")
    click.echo(f"  Username:  {credentials.get('username')}")
    click.echo(f"  Password:  {credentials.get('password')}")
    click.echo("  Order statuses (one per box):")
    for key, label in SHIPSTATION_STATUS_LABELS.items():
        click.echo(f"    {label + ':':<11} {names.get(key, key)}")
    click.echo(f"  Time zone: {timezone if timezone is not None else 'UTC'} (the zone of the dates we exchange)")
    click.echo(f"\nThe password is shown once; only a hash is kept. Lost it? dropship vendor rotate-credentials {code}")


@click.group()
def shipstation() -> None:
    """ShipStation connections: settings, recorded problems and the poll log."""


@shipstation.command("settings")
@click.argument("code")
@settings_options
@click.option(
    "--status",
    "statuses",
    multiple=True,
    callback=_statuses_option,
    metavar="NAME=VALUE",
    help=f"The status string we send for NAME ({', '.join(SHIPSTATION_STATUSES)}); repeatable.",
)
@click.pass_obj
def shipstation_settings(
    state: State,
    code: str,
    timezone: str | None,
    lookback_minutes: int | None,
    page_size: int | None,
    statuses: dict[str, str],
) -> None:
    """Show vendor CODE's ShipStation settings, or change those given."""
    path = f"/v1/shipstation/{segment(code)}/settings"
    body = settings_body(timezone, lookback_minutes, page_size, statuses)
    answer = state.api.call("shipstation", "PUT", path, body) if body else state.api.call("shipstation", "GET", path)

    def human() -> None:
        data = answer.body
        click.echo(f"ShipStation settings of vendor {code}{' (saved)' if body else ''}:")
        print_fields(data, ["username", "timezone", "lookback_minutes", "page_size"])
        names = data.get("status_names") or {}
        for key, label in SHIPSTATION_STATUS_LABELS.items():
            click.echo(f"  {label + ' status:':<17} {names.get(key, key)}")
        if data.get("zone_warning"):
            click.echo(f"  warning ({as_text(data.get('zone_warning_at'))}): {data['zone_warning']}")

    emit(state, answer.body, human)


@shipstation.command("problems")
@click.argument("code")
@click.pass_obj
def shipstation_problems(state: State, code: str) -> None:
    """Problems recorded for vendor CODE: orders left out of exports, notices for unknown orders."""
    answer = state.api.call("shipstation", "GET", f"/v1/shipstation/{segment(code)}/problems")

    def human() -> None:
        problems = answer.body.get("problems") or []
        if not problems:
            click.echo(f"No problems recorded for vendor {code}.")
            return
        print_table(problems, ["occurred_at", "kind", "vendor_order_id", "detail"], indent="")

    emit(state, answer.body, human)


@shipstation.command("polls")
@click.argument("code")
@click.pass_obj
def shipstation_polls(state: State, code: str) -> None:
    """The latest calls ShipStation made for vendor CODE, newest first."""
    answer = state.api.call("shipstation", "GET", f"/v1/shipstation/{segment(code)}/polls")

    def human() -> None:
        polls = answer.body.get("polls") or []
        if not polls:
            click.echo(f"ShipStation has not called for vendor {code} yet.")
            return
        columns = ["at", "action", "outcome", "window_start", "window_end", "page", "orders_returned", "detail"]
        print_table(polls, columns, indent="")

    emit(state, answer.body, human)
