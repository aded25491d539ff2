"""``dropship``: the command line for people, a thin wrapper over the services' admin HTTP API.

Every command is one or a few HTTP calls to intake, the splitter or the ShipStation adapter, made with
the admin token (``DROPSHIP_ADMIN_TOKEN``, else the file ``make run`` writes, ``.dropship/admin-token``)
to the addresses the services use (``DROPSHIP_INTAKE_URL`` and friends, else 127.0.0.1 and the default
ports). ``--json`` prints the services' answers as they are, for scripts; errors go to stderr, exit 1.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from shared.db import InfrastructureUnavailable
from shared.messaging.broker import connect
from shared.messaging.parking import (
    ParkedMessage,
    ParkingError,
    discard_parked,
    known_queues,
    list_parked,
    replay_parked,
    show_parked,
)
from shared.messaging.topology import Topology, is_valid_vendor_code
from shared.settings import ServiceName, Settings

T = TypeVar("T")

TIMEOUT_SECONDS = 30.0
VENDOR_KINDS = ("shipstation", "webhook", "csv_sftp", "edi_x12")
# ShipStation's Custom Store form, in its order and with its labels, and the key each maps from.
SHIPSTATION_STATUS_LABELS = (
    ("unpaid", "Unpaid"),
    ("paid", "Paid"),
    ("shipped", "Shipped"),
    ("cancelled", "Cancelled"),
    ("on_hold", "On-Hold"),
)
STATUS_KEYS = tuple(key for key, _ in SHIPSTATION_STATUS_LABELS)


# --- HTTP -----------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class Api:
    """Synchronous JSON calls to the services, with the admin token; stdlib only."""

    settings: Settings
    timeout: float = TIMEOUT_SECONDS
    _token: str | None = field(default=None, repr=False)

    def token(self) -> str:
        if self._token is None:
            try:
                self._token = self.settings.resolved_admin_token
            except RuntimeError as error:
                raise click.ClickException(str(error)) from None
        return self._token

    def call(self, service: ServiceName, method: str, path: str, body: Any = None) -> Answer:
        base = self.settings.service_url(service)
        url = base + path
        if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
            raise click.ClickException(f"the {service} URL {base!r} is not an http(s) URL")
        headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked above
                return Answer(response.status, _decode(response.read()))
        except urllib.error.HTTPError as error:
            with error:
                raw = error.read()
            raise click.ClickException(describe_error(service, method, path, error.code, raw)) from None
        except urllib.error.URLError as error:
            raise click.ClickException(_unreachable(service, base, error.reason)) from None
        except OSError as error:  # a timeout or a reset after connecting
            raise click.ClickException(_unreachable(service, base, error)) from None


def _decode(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return raw.decode("utf-8", "replace")


def _one_line(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unreachable(service: str, base: str, reason: Any) -> str:
    if isinstance(reason, ConnectionRefusedError):
        why = "connection refused"
    elif isinstance(reason, TimeoutError):
        why = "timed out"
    else:
        why = _one_line(str(reason) or type(reason).__name__)
    return f"cannot reach {service} at {base} ({why}): is the service running? (make run)"


def describe_error(service: str, method: str, path: str, status: int, raw: bytes) -> str:
    """One readable line from the services' JSON error ``{"error", "detail", "fields"}``."""
    body = _decode(raw)
    where = f"{service} answered {status} to {method} {path}"
    if not isinstance(body, dict) or "error" not in body:
        return f"{where}: {_one_line(body)}" if body else where
    text = f"{where}: {body['error']}"
    if body.get("detail") not in (None, ""):
        text += f": {_one_line(body['detail'])}"
    fields = body.get("fields")
    if isinstance(fields, dict) and fields:
        text += " (" + "; ".join(f"{name}: {_one_line(problem, 120)}" for name, problem in fields.items()) + ")"
    return text


def segment(value: str) -> str:
    """A path segment: codes, SKUs and ids are quoted so a slash or space cannot change the route."""
    return urllib.parse.quote(value, safe="")


# --- output ---------------------------------------------------------------------------------------


@dataclass
class State:
    api: Api
    as_json: bool


def emit(state: State, data: Any, human: Callable[[], None]) -> None:
    if state.as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        human()


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], indent: str = "  ") -> None:
    cells = [[_text(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    for line in [list(columns), *cells]:
        click.echo(indent + "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def print_fields(data: Mapping[str, Any], keys: Iterable[str], indent: str = "  ") -> None:
    present = [key for key in keys if key in data]
    width = max((len(key) for key in present), default=0)
    for key in present:
        click.echo(f"{indent}{key + ':':<{width + 1}} {_text(data[key])}")


def created_word(answer: Answer) -> str:
    return "created" if answer.status == 201 else "updated"


# --- the CLI --------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print the services' JSON answers instead of text.")
@click.pass_context
def cli(ctx: click.Context, as_json: bool) -> None:
    """Dropship Router's command line: channels, vendors, ShipStation, catalog and orders.

    Talks to the running services (make run) with the admin token from DROPSHIP_ADMIN_TOKEN or
    .dropship/admin-token.
    """
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(f"DROPSHIP_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        raise click.ClickException(f"bad settings: {problems}") from None
    ctx.obj = State(Api(settings), as_json)


# channels ------------------------------------------------------------------------------------------


@cli.group()
def channel() -> None:
    """Sales channels: where orders come from and where status updates go."""


@channel.command("put")
@click.argument("code")
@click.option("--name", required=True, help="A name for people.")
@click.option("--webhook-url", help="Where signed status updates are posted (http or https).")
@click.option("--webhook-secret", help="The signing secret; omit it to have one generated.")
@click.pass_obj
def channel_put(state: State, code: str, name: str, webhook_url: str | None, webhook_secret: str | None) -> None:
    """Create or update channel CODE (PUT /v1/channels/CODE on intake)."""
    body: dict[str, Any] = {"name": name}
    if webhook_url is not None:
        body["webhook_url"] = webhook_url
    if webhook_secret is not None:
        body["webhook_secret"] = webhook_secret
    answer = state.api.call("intake", "PUT", f"/v1/channels/{segment(code)}", body)

    def human() -> None:
        data = answer.body
        click.echo(f"Channel {code} {created_word(answer)}.")
        print_fields(data, ["name", "webhook_url"])
        labels = (("api_key", "API key"), ("webhook_secret", "Webhook secret"))
        shown = [(label, data[key]) for key, label in labels if data.get(key)]
        if shown:
            click.echo("\nShown once; store them now:")
            for label, value in shown:
                click.echo(f"  {label + ':':<16} {value}")

    emit(state, answer.body, human)


@channel.command("rotate-key")
@click.argument("code")
@click.pass_obj
def channel_rotate_key(state: State, code: str) -> None:
    """Issue a new API key for channel CODE; the previous key stops working."""
    answer = state.api.call("intake", "POST", f"/v1/channels/{segment(code)}/key")

    def human() -> None:
        click.echo(f"New API key for channel {code} (shown once, store it now): {answer.body.get('api_key')}")

    emit(state, answer.body, human)


# vendors -------------------------------------------------------------------------------------------


@cli.group()
def vendor() -> None:
    """Vendors: who ships which lines, and in which format."""


@vendor.command("put")
@click.argument("code")
@click.option("--name", required=True, help="A name for people.")
@click.option("--kind", required=True, type=click.Choice(VENDOR_KINDS), help="How the vendor receives its orders.")
@click.pass_obj
def vendor_put(state: State, code: str, name: str, kind: str) -> None:
    """Create or update vendor CODE (PUT /v1/vendors/CODE on the splitter)."""
    answer = state.api.call("splitter", "PUT", f"/v1/vendors/{segment(code)}", {"name": name, "kind": kind})
    emit(state, answer.body, lambda: _print_vendor(code, answer))


def _print_vendor(code: str, answer: Answer) -> None:
    data = answer.body
    click.echo(f"Vendor {code} ({data.get('kind')}) {created_word(answer)}: {data.get('name')}")
    if data.get("queue"):
        click.echo(f"  its orders go to queue {data['queue']}")


def _settings_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--page-size", type=click.IntRange(min=1), help="Orders per export page.")(function)
    function = click.option(
        "--lookback-minutes", type=click.IntRange(min=0), help="Widen each export window back by this many minutes."
    )(function)
    function = click.option("--timezone", help="IANA zone of the dates exchanged with ShipStation, e.g. UTC.")(function)
    return function


def _settings_body(
    timezone: str | None, lookback_minutes: int | None, page_size: int | None, statuses: Mapping[str, str]
) -> dict[str, Any]:
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


def _print_paste_block(code: str, credentials: Mapping[str, Any], timezone: Any) -> None:
    names = credentials.get("status_names") or {}
    click.echo(f"\nIn ShipStation, connect a Custom Store for vendor {code} with:")
    click.echo(f"  URL:       {credentials.get('url')}")
    click.echo(f"  Username:  {credentials.get('username')}")
    click.echo(f"  Password:  {credentials.get('password')}")
    click.echo("  Order statuses (one per box):")
    for key, label in SHIPSTATION_STATUS_LABELS:
        click.echo(f"    {label + ':':<11} {names.get(key, key)}")
    click.echo(f"  Time zone: {timezone if timezone is not None else 'UTC'} (the zone of the dates we exchange)")
    click.echo(f"\nThe password is shown once; only a hash is kept. Lost it? dropship vendor rotate-credentials {code}")


@vendor.command("add-shipstation")
@click.argument("code")
@click.option("--name", help="A name for people (default: CODE).")
@_settings_options
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
    created = state.api.call("splitter", "PUT", f"/v1/vendors/{path}", {"name": name or code, "kind": "shipstation"})
    settings_body = _settings_body(timezone, lookback_minutes, page_size, {})
    configured = None
    if settings_body:
        configured = state.api.call("shipstation", "PUT", f"/v1/shipstation/{path}/settings", settings_body)
    credentials = state.api.call("shipstation", "POST", f"/v1/shipstation/{path}/credentials")

    def human() -> None:
        _print_vendor(code, created)
        zone = credentials.body.get("timezone")
        if zone is None and configured is not None:
            zone = configured.body.get("timezone")
        _print_paste_block(code, credentials.body, zone)

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
    emit(state, answer.body, lambda: _print_paste_block(code, answer.body, answer.body.get("timezone")))


# ShipStation ----------------------------------------------------------------------------------------


@cli.group()
def shipstation() -> None:
    """ShipStation connections: settings, recorded problems and the poll log."""


def _parse_statuses(_: click.Context, __: click.Parameter, values: Sequence[str]) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not sep or not value.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE")
        if key not in STATUS_KEYS:
            raise click.BadParameter(f"unknown status {key!r}; one of {', '.join(STATUS_KEYS)}")
        statuses[key] = value.strip()
    return statuses


@shipstation.command("settings")
@click.argument("code")
@_settings_options
@click.option(
    "--status",
    "statuses",
    multiple=True,
    callback=_parse_statuses,
    metavar="NAME=VALUE",
    help=f"The status string we send for NAME ({', '.join(STATUS_KEYS)}); repeatable.",
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
    body = _settings_body(timezone, lookback_minutes, page_size, statuses)
    answer = state.api.call("shipstation", "PUT", path, body) if body else state.api.call("shipstation", "GET", path)

    def human() -> None:
        data = answer.body
        click.echo(f"ShipStation settings of vendor {code}{' (saved)' if body else ''}:")
        print_fields(data, ["username", "timezone", "lookback_minutes", "page_size"])
        names = data.get("status_names") or {}
        for key, label in SHIPSTATION_STATUS_LABELS:
            click.echo(f"  {label + ' status:':<17} {names.get(key, key)}")
        if data.get("zone_warning"):
            click.echo(f"  warning ({_text(data.get('zone_warning_at'))}): {data['zone_warning']}")

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


# catalog -------------------------------------------------------------------------------------------


def parse_source(text: str) -> dict[str, Any]:
    """``VENDOR[:PRIORITY[:STOCK[:COST[:VENDOR_SKU]]]]``; an empty part is left out, the vendor SKU may
    contain colons."""
    parts = text.split(":", 4)
    vendor_code = parts[0].strip()
    if not vendor_code:
        raise click.BadParameter(f"{text!r}: the vendor is missing")
    source: dict[str, Any] = {"vendor": vendor_code}
    names = ("priority", "stock", "cost", "vendor_sku")
    for name, part in zip(names, (p.strip() for p in parts[1:]), strict=False):
        if not part:
            continue
        if name in {"priority", "stock"}:
            if not part.isdigit():
                raise click.BadParameter(f"{text!r}: {name} must be a whole number, not {part!r}")
            source[name] = int(part)
        elif name == "cost":
            try:
                Decimal(part)
            except InvalidOperation:
                raise click.BadParameter(f"{text!r}: cost must be a decimal amount such as 7.10") from None
            source[name] = part
        else:
            source[name] = part
    return source


def _parse_sources(_: click.Context, __: click.Parameter, values: Sequence[str]) -> list[dict[str, Any]]:
    return [parse_source(value) for value in values]


@cli.group()
def catalog() -> None:
    """The catalog: which vendors can ship a SKU, at what priority, stock and cost."""


def _print_catalog_entry(data: Mapping[str, Any]) -> None:
    click.echo(f"SKU {data.get('sku')}: {_text(data.get('name'))}")
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
    callback=_parse_sources,
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


# orders --------------------------------------------------------------------------------------------


@cli.group()
def order() -> None:
    """Orders: their status, split, shipments, cancellation."""


def _print_order(data: Mapping[str, Any]) -> None:
    click.echo(
        f"Order {data.get('id')}: #{_text(data.get('order_number'))} from {_text(data.get('channel'))}"
        f" (their id {_text(data.get('external_id'))}), {_text(data.get('status'))}"
    )
    if data.get("hold_reason"):
        click.echo(f"  held: {data['hold_reason']}")
    lines = data.get("lines") or []
    if lines:
        click.echo("Lines:")
        print_table(lines, ["line_id", "sku", "quantity", "unit_price", "name"])
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
        click.echo(f"Order {order_id}: {_text(answer.body.get('status'))}")

    emit(state, answer.body, human)


@order.command("routing")
@click.argument("order_id")
@click.pass_obj
def order_routing(state: State, order_id: str) -> None:
    """Which vendor got which line of an order, and why (the splitter's decisions)."""
    answer = state.api.call("splitter", "GET", f"/v1/orders/{segment(order_id)}/routing")

    def human() -> None:
        data = answer.body
        click.echo(f"Order {order_id}: #{_text(data.get('order_number'))}, {_text(data.get('state'))}")
        if data.get("hold_reason"):
            click.echo(f"  held: {data['hold_reason']}")
        if data.get("decisions"):
            click.echo("Decisions:")
            print_table(data["decisions"], ["line_id", "sku", "quantity", "vendor", "reason"])
        if data.get("vendor_orders"):
            click.echo("Vendor orders:")
            print_table(data["vendor_orders"], ["vendor_order_number", "vendor", "status", "cancelled_at"])

    emit(state, answer.body, human)


# parked messages ------------------------------------------------------------------------------------


@cli.group()
def parked() -> None:
    """Parked messages: what consumers gave up on, to look at, replay once fixed, or discard.

    Talks to RabbitMQ directly (DROPSHIP_AMQP_URL, DROPSHIP_NAMESPACE). QUEUE is the queue the messages
    were parked from, such as splitter.orders or vendor.east (the namespace and .parked may be added).
    """


def _on_broker(settings: Settings, work: Callable[[Any, Topology], Awaitable[T]]) -> T:
    """Run ``work(connection, topology)`` against the broker; its problems become one-line errors."""

    async def run() -> T:
        try:
            connection = await connect(settings.amqp_url, name="dropship-cli")
        except InfrastructureUnavailable as error:
            raise click.ClickException(str(error)) from None
        try:
            return await work(connection, Topology(settings.namespace, settings.delivery_limit))
        except ParkingError as error:
            raise click.ClickException(str(error)) from None
        finally:
            await connection.close()

    return asyncio.run(run())


def _vendor_codes(state: State) -> list[str]:
    """Every vendor the splitter knows; without the splitter, none (with a warning)."""
    try:
        answer = state.api.call("splitter", "GET", "/v1/vendors")
    except click.ClickException as error:
        click.echo(f"warning: {error.message}; listing the services' own queues only (add --vendor CODE)", err=True)
        return []
    return [vendor["code"] for vendor in (answer.body or {}).get("vendors", [])]


@parked.command("list")
@click.option(
    "--vendor",
    "vendors",
    multiple=True,
    help="Include vendor.CODE (repeatable; default: every vendor the splitter knows).",
)
@click.pass_obj
def parked_list(state: State, vendors: tuple[str, ...]) -> None:
    """How many messages are parked, per queue."""
    codes = list(vendors) or _vendor_codes(state)
    invalid = [code for code in codes if not is_valid_vendor_code(code)]
    if invalid:
        raise click.BadParameter(f"not a vendor code: {', '.join(invalid)}", param_hint="--vendor")
    queues = [spec.name for spec in known_queues(codes)]
    found = _on_broker(state.api.settings, lambda connection, topology: list_parked(connection, topology, queues))
    rows = [
        {"queue": q.queue, "parked_queue": q.parked_queue, "messages": q.messages if q.messages is not None else "-"}
        for q in found
    ]

    def human() -> None:
        print_table(rows, ["queue", "messages", "parked_queue"], indent="")
        total = sum(q.messages or 0 for q in found)
        click.echo(f"\n{total} message(s) parked." + (" See them with: dropship parked show QUEUE" if total else ""))

    emit(state, [q.__dict__ for q in found], human)


def _print_parked_message(message: ParkedMessage) -> None:
    title = f"{message.message_id or '(no message id)'}  {message.type or '-'}"
    click.echo(f"{title}  order {message.correlation_id or '-'}")
    print_fields(
        {
            "routing key": message.routing_key,
            "from queue": message.original_queue,
            "parked at": message.parked_at,
            "deliveries": message.deliveries,
            "error": f"{message.error_type or '-'}: {_one_line(message.error or '-', 500)}",
            "body": _one_line(message.as_dict()["body"], 500),
        },
        ["routing key", "from queue", "parked at", "deliveries", "error", "body"],
    )


@parked.command("show")
@click.argument("queue")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Messages to show.")
@click.pass_obj
def parked_show(state: State, queue: str, limit: int) -> None:
    """Show the oldest parked messages of QUEUE with their errors; they stay parked."""
    messages = _on_broker(
        state.api.settings, lambda connection, topology: show_parked(connection, topology, queue, limit)
    )

    def human() -> None:
        if not messages:
            click.echo(f"Nothing parked for {queue}.")
        for message in messages:
            _print_parked_message(message)
            click.echo()

    emit(state, [message.as_dict() for message in messages], human)


def _settled(state: State, verb: str, queue: str, messages: list[ParkedMessage]) -> None:
    def human() -> None:
        click.echo(f"{verb} {len(messages)} message(s) of {queue}.")
        for message in messages:
            click.echo(f"  {message.message_id}  {message.type or '-'}  {message.routing_key or '-'}")

    emit(state, {verb.lower(): [message.as_dict() for message in messages]}, human)


@parked.command("replay")
@click.argument("queue")
@click.option("--message-id", help="Replay only this message.")
@click.option("--all", "replay_all", is_flag=True, help="Replay every parked message of QUEUE (the default).")
@click.pass_obj
def parked_replay(state: State, queue: str, message_id: str | None, replay_all: bool) -> None:
    """Publish QUEUE's parked messages again, once what made them fail is fixed.

    They go to the events exchange with their original routing key and message id; consumers that
    applied a message before recognise it and skip it.
    """
    if message_id is not None and replay_all:
        raise click.UsageError("give --message-id or --all, not both")
    replayed = _on_broker(
        state.api.settings, lambda connection, topology: replay_parked(connection, topology, queue, message_id)
    )
    _settled(state, "Replayed", queue, replayed)


@parked.command("discard")
@click.argument("queue")
@click.option("--message-id", help="Discard only this message.")
@click.option("--all", "discard_all", is_flag=True, help="Discard every parked message of QUEUE.")
@click.pass_obj
def parked_discard(state: State, queue: str, message_id: str | None, discard_all: bool) -> None:
    """Drop QUEUE's parked messages for good (one with --message-id, or --all)."""
    if (message_id is None) == (not discard_all):
        raise click.UsageError("give exactly one of --message-id ID or --all")
    discarded = _on_broker(
        state.api.settings, lambda connection, topology: discard_parked(connection, topology, queue, message_id)
    )
    _settled(state, "Discarded", queue, discarded)


def main() -> None:
    """The ``dropship`` console script."""
    cli(prog_name="dropship")


if __name__ == "__main__":
    main()
