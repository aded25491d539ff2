"""Stored secrets, encrypted at rest: the one place that seals and opens them, and reseals what is stored.

Every secret a service keeps and must use again in clear (a vendor's SFTP password or private key, a
vendor or channel webhook secret, a platform token) is sealed with :class:`SecretBox`: Fernet
(AES-128-CBC with HMAC-SHA256, from ``cryptography``) under ``DROPSHIP_SECRET_KEY``. The setting holds
one or more keys separated by commas; the first seals, every one of them opens (``MultiFernet``), so a
key is rotated by putting the new one first, resealing what is stored (:func:`reseal_stored`, served as
``POST /v1/admin/secrets:reseal`` by :func:`reseal_route`), then dropping the old one. Secrets we only
compare (API keys) are hashed, not sealed: :func:`hash_api_key`.

A service names the columns it seals with :class:`SealedColumn`; values written before sealing existed
are sealed at its start by :func:`seal_clear_stored` (a SQL migration cannot encrypt).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from shared.http import ApiError, json_response, require_admin
from shared.logging import get_logger
from shared.openapi import Operation, error, json_reply

log = get_logger(__name__)

SEALED_PREFIX = "gAAAAA"
"""How every Fernet token begins (version byte 0x80 and a timestamp's high bytes, in base64): tells a
sealed value from one stored in clear before sealing existed."""
RESEAL_PATH = "/v1/admin/secrets:reseal"
RESEAL_BATCH_ROWS = 100
"""Rows resealed per transaction: each batch's row locks are held only while it is rewritten."""
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_UNOPENABLE = "a stored secret cannot be opened with any key in DROPSHIP_SECRET_KEY"


class SecretKeyError(ValueError):
    """``DROPSHIP_SECRET_KEY`` is missing or not a list of Fernet keys (the message never shows a key)."""


class StoredSecretUnopenable(ValueError):
    """A stored value opens with no key in the setting (its key was dropped too early, or it is damaged)."""


class SecretBox:
    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise SecretKeyError("DROPSHIP_SECRET_KEY holds no key")
        fernets: list[Fernet] = []
        for position, part in enumerate(parts, start=1):
            try:
                fernets.append(Fernet(part.encode()))
            except (ValueError, TypeError):
                raise SecretKeyError(
                    f"DROPSHIP_SECRET_KEY: key {position} of {len(parts)} is not a Fernet key"
                    " (32 bytes in URL-safe base64; `dropship secrets new-key` makes one)"
                ) from None
        self._first = fernets[0]
        self._box = MultiFernet(fernets)

    def seal(self, plaintext: str) -> str:
        return self._box.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret in clear; ``ValueError`` when no key in the setting opens it (never shows it)."""
        try:
            return self._box.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError(_UNOPENABLE) from None

    def reseal(self, sealed: str) -> str:
        """The same secret sealed under the first key (what rotation writes back)."""
        try:
            return self._box.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError(_UNOPENABLE) from None

    def sealed_under_first_key(self, value: str) -> bool:
        """Whether ``value`` is sealed and opens with the first key: resealing it would change nothing."""
        if not is_sealed(value):
            return False
        try:
            self._first.decrypt(value.encode())
        except InvalidToken:
            return False
        return True


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED_PREFIX)


def new_secret_key() -> str:
    return Fernet.generate_key().decode()


def new_api_key(prefix: str) -> str:
    """A random API key, ``<prefix>_`` and 32 random bytes: only its hash is stored."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    """SHA-256 of a random key: enough for a 256-bit random value (no password to stretch)."""
    return hashlib.sha256(key.encode()).hexdigest()


# ------------------------------------------------------------------------------------------ what is stored


@dataclass(frozen=True)
class SealedColumn:
    """A column holding sealed secrets (``NULL`` allowed), in a table of the pool's schema, with the
    column that identifies its rows."""

    table: str
    key_column: str
    column: str

    def __post_init__(self) -> None:
        # The names go into SQL text: only plain lower-case identifiers, which need no quoting.
        for name in (self.table, self.key_column, self.column):
            if not _IDENTIFIER.match(name):
                raise ValueError(f"{name!r} is not a plain SQL identifier")

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


async def reseal_stored(pool: asyncpg.Pool, box: SecretBox, columns: Sequence[SealedColumn]) -> int:
    """Rewrite every stored value of ``columns`` under the first key (values in clear are sealed now),
    in short transactions that lock the rows they rewrite. Answers how many values were rewritten;
    values already sealed under the first key are left as they are, so a second run answers 0.

    Raises :class:`StoredSecretUnopenable`, naming the column and the row, when a value opens with no key.
    """
    rewritten = 0
    for column in columns:
        rewritten += await _reseal_column(pool, box, column)
    return rewritten


async def _reseal_column(pool: asyncpg.Pool, box: SecretBox, column: SealedColumn) -> int:
    table, key, value = column.table, column.key_column, column.column
    first_batch = (
        f"SELECT {key} AS key, {value} AS value FROM {table} WHERE {value} IS NOT NULL"  # noqa: S608 - identifiers checked
        f" ORDER BY {key} LIMIT $1 FOR UPDATE"
    )
    next_batch = (
        f"SELECT {key} AS key, {value} AS value FROM {table} WHERE {value} IS NOT NULL AND {key} > $2"  # noqa: S608
        f" ORDER BY {key} LIMIT $1 FOR UPDATE"
    )
    update = f"UPDATE {table} SET {value} = $2 WHERE {key} = $1"  # noqa: S608 - identifiers checked
    rewritten = 0
    after: Any = None
    while True:
        async with pool.acquire() as connection, connection.transaction():
            if after is None:
                rows = await connection.fetch(first_batch, RESEAL_BATCH_ROWS)
            else:
                rows = await connection.fetch(next_batch, RESEAL_BATCH_ROWS, after)
            changes = [
                (row["key"], _resealed(box, column, row["key"], row["value"]))
                for row in rows
                if not box.sealed_under_first_key(row["value"])
            ]
            if changes:
                await connection.executemany(update, changes)
        rewritten += len(changes)
        if len(rows) < RESEAL_BATCH_ROWS:
            return rewritten
        after = rows[-1]["key"]


def _resealed(box: SecretBox, column: SealedColumn, key: Any, value: str) -> str:
    if not is_sealed(value):
        return box.seal(value)
    try:
        return box.reseal(value)
    except ValueError:
        raise StoredSecretUnopenable(
            f"{column.name} of {key!r} opens with no key in DROPSHIP_SECRET_KEY (was its key dropped already?)"
        ) from None


async def seal_clear_stored(pool: asyncpg.Pool, box: SecretBox, columns: Sequence[SealedColumn]) -> int:
    """Seal the values of ``columns`` still stored in clear (written before sealing existed): one
    statement per row, which rewrites it only if it still holds the clear value read, so two instances
    starting together, or a second start, change nothing twice. Answers how many were sealed."""
    sealed = 0
    for column in columns:
        table, key, value = column.table, column.key_column, column.column
        rows = await pool.fetch(
            f"SELECT {key} AS key, {value} AS value FROM {table}"  # noqa: S608 - identifiers checked
            f" WHERE {value} IS NOT NULL AND NOT starts_with({value}, $1)",
            SEALED_PREFIX,
        )
        for row in rows:
            result: str = await pool.execute(
                f"UPDATE {table} SET {value} = $2 WHERE {key} = $1 AND {value} = $3",  # noqa: S608
                row["key"],
                box.seal(row["value"]),
                row["value"],
            )
            sealed += result == "UPDATE 1"
    return sealed


def reseal_route(pool: asyncpg.Pool, box: SecretBox, columns: Sequence[SealedColumn]) -> web.RouteDef:
    """``POST /v1/admin/secrets:reseal`` (admin token): :func:`reseal_stored` over ``columns``, answering
    ``{"resealed": n}``; ``409`` when a stored value opens with no key. Document it with
    :data:`RESEAL_OPERATION`."""

    async def reseal(request: web.Request) -> web.Response:
        require_admin(request)
        try:
            count = await reseal_stored(pool, box, columns)
        except StoredSecretUnopenable as unopenable:
            raise ApiError(409, "secret_unopenable", str(unopenable)) from None
        log.info("stored secrets resealed", resealed=count, columns=[column.name for column in columns])
        return json_response({"resealed": count})

    return web.post(RESEAL_PATH, reseal)


RESEAL_OPERATION = Operation(
    "post",
    RESEAL_PATH,
    "resealSecrets",
    "Reseal the service's stored secrets under the first key of DROPSHIP_SECRET_KEY (key rotation).",
    "admin",
    {
        200: json_reply(
            "Resealed; `resealed` counts the values rewritten (0 when all were sealed under the first key).",
            {
                "type": "object",
                "required": ["resealed"],
                "properties": {"resealed": {"type": "integer", "minimum": 0}},
            },
        ),
        409: error(
            "A stored secret opens with no key in DROPSHIP_SECRET_KEY (`secret_unopenable`, naming its row); "
            "what was resealed before it stays resealed, so calling again after fixing the keys is safe."
        ),
    },
    description="Rotation: put the new key first in DROPSHIP_SECRET_KEY (`new,old`), restart every service, "
    "call this on each (`dropship secrets rotate` does), then drop the old key. Idempotent.",
    tag="admin API",
)
