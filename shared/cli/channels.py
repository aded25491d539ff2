"""``dropship channel …``: sales channels, on intake."""

from __future__ import annotations

from typing import Any

import click

from shared.cli.client import State, segment
from shared.cli.output import created_word, emit, print_fields


@click.group()
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
        # Intake returns the key and a generated secret only in the answer that creates them.
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
