"""``dropship secrets …``: the key that seals stored secrets (``DROPSHIP_SECRET_KEY``), and its rotation."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from shared.cli.client import State
from shared.secrets import RESEAL_PATH, new_secret_key
from shared.settings import ServiceName

SERVICES_STORING_SECRETS: tuple[ServiceName, ...] = ("intake", "gateway")
"""Every service that keeps sealed secrets and serves ``POST /v1/admin/secrets:reseal``."""


@click.group()
def secrets() -> None:
    """The key that seals stored secrets (DROPSHIP_SECRET_KEY) and its rotation."""


@secrets.command("new-key")
def secrets_new_key() -> None:
    """Print a fresh key for DROPSHIP_SECRET_KEY (a Fernet key); nothing is stored or sent."""
    click.echo(new_secret_key())


@secrets.command("rotate")
@click.pass_obj
def secrets_rotate(state: State) -> None:
    """Reseal every stored secret under the first key of DROPSHIP_SECRET_KEY, on every service that
    stores secrets (intake, gateway), and print how many values each rewrote.

    \b
    The rotation, step by step:
      1. dropship secrets new-key                      (a new key)
      2. DROPSHIP_SECRET_KEY=<new>,<old>               (new first: it seals, both open)
      3. restart every service
      4. dropship secrets rotate                       (everything sealed under <new>)
      5. DROPSHIP_SECRET_KEY=<new>, restart            (the old key is no longer needed)

    Run it again if a service did not answer: it is safe to repeat. Exits 1 unless every service answered.
    """
    results: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for service in SERVICES_STORING_SECRETS:
        try:
            answer = state.api.call(service, "POST", RESEAL_PATH)
        except click.ClickException as error:
            failed[service] = error.message
            results[service] = {"error": error.message}
            continue
        results[service] = answer.body
    if state.as_json:
        click.echo(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for name, body in results.items():
            if name not in failed:
                click.echo(f"{name}: {body.get('resealed')} resealed")
    for name, message in failed.items():
        click.echo(f"{name}: not resealed: {message}", file=sys.stderr)
    if failed:
        raise SystemExit(1)
