"""The gateway's commands: how orders reach a vendor and how its answers come back.

``dropship vendor connect|connection|check|new-key`` join the ``vendor`` group of :mod:`shared.cli.vendors`
(a connection belongs to a vendor); ``dropship deliveries`` lists each vendor order's delivery and retries
one; ``dropship stock post`` sends ops' stock feed for a vendor. All of it is the gateway's admin API.

Secrets (an SFTP password or private key, a webhook secret) are never option values, which would stay in
the shell's history and the process list: they come from a file, from stdin, or from a hidden prompt.
What the gateway shows once (the vendor's API key, a generated webhook secret) is printed with a warning.
"""

from __future__ import annotations

import json
import sys
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from shared.cli.client import State, segment
from shared.cli.output import as_text, created_word, emit, print_fields, print_table
from shared.cli.vendors import vendor
from shared.contracts.vendors import DELIVERY_STATES

TRANSPORTS = ("webhook", "sftp", "email")
FORMATS = ("json", "csv", "x12")
DEFAULT_FORMAT = {"webhook": "json", "sftp": "csv", "email": "csv"}
"""The format each transport takes unless ``--format`` says otherwise (sftp also carries x12)."""
DELIVERY_COLUMNS = ("vendor_order_number", "vendor", "event", "state", "attempts", "next_attempt_at", "sent_at")

TRANSPORT_OPTIONS: dict[str, tuple[str, ...]] = {
    "webhook": ("url", "secret_file"),
    "sftp": (
        "host",
        "port",
        "username",
        "password_file",
        "password_stdin",
        "private_key_file",
        "host_key",
        "outbound_dir",
        "shipments_dir",
        "inventory_dir",
        "acks_dir",
        "poll_seconds",
        "after_pickup",
    ),
    "email": ("to", "cc", "reply_to"),
}
"""Which options belong to which transport: one given for another transport is a mistake, said so."""


def read_secret(path: Path, what: str) -> str:
    """A secret from a file, without the line end an editor or ``echo`` adds; an empty file is refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(f"cannot read {what} from {path}: {error}") from None
    secret = text.rstrip("\r\n")
    if not secret.strip():
        raise click.BadParameter(f"{path} holds no {what}")
    return secret


def read_json_file(path: Path, what: str) -> Any:
    """A JSON document from ``path`` (``-``: stdin), or one readable error line."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(f"cannot read {what} from {path}: {error}") from None
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"{path} is not JSON ({what}): {error}") from None


def _given(options: Mapping[str, Any]) -> set[str]:
    return {name for name, value in options.items() if value not in (None, False, ())}


def _misplaced(transport: str, options: Mapping[str, Any]) -> None:
    stray = sorted(_given(options) - set(TRANSPORT_OPTIONS[transport]))
    if stray:
        names = ", ".join("--" + name.replace("_", "-") for name in stray)
        raise click.UsageError(f"{names}: not for --transport {transport}")


def _sftp_settings(options: Mapping[str, Any]) -> dict[str, Any]:
    missing = [f"--{name.replace('_', '-')}" for name in ("host", "username", "host_key") if not options[name]]
    if missing:
        raise click.UsageError(f"--transport sftp needs {', '.join(missing)}")
    logins = [name for name in ("password_file", "password_stdin", "private_key_file") if options[name]]
    if len(logins) > 1:
        raise click.UsageError("give one of --password-file, --password-stdin, --private-key-file")
    settings: dict[str, Any] = {"host": options["host"], "username": options["username"]}
    settings["host_key"] = options["host_key"]
    if options["password_file"]:
        settings["password"] = read_secret(options["password_file"], "a password")
    elif options["password_stdin"]:
        settings["password"] = sys.stdin.readline().rstrip("\r\n")
        if not settings["password"]:
            raise click.UsageError("--password-stdin read no password")
    elif options["private_key_file"]:
        settings["private_key"] = read_secret(options["private_key_file"], "a private key") + "\n"
    else:
        settings["password"] = click.prompt(f"SFTP password for {options['username']}", hide_input=True)
    for option, key in (("port", "port"), ("outbound_dir", "outbound_dir"), ("poll_seconds", "poll_seconds")):
        if options[option] is not None:
            settings[key] = options[option]
    if options["after_pickup"]:
        settings["after_pickup"] = options["after_pickup"]
    folders = {"shipments": "shipments_dir", "inventory": "inventory_dir", "acknowledgements": "acks_dir"}
    inbound = {kind: options[option] for kind, option in folders.items() if options[option]}
    if inbound:
        settings["inbound"] = inbound
    return settings


def connection_body(transport: str, format_: str | None, options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``PUT /v1/connections/{vendor}`` body from the options (secrets read from their files)."""
    _misplaced(transport, {name: options[name] for names in TRANSPORT_OPTIONS.values() for name in names})
    body: dict[str, Any] = {"transport": transport, "format": format_ or DEFAULT_FORMAT[transport]}
    if transport == "webhook":
        if not options["url"]:
            raise click.UsageError("--transport webhook needs --url")
        body["webhook"] = {"url": options["url"]}
        if options["secret_file"]:
            body["webhook"]["secret"] = read_secret(options["secret_file"], "a webhook secret").strip()
    elif transport == "sftp":
        body["sftp"] = _sftp_settings(options)
    else:
        if not options["to"]:
            raise click.UsageError("--transport email needs --to")
        body["email"] = {"to": list(options["to"]), "cc": list(options["cc"])}
        if options["reply_to"]:
            body["email"]["reply_to"] = options["reply_to"]
    if options["csv_profile"] is not None:
        body["csv"] = read_json_file(options["csv_profile"], "a CSV profile")
    if options["x12_settings"] is not None:
        body["x12"] = read_json_file(options["x12_settings"], "X12 partner settings")
    return body


def print_once(label: str, value: str, how_again: str) -> None:
    click.echo(f"\n  {label}: {value}")
    click.echo(f"  It is shown once and cannot be shown again; store it now. {how_again}")


def print_connection(code: str, data: Mapping[str, Any]) -> None:
    """The connection's transport and format, the transport's settings, then its health."""
    click.echo(f"Vendor {code}: {as_text(data.get('transport'))} / {as_text(data.get('format'))}")
    for transport in TRANSPORTS:
        settings = data.get(transport)
        if isinstance(settings, dict):
            click.echo(f"  {transport}:")
            print_fields(settings, list(settings), indent="    ")
    for extra in ("csv", "x12"):
        if data.get(extra):
            click.echo(f"  {extra}: {'custom' if extra == 'csv' else 'set'} (--json shows it)")
    skip = {"vendor", "transport", "format", "csv", "x12", "api_key", "webhook_secret", *TRANSPORTS}
    print_fields(data, [key for key in data if key not in skip])


@vendor.command("connect")
@click.argument("code")
@click.option("--transport", required=True, type=click.Choice(TRANSPORTS), help="How orders reach the vendor.")
@click.option("--format", "format_", type=click.Choice(FORMATS), help="Default: json for webhook, csv otherwise.")
@click.option("--url", help="webhook: where orders are POSTed.")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path), help="webhook: signing secret.")
@click.option("--host", help="sftp: the server.")
@click.option("--port", type=click.IntRange(1, 65535), help="sftp: default 22.")
@click.option("--username", help="sftp: the login.")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), help="sftp: password in a file.")
@click.option("--password-stdin", is_flag=True, help="sftp: read the password from stdin's first line.")
@click.option("--private-key-file", type=click.Path(dir_okay=False, path_type=Path), help="sftp: OpenSSH key.")
@click.option("--host-key", help='sftp: the server\'s public key, "ssh-ed25519 AAAA…" (required).')
@click.option("--outbound-dir", help="sftp: where order files go (default /orders).")
@click.option("--shipments-dir", help="sftp: where the vendor leaves shipment files.")
@click.option("--inventory-dir", help="sftp: where the vendor leaves stock files.")
@click.option("--acks-dir", help="sftp: where the vendor leaves acknowledgement files.")
@click.option("--poll-seconds", type=click.IntRange(1, 86400), help="sftp: how often to look (default 300).")
@click.option("--after-pickup", type=click.Choice(["archive", "delete"]), help="sftp: what to do with a read file.")
@click.option("--to", multiple=True, help="email: recipient; repeatable.")
@click.option("--cc", multiple=True, help="email: copy; repeatable.")
@click.option("--reply-to", help="email: where the vendor's replies go.")
@click.option("--csv-profile", type=click.Path(dir_okay=False, path_type=Path), help="CSV profile (JSON file).")
@click.option("--x12-settings", type=click.Path(dir_okay=False, path_type=Path), help="X12 partner (JSON file).")
@click.pass_obj
def vendor_connect(state: State, /, code: str, transport: str, format_: str | None, **options: Any) -> None:
    """Connect vendor CODE to the gateway (PUT /v1/connections/CODE): how its orders are sent.

    Secrets come from files, stdin or a hidden prompt, never from an option's value.
    """
    body = connection_body(transport, format_, options)
    answer = state.api.call("gateway", "PUT", f"/v1/connections/{segment(code)}", body)

    def human() -> None:
        data = answer.body
        click.echo(f"Connection {created_word(answer)}.")
        print_connection(code, data)
        if data.get("webhook_secret"):
            print_once("Webhook signing secret", data["webhook_secret"], "Verify the vendor's deliveries with it.")
        if data.get("api_key"):
            print_once("Vendor API key", data["api_key"], f"A new one: dropship vendor new-key {code}")

    emit(state, answer.body, human)


@vendor.command("connection")
@click.argument("code")
@click.pass_obj
def vendor_connection(state: State, code: str) -> None:
    """Show vendor CODE's gateway connection (no secrets), its last delivery and pickup, failures."""
    answer = state.api.call("gateway", "GET", f"/v1/connections/{segment(code)}")
    emit(state, answer.body, lambda: print_connection(code, answer.body))


@vendor.command("check")
@click.argument("code")
@click.pass_obj
def vendor_check(state: State, code: str) -> None:
    """Try vendor CODE's connection now (log in, list the folders, reach the URL); exit 1 if a step fails."""
    answer = state.api.call("gateway", "POST", f"/v1/connections/{segment(code)}/check")
    data = answer.body

    def human() -> None:
        click.echo(f"Connection of vendor {code}: {'works' if data.get('ok') else 'FAILS'}")
        for step in data.get("steps") or []:
            mark = "ok  " if step.get("ok") else "FAIL"
            detail = f": {step['detail']}" if step.get("detail") else ""
            click.echo(f"  {mark} {step.get('step')}{detail}")

    emit(state, data, human)
    if not data.get("ok"):
        raise click.exceptions.Exit(1)


@vendor.command("new-key")
@click.argument("code")
@click.pass_obj
def vendor_new_key(state: State, code: str) -> None:
    """Issue a new vendor API key for CODE; the old one stops working."""
    answer = state.api.call("gateway", "POST", f"/v1/connections/{segment(code)}/key")

    def human() -> None:
        print_once(
            f"Vendor API key of {code}", as_text(answer.body.get("api_key")), "The previous key no longer works."
        )

    emit(state, answer.body, human)


@click.group(invoke_without_command=True)
@click.option("--vendor", "vendor_code", help="Only this vendor's.")
@click.option("--state", "delivery_state", type=click.Choice(DELIVERY_STATES), help="Only deliveries in this state.")
@click.pass_context
def deliveries(ctx: click.Context, vendor_code: str | None, delivery_state: str | None) -> None:
    """Each vendor order's delivery by the gateway, newest first; `retry` sends one again."""
    if ctx.invoked_subcommand is not None:
        return
    state: State = ctx.obj
    query = {key: value for key, value in (("vendor", vendor_code), ("state", delivery_state)) if value}
    path = "/v1/deliveries" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    answer = state.api.call("gateway", "GET", path)

    def human() -> None:
        found = answer.body.get("deliveries") or []
        if not found:
            click.echo("No deliveries" + (f" ({', '.join(f'{k} {v}' for k, v in query.items())})." if query else "."))
            return
        print_table(found, DELIVERY_COLUMNS, indent="")
        failing = [d for d in found if d.get("last_error")]
        for delivery in failing:
            click.echo(f"{delivery.get('vendor_order_number')}: {delivery['last_error']}")

    emit(state, answer.body, human)


@deliveries.command("retry")
@click.argument("vendor_order_id")
@click.pass_obj
def deliveries_retry(state: State, vendor_order_id: str) -> None:
    """Send VENDOR_ORDER_ID's failed or waiting delivery again now."""
    answer = state.api.call("gateway", "POST", f"/v1/deliveries/{segment(vendor_order_id)}/retry")

    def human() -> None:
        retried = answer.body.get("retried")
        click.echo(f"Vendor order {vendor_order_id}: {'sent again' if retried else 'nothing to retry'}.")
        listed = answer.body.get("deliveries") or []
        if listed:
            print_table(listed, DELIVERY_COLUMNS)

    emit(state, answer.body, human)


@click.group()
def stock() -> None:
    """Stock feeds posted by ops for a vendor (the gateway turns them into inventory.updated)."""


@stock.command("post")
@click.argument("vendor_code", metavar="VENDOR")
@click.argument("feed", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.pass_obj
def stock_post(state: State, vendor_code: str, feed: Path) -> None:
    """Post FEED (a JSON file, - for stdin) as VENDOR's stock: {"mode", "as_of", "items": [{"vendor_sku"|"sku",
    "quantity"}]}."""
    body = read_json_file(feed, "a stock feed")
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise click.BadParameter(f'{feed} is not a stock feed: an object with "items": [...]')
    answer = state.api.call("gateway", "PUT", f"/v1/inventory/{segment(vendor_code)}", body)

    def human() -> None:
        data = answer.body or {}
        what = "received" if data.get("new", True) else "already received (the same feed again changes nothing)"
        click.echo(f"Stock feed of {vendor_code} with {as_text(data.get('items'))} items {what}.")
        print_fields(data, ["feed_id"])

    emit(state, answer.body, human)
