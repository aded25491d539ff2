"""``dropship shop …``: Shopify and WooCommerce shops, on the channels service.

Secrets (an access token, a consumer secret, a webhook secret) are read from files, never given as
option values, which would stay in the shell's history and the process list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from shared.cli.client import State, segment
from shared.cli.gateway import read_secret
from shared.cli.output import created_word, emit, print_fields, print_table

SecretFile = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def shop() -> None:
    """Shopify and WooCommerce shops: orders in from their webhooks, fulfillments and stock back."""


@shop.command("add")
@click.argument("code")
@click.option("--platform", type=click.Choice(["shopify", "woocommerce"]), required=True)
@click.option("--channel", required=True, help="The intake channel its orders arrive on (created when missing).")
@click.option("--base-url", required=True, help="Where the shop's API lives: https://acme.myshopify.com.")
@click.option("--access-token-file", type=SecretFile, help="Shopify: a file holding the Admin API access token.")
@click.option("--consumer-key", help="WooCommerce: the REST API consumer key (ck_…).")
@click.option("--consumer-secret-file", type=SecretFile, help="WooCommerce: a file holding the consumer secret.")
@click.option("--webhook-secret-file", type=SecretFile, help="A file holding the secret webhooks are signed with.")
@click.option("--api-version", help="Shopify's Admin API version (default: the current stable one).")
@click.option("--no-push-stock", is_flag=True, help="Do not set the shop's stock from the vendors' feeds.")
@click.option(
    "--tracking-url",
    "tracking_urls",
    multiple=True,
    metavar="CARRIER=URL",
    help="A tracking link for a carrier the platform does not know; {number} is replaced. Repeatable.",
)
@click.option("--location-id", help="Shopify: the location whose stock is set (default: the first active one).")
@click.pass_obj
def shop_add(
    state: State,
    code: str,
    platform: str,
    channel: str,
    base_url: str,
    access_token_file: Path | None,
    consumer_key: str | None,
    consumer_secret_file: Path | None,
    webhook_secret_file: Path | None,
    api_version: str | None,
    no_push_stock: bool,
    tracking_urls: tuple[str, ...],
    location_id: str | None,
) -> None:
    """Add or change shop CODE (PUT /v1/shops/CODE): its webhooks are registered with the platform."""
    body: dict[str, Any] = {"platform": platform, "channel": channel, "base_url": base_url}
    body["push_stock"] = not no_push_stock
    if access_token_file is not None:
        body["access_token"] = read_secret(access_token_file, "the access token")
    if consumer_key is not None:
        body["consumer_key"] = consumer_key
    if consumer_secret_file is not None:
        body["consumer_secret"] = read_secret(consumer_secret_file, "the consumer secret")
    if webhook_secret_file is not None:
        body["webhook_secret"] = read_secret(webhook_secret_file, "the webhook secret")
    if api_version is not None:
        body["api_version"] = api_version
    options: dict[str, Any] = {}
    if tracking_urls:
        pairs = [entry.partition("=") for entry in tracking_urls]
        if any(not carrier or not url for carrier, _, url in pairs):
            raise click.BadParameter("each --tracking-url is CARRIER=URL", param_hint="--tracking-url")
        options["tracking_url_templates"] = {carrier: url for carrier, _, url in pairs}
    if location_id is not None:
        options["location_id"] = location_id
    if options:
        body["options"] = options
    answer = state.api.call("channels", "PUT", f"/v1/shops/{segment(code)}", body)

    def human() -> None:
        data = answer.body
        click.echo(f"Shop {code} {created_word(answer)}.")
        print_fields(data, ["platform", "channel", "base_url", "api_version", "push_stock"])
        webhooks = data.get("webhooks") or {}
        if webhooks.get("error"):
            click.echo(f"Webhooks not registered yet (tried again hourly): {webhooks['error']}")
        else:
            click.echo(f"Webhooks: {', '.join(webhooks.get('topics') or [])}")

    emit(state, answer.body, human)


@shop.command("list")
@click.pass_obj
def shop_list(state: State) -> None:
    """Every shop."""
    answer = state.api.call("channels", "GET", "/v1/shops")
    emit(state, answer.body, lambda: print_table(answer.body["shops"], ["code", "platform", "channel", "base_url"]))


@shop.command("show")
@click.argument("code")
@click.pass_obj
def shop_show(state: State, code: str) -> None:
    """Shop CODE: webhooks, reconcile and the backlog owed to intake and the platform."""
    answer = state.api.call("channels", "GET", f"/v1/shops/{segment(code)}")

    def human() -> None:
        data = answer.body
        print_fields(data, ["platform", "channel", "base_url", "api_version", "push_stock"])
        for kind, figures in (data.get("backlog") or {}).items():
            click.echo(f"  {kind + ':':<10} " + ", ".join(f"{key} {value}" for key, value in figures.items()))

    emit(state, answer.body, human)


@shop.command("tasks")
@click.argument("code")
@click.option("--state", "task_state", type=click.Choice(["pending", "done", "failed"]))
@click.pass_obj
def shop_tasks(state: State, code: str, task_state: str | None) -> None:
    """Shop CODE's webhooks and shipment pushes, newest first."""
    query = f"?state={task_state}" if task_state else ""
    answer = state.api.call("channels", "GET", f"/v1/shops/{segment(code)}/tasks{query}")
    columns = ["seq", "kind", "topic", "state", "attempts", "outcome", "last_error"]
    emit(state, answer.body, lambda: print_table(answer.body["tasks"], columns))


@shop.command("retry")
@click.argument("code")
@click.argument("seq", type=int)
@click.pass_obj
def shop_retry(state: State, code: str, seq: int) -> None:
    """Try shop CODE's failed task SEQ again."""
    answer = state.api.call("channels", "POST", f"/v1/shops/{segment(code)}/tasks/{seq}/retry")
    emit(state, answer.body, lambda: click.echo(f"Task {seq} of shop {code} is due again."))


@shop.command("reconcile")
@click.argument("code")
@click.pass_obj
def shop_reconcile(state: State, code: str) -> None:
    """Ask shop CODE's platform now for orders changed since the last one seen."""
    answer = state.api.call("channels", "POST", f"/v1/shops/{segment(code)}/reconcile")
    emit(state, answer.body, lambda: click.echo(f"{answer.body.get('queued', 0)} orders queued from shop {code}."))
