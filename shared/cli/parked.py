"""``dropship parked …``: messages consumers gave up on, read, replayed or discarded on RabbitMQ itself.

The only commands that talk to the broker rather than a service's HTTP API, through
``shared.messaging.parking``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from aio_pika.abc import AbstractConnection

from shared.cli.client import State, one_line
from shared.cli.output import emit, print_fields, print_table
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
from shared.settings import Settings

Result = TypeVar("Result")


@click.group()
def parked() -> None:
    """Parked messages: what consumers gave up on, to look at, replay once fixed, or discard.

    Talks to RabbitMQ directly (DROPSHIP_AMQP_URL, DROPSHIP_NAMESPACE). QUEUE is the queue the messages
    were parked from, such as splitter.orders or vendor.east (the namespace and .parked may be added).
    """


def _on_broker(settings: Settings, work: Callable[[AbstractConnection, Topology], Awaitable[Result]]) -> Result:
    """Run ``work(connection, topology)`` against the broker; its problems become one-line errors.

    The command's one piece of async code: any HTTP call it needs is made before, outside the loop.
    """

    async def run() -> Result:
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

    emit(state, [dataclasses.asdict(q) for q in found], human)


def _print_parked_message(message: ParkedMessage) -> None:
    title = f"{message.message_id or '(no message id)'}  {message.type or '-'}"
    click.echo(f"{title}  order {message.correlation_id or '-'}")
    print_fields(
        {
            "routing key": message.routing_key,
            "from queue": message.original_queue,
            "parked at": message.parked_at,
            "deliveries": message.deliveries,
            "error": f"{message.error_type or '-'}: {one_line(message.error or '-', 500)}",
            "body": one_line(message.as_dict()["body"], 500),
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


def _print_settled(state: State, verb: str, queue: str, messages: list[ParkedMessage]) -> None:
    """What a replay or discard did to which messages; the JSON key is the verb, e.g. ``replayed``."""

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
    _print_settled(state, "Replayed", queue, replayed)


@parked.command("discard")
@click.argument("queue")
@click.option("--message-id", help="Discard only this message.")
@click.option("--all", "discard_all", is_flag=True, help="Discard every parked message of QUEUE.")
@click.pass_obj
def parked_discard(state: State, queue: str, message_id: str | None, discard_all: bool) -> None:
    """Drop QUEUE's parked messages for good (one with --message-id, or --all)."""
    # Unlike a replay, a discard cannot be undone, so dropping everything has to be asked for explicitly.
    if (message_id is None) == (not discard_all):
        raise click.UsageError("give exactly one of --message-id ID or --all")
    discarded = _on_broker(
        state.api.settings, lambda connection, topology: discard_parked(connection, topology, queue, message_id)
    )
    _print_settled(state, "Discarded", queue, discarded)
