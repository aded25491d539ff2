"""The SQL of a ship-to change: the stored order's ``ship_to``, a line in its history and the
``order.ship_to_changed`` event, in one statement."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.intake.repository import IntakeRepository, PostgresDatabase
from shared.contracts.envelope import Envelope
from shared.contracts.orders import Address
from shared.messaging.outbox import insert_event_sql, outbox_row

SET_SHIP_TO_ANNOUNCED_SQL = (
    "WITH changed AS (UPDATE orders SET payload = jsonb_set(payload, '{ship_to}', $2::jsonb), updated_at = now()"  # noqa: S608 - constant SQL
    "  WHERE id = $1 RETURNING id, status),"
    " history AS (INSERT INTO order_status_history (order_id, status, cause) SELECT id, status, $3 FROM changed)"
    f" {insert_event_sql(4, for_each_row_of='changed')}"
)


class ShipToRepository(IntakeRepository):
    """Intake's tables, and the ship-to change."""

    async def set_ship_to_announced(self, order_id: str, ship_to: Address, cause: str, event: Envelope) -> None:
        """Store the order's new ship-to, note it in the history (the status stays) and write ``event``
        to the outbox: one statement."""
        await self._db.execute(
            SET_SHIP_TO_ANNOUNCED_SQL, order_id, ship_to.model_dump(mode="json"), cause, *outbox_row(event)
        )


class PostgresShipToDatabase(PostgresDatabase):
    """:class:`PostgresDatabase` whose transactions also change ship-tos."""

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[ShipToRepository]:
        async with self.pool.acquire() as connection, connection.transaction():
            yield ShipToRepository(connection)
