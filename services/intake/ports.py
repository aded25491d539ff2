"""What intake's use cases need from the outside, as small interfaces: its tables (one statement at a
time, or inside a transaction the use case opens), the listings for ops and the other services' view of
an order. The real ones are :class:`services.intake.repository.PostgresDatabase`,
:class:`services.intake.listing.PostgresListing` and :class:`services.intake.progress.ServicesProgress`;
unit tests pass fakes."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from services.intake.holds import HoldState
from services.intake.order_search import OrderSearch
from services.intake.repository import Channel, StoredOrder
from shared.contracts.envelope import Envelope
from shared.contracts.orders import OrderReceivedData


class Tables(Protocol):
    """Intake's tables, as :class:`services.intake.repository.IntakeRepository` reads and writes them."""

    async def get_channel(self, code: str) -> Channel | None: ...

    async def channel_for_key(self, key_hash: str) -> str | None: ...

    async def upsert_channel(
        self,
        code: str,
        name: str,
        webhook_url: str | None,
        webhook_secret: str | None,
        new_secret: str,
        new_key_hash: str,
    ) -> bool: ...

    async def rotate_key(self, code: str, key_hash: str) -> bool: ...

    async def insert_order_announced(self, order: OrderReceivedData, event: Envelope) -> datetime | None: ...

    async def get_order(self, order_id: str, *, lock: bool = False) -> StoredOrder | None: ...

    async def get_order_by_external_id(self, channel: str, external_id: str) -> StoredOrder | None: ...

    async def set_status_announced(self, order_id: str, status: str, cause: str, event: Envelope) -> None: ...

    async def set_channel_status_announced(
        self, order_id: str, channel_status: str, cause: str, event: Envelope
    ) -> None: ...

    async def set_holds(self, order_id: str, state: HoldState) -> None: ...

    async def record_status_change(
        self,
        order_id: str,
        status: str,
        cause: str,
        delivery_id: str,
        channel: str,
        event_type: str,
        body: dict[str, Any],
    ) -> None: ...

    async def status_history(self, order_id: str) -> list[dict[str, Any]]: ...

    async def deliveries_for_order(self, order_id: str) -> list[dict[str, Any]]: ...


class Database(Protocol):
    """``tables``: each call one statement, committed by itself; ``transaction()``: the same tables on
    one connection, committed when the block ends (rolled back when it raises)."""

    @property
    def tables(self) -> Tables: ...

    def transaction(self) -> AbstractAsyncContextManager[Tables]: ...


class Listing(Protocol):
    """The listings for ops (:class:`services.intake.listing.PostgresListing`): each call one statement."""

    async def orders_page(self, search: OrderSearch) -> list[dict[str, Any]]:
        """Up to ``search.limit + 1`` stored orders, newest first, with the columns
        :func:`services.intake.order_search.order_row` reads."""
        ...

    async def status_counts(self, since: datetime) -> dict[str, int]:
        """Orders received at or after ``since``, by status (statuses without any left out)."""
        ...

    async def minutes_ago(self, now: datetime, minutes: int) -> dict[int, int]:
        """Orders received in the last ``minutes`` minutes before ``now``, by whole minutes ago (0: the last
        60 seconds; minutes without any left out)."""
        ...

    async def channels(self) -> list[dict[str, Any]]:
        """Every channel's code, name and webhook URL, by code."""
        ...


class OrderProgress(Protocol):
    """What the splitter and tracking know of an order. Each answers the service's JSON, ``None`` when
    it has not seen the order, or ``{"unavailable": <why>}`` when it does not answer: an order view is
    still shown while another service is away."""

    async def routing(self, order_id: str) -> Any: ...

    async def shipments(self, order_id: str) -> Any: ...


OutboxWritten = Callable[[], None]
"""Called after a use case committed outbox rows: the relay publishes them now rather than on its next poll."""
