"""What the splitter's holds do to an order as intake keeps it, free of I/O.

The splitter holds an order (``order.held``: the reasons, each for the whole order or one line) and
releases it (``order.released``: it routes it then). Intake keeps its own copy, so the order's view
and the channel's webhooks say the same thing without asking the splitter. Both events may arrive
late and out of order: the holds stand as of the ``occurred_at`` of the last event applied, and an
older one changes nothing. Tracking's statuses (shipped, cancelled, ...) are news a hold does not
undo: a hold on such an order is kept, but the status stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.contracts.orders import HoldReason


@dataclass(frozen=True)
class Hold:
    """One reason the order waits, since when it has (kept while later ``order.held`` events repeat it)."""

    code: str
    detail: str
    line_id: str | None
    since: datetime

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "line_id": self.line_id, "since": self.since.isoformat()}

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> Hold:
        return cls(stored["code"], stored["detail"], stored.get("line_id"), datetime.fromisoformat(stored["since"]))


@dataclass(frozen=True)
class HoldState:
    """The holds intake stores for an order, and the time of the event that set them (``None``: none yet)."""

    holds: tuple[Hold, ...] = ()
    as_of: datetime | None = None


NO_HOLDS = HoldState()


@dataclass(frozen=True)
class HoldOutcome:
    """An ``order.held`` or ``order.released`` applied: the holds and status to store, and whether the
    channel is told (its webhook carries the status and the holds)."""

    state: HoldState
    status: str
    tell_channel: bool


HOLDABLE_STATUSES = frozenset({"received", "held", "routed"})
"""Nothing of the order has shipped nor been cancelled, so a hold is what happens to it now. ``routed``
is in: intake stores it only after a release, and an order routed without one is still ``received``
here, so leaving it out would treat the same order differently by its history."""

RELEASED_STATUSES = frozenset({"received", "held"})
"""The statuses a release turns into ``routed`` (the splitter routes what it releases)."""


def _is_stale(state: HoldState, occurred_at: datetime) -> bool:
    return state.as_of is not None and occurred_at < state.as_of


def _as_told(holds: Sequence[Hold]) -> list[tuple[str, str | None, str]]:
    return [(hold.code, hold.line_id, hold.detail) for hold in holds]


def after_held(
    status: str, state: HoldState, reasons: Sequence[HoldReason], occurred_at: datetime
) -> HoldOutcome | None:
    """``order.held`` at ``occurred_at`` for an order in ``status``; ``None`` when a newer hold or
    release was applied already. The reasons replace the holds; a reason already held (same code and
    line) keeps its ``since``. The channel hears of a new status, and of new reasons while held."""
    if _is_stale(state, occurred_at):
        return None
    held_since = {(hold.code, hold.line_id): hold.since for hold in state.holds}
    holds = tuple(
        Hold(reason.code, reason.detail, reason.line_id, held_since.get((reason.code, reason.line_id), occurred_at))
        for reason in reasons
    )
    new_status = "held" if status in HOLDABLE_STATUSES else status
    reasons_changed = _as_told(holds) != _as_told(state.holds)
    tell = new_status != status or (new_status == "held" and reasons_changed)
    return HoldOutcome(HoldState(holds, occurred_at), new_status, tell)


def after_released(status: str, state: HoldState, occurred_at: datetime) -> HoldOutcome | None:
    """``order.released`` at ``occurred_at``; ``None`` when a newer hold was applied already (it stands).
    The holds are gone; a held order is ``routed`` now, one that shipped or was cancelled keeps its status."""
    if _is_stale(state, occurred_at):
        return None
    new_status = "routed" if status in RELEASED_STATUSES else status
    return HoldOutcome(HoldState((), occurred_at), new_status, new_status != status)


def hold_reason(holds: Sequence[Hold]) -> str | None:
    """The holds as one line a person reads (the order view's ``hold_reason``)."""
    return "; ".join(hold.detail for hold in holds) or None
