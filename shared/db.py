"""PostgreSQL access: the database itself, per-service schemas, migrations and connection pools.

Every service owns one schema named after it. Migrations are plain SQL files applied in name order,
first the shared messaging tables (outbox, inbox) and then the service's own, each file in its own
transaction and recorded in ``<schema>.schema_migrations``. An advisory lock lets several instances
start at once.

``DROPSHIP_DATABASE_URL`` may name several hosts, as libpq does
(``postgresql://user@db1:5432,db2:5432/dropship?target_session_attrs=read-write``): every connection
(pools, LISTEN, migrations) tries them in turn and keeps the first that takes writes, so after a
failover the services find the promoted replica by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import asyncpg
import orjson

from shared.logging import get_logger

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
    """A connection, whether opened directly or borrowed from a pool."""
    Queryable: TypeAlias = Connection | asyncpg.Pool[asyncpg.Record]
    """Anything that runs a query: a connection or a pool."""
else:
    Connection = Queryable = asyncpg.Connection

SHARED_MIGRATIONS = Path(__file__).parent / "messaging" / "migrations"
LISTEN_CHECK_SECONDS = 10.0
"""How often a LISTEN connection that heard nothing proves it is still there (a half-open socket after
a failover or a network cut would otherwise leave the relay on its idle polling for good)."""

log = get_logger(__name__)


class InfrastructureUnavailable(RuntimeError):
    """RabbitMQ or PostgreSQL does not answer; the message names what was tried and how to start it."""


DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused or reset: the server is down or restarting
    TimeoutError,  # connecting, or waiting for a pool connection, took too long
    asyncpg.PostgresConnectionError,  # includes "connection was closed in the middle of operation"
    asyncpg.CannotConnectNowError,  # "the database system is starting up / shutting down"
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # A pooled connection the server dropped while it sat idle fails on its next use with these
    # (seen on every PostgreSQL restart under load), not with a connection error.
    asyncpg.InterfaceError,  # "cannot call Transaction.__aexit__(): the underlying connection is closed"
    asyncpg.InternalClientError,  # "cannot switch to state 12; another operation (2) is in progress"
    # (also TargetServerAttributeNotMatched: no host takes writes yet, the replica not promoted so far)
    # A write that reached a server which no longer takes them (a standby, a primary being failed over):
    # the next connection finds the new primary.
    asyncpg.ReadOnlySQLTransactionError,
)
"""Errors that mean PostgreSQL is away for now, not that the request or message is wrong."""


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from or while handling, says PostgreSQL is away.

    The chain matters: a transaction whose connection died raises ``InterfaceError`` on exit with the
    real cause as its context.
    """
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, DATABASE_UNAVAILABLE):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> str:
    """JSON for json/jsonb columns: orjson (every stored order goes through here), falling back to the
    standard library for what orjson refuses, such as integers wider than 64 bits."""
    try:
        return orjson.dumps(value, default=_json_default).decode()
    except TypeError:
        return json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)


_LONG_DIGIT_RUN = re.compile(r"\d{19}")


def loads(text: str) -> Any:
    """The inverse of :func:`dumps`. orjson reads an integer wider than 64 bits as a float, so text
    with a run of 19 digits (mostly tracking numbers in strings, where it would not matter) is left to
    the standard library, which keeps every integer exact."""
    if _LONG_DIGIT_RUN.search(text):
        return json.loads(text)
    return orjson.loads(text)


async def _init_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec("jsonb", encoder=dumps, decoder=loads, schema="pg_catalog")
    await connection.set_type_codec("json", encoder=dumps, decoder=loads, schema="pg_catalog")


_URL_BOUNDARY = re.compile(r"(,\s*)(?=[A-Za-z][A-Za-z0-9+.-]*://)")
_PASSWORD_PARAMETER = re.compile(r"(?i)([?&](?:ssl)?password=)[^&#]*")
_REDACTED = r"\1***"


def _redacted_url(url: str) -> str:
    scheme, separator, rest = url.partition("://")
    if not separator:
        return _PASSWORD_PARAMETER.sub(_REDACTED, url)
    end = min((index for index in (rest.find(c) for c in "/?#") if index >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    userinfo, at, hosts = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.split(':', 1)[0]}:***@{hosts}"
    return f"{scheme}://{authority}{_PASSWORD_PARAMETER.sub(_REDACTED, tail)}"


def redacted_dsn(dsn: str) -> str:
    """``dsn`` fit for a log line: every password replaced by ``***``, in the user info and in a
    ``password`` parameter, whether it is one URL, one URL naming several hosts
    (``postgresql://u:pw@db1,db2/x``) or a comma-separated list of URLs (``DROPSHIP_AMQP_URL``)."""
    parts = _URL_BOUNDARY.split(dsn)
    # The separators are kept at the odd indices; the URLs are at the even ones.
    return "".join(part if index % 2 else _redacted_url(part) for index, part in enumerate(parts))


WRITABLE_TARGETS = frozenset({"read-write", "primary"})


def target_session_attrs(dsn: str, environ: Mapping[str, str]) -> str:
    """The ``target_session_attrs`` a connection to ``dsn`` asks for: the URL's, else libpq's
    ``PGTARGETSESSIONATTRS``, else ``any`` (as asyncpg reads them)."""
    for key, value in parse_qsl(urlsplit(dsn).query):
        if key == "target_session_attrs":
            return value
    return environ.get("PGTARGETSESSIONATTRS", "any")


def takes_writes(server: Mapping[str, str]) -> bool:
    """Whether a session whose server reported ``server`` (its parameter status: PostgreSQL 14 and
    later report ``in_hot_standby`` and ``default_transaction_read_only``, and report them again when
    they change) can write."""
    return server.get("in_hot_standby", "off") != "on" and server.get("default_transaction_read_only", "off") != "on"


def _server_status(connection: asyncpg.Connection) -> dict[str, str]:
    settings = connection.get_settings()
    return {
        name: str(getattr(settings, name))
        for name in ("in_hot_standby", "default_transaction_read_only")
        if hasattr(settings, name)
    }


def _admin_dsn(dsn: str) -> tuple[str, str]:
    parts = urlsplit(dsn)
    database = parts.path.lstrip("/") or "postgres"
    return urlunsplit(parts._replace(path="/postgres")), database


async def ensure_database(dsn: str) -> None:
    """Create the database named in ``dsn`` if it does not exist yet."""
    admin_dsn, database = _admin_dsn(dsn)
    try:
        connection = await asyncpg.connect(admin_dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        raise InfrastructureUnavailable(
            f"PostgreSQL does not answer at {redacted_dsn(admin_dsn)} ({error}); start it with "
            "'pg_ctlcluster --skip-systemctl-redirect <version> main start' or 'docker compose up -d postgres'"
        ) from error
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            # Another process may create it between our check and our create.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()


async def drop_database(dsn: str) -> None:
    admin_dsn, database = _admin_dsn(dsn)
    connection = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await connection.close()


def migration_files(service_dir: Path) -> list[tuple[str, Path]]:
    """The migrations of one service, shared ones first, as (recorded name, file)."""
    shared = [(f"shared/{path.name}", path) for path in sorted(SHARED_MIGRATIONS.glob("*.sql"))]
    own = [(path.name, path) for path in sorted((service_dir / "migrations").glob("*.sql"))]
    return shared + own


async def migrate(dsn: str, schema: str, files: Sequence[tuple[str, Path]]) -> list[str]:
    """Apply the migrations not applied yet to ``schema``. Answers the names applied now."""
    connection = await asyncpg.connect(dsn, timeout=10)
    applied_now: list[str] = []
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", zlib.crc32(schema.encode()))
        try:
            await connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await connection.execute(f'SET search_path TO "{schema}"')
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row["name"] for row in await connection.fetch("SELECT name FROM schema_migrations")}
            for name, path in files:
                if name in done:
                    continue
                async with connection.transaction():
                    await connection.execute(path.read_text())
                    await connection.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied_now.append(name)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", zlib.crc32(schema.encode()))
    finally:
        await connection.close()
    return applied_now


async def pending_migrations(pool: asyncpg.Pool, files: Sequence[tuple[str, Path]]) -> list[str]:
    try:
        rows = await pool.fetch("SELECT name FROM schema_migrations")
    except asyncpg.UndefinedTableError:
        return [name for name, _ in files]
    done = {row["name"] for row in rows}
    return [name for name, _ in files if name not in done]


async def _skip_session_reset(_connection: asyncpg.Connection) -> None:
    """What a connection going back to the pool needs beyond asyncpg's own clean-up: nothing.

    asyncpg always rolls back a transaction left open and drops listeners on release; its default
    reset then also sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``: one more
    round trip and ~25 µs of client CPU per release, and a service releases several per order
    (measured: 6,600 vs 4,300 acquire-query-release/s). Pool connections never hold session state
    here: advisory locks, LISTEN and ``SET search_path`` use dedicated connections. Keep it so (use
    ``SET LOCAL`` inside a transaction), or bring the full reset back.
    """


async def _drop_unless_writable(connection: asyncpg.Connection) -> None:
    """On release, for a pool whose URL asks for a writable server: a connection whose server stopped
    taking writes is closed, so the pool's next acquire connects again, to whichever host is the
    primary now, instead of handing out a session that fails every write. A connection the server
    dropped (the old primary stopped) is discarded by asyncpg itself. Costs no round trip: the
    server reports both parameters on its own."""
    if not takes_writes(_server_status(connection)):
        log.warning("database connection no longer takes writes, dropped", server=_server_status(connection))
        connection.terminate()


RELAY_IN_PROCESS_SETTING = "dropship.relay_in_process"
"""Set on a service's own pool: its outbox inserts do not NOTIFY (the migration
``shared/messaging/migrations/002_outbox_notify_from_outside.sql``), because the service wakes the
relay of its own process after each commit that wrote outbox rows."""


async def create_pool(dsn: str, schema: str, *, max_size: int = 10, relay_in_process: bool = False) -> asyncpg.Pool:
    """A pool whose connections see the service's schema first and decode JSON columns.

    ``relay_in_process``: whoever commits outbox rows on this pool wakes the outbox relay of this
    process itself (:meth:`shared.messaging.outbox.OutboxRelay.wake`), so the table's NOTIFY is left
    out. Only the service's runtime pool says so; any other writer still wakes relays by NOTIFY."""
    server_settings = {"search_path": schema, "timezone": "UTC"}
    if relay_in_process:
        server_settings[RELAY_IN_PROCESS_SETTING] = "on"
    try:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=max_size,
            init=_init_connection,
            reset=_drop_unless_writable
            if target_session_attrs(dsn, os.environ) in WRITABLE_TARGETS
            else _skip_session_reset,
            server_settings=server_settings,
            timeout=10,
        )
    except (OSError, asyncpg.PostgresError) as error:
        raise InfrastructureUnavailable(
            f"PostgreSQL does not answer at {redacted_dsn(dsn)} ({error}); start it with "
            "'pg_ctlcluster --skip-systemctl-redirect <version> main start' or 'docker compose up -d postgres'"
        ) from error
    assert pool is not None
    return pool


async def listen_forever(
    dsn: str,
    channel: str,
    on_notify: Callable[[], None],
    stopping: asyncio.Event,
    *,
    check_seconds: float = LISTEN_CHECK_SECONDS,
) -> None:
    """Keep a ``LISTEN channel`` open until ``stopping`` is set, reconnecting after database restarts
    and failovers (a multi-host ``dsn`` finds the new primary).

    ``on_notify`` is also called after every (re)connect: notifications sent while we were not
    listening are lost, so the caller must look for work then. A connection that heard nothing for
    ``check_seconds`` is asked to LISTEN once more: one that does not answer, or whose server stopped taking
    writes (so NOTIFYs now come from elsewhere), is replaced.
    """
    writable = target_session_attrs(dsn, os.environ) in WRITABLE_TARGETS
    listen = 'LISTEN "{}"'.format(channel.replace('"', '""'))  # as asyncpg's add_listener quotes it
    lost_before = False
    while not stopping.is_set():
        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(dsn, timeout=10)
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
            await connection.add_listener(channel, lambda *_args: on_notify())
            if lost_before:
                log.info("listening again", channel=channel)
            lost_before = True
            on_notify()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), timeout=check_seconds)
                if not lost.is_set():
                    # LISTEN again, a no-op for the server, as the probe: the session's last query
                    # stays "LISTEN ..." in pg_stat_activity, where operators (and the chaos audit) look.
                    await connection.execute(listen, timeout=check_seconds)
                    if writable and not takes_writes(_server_status(connection)):
                        break
        except asyncio.CancelledError:
            raise
        except Exception:
            await asyncio.sleep(1.0)
        finally:
            if connection is not None and not connection.is_closed():
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)
