"""Intake's API as the channels service uses it: a channel like any other, with its channel key for
orders, and the admin token only to set a shop's channel up."""

from __future__ import annotations

from typing import Any, Literal

import aiohttp

from shared.logging import get_logger

log = get_logger(__name__)


class IntakeUnavailable(Exception):
    """Intake did not answer, or answered 5xx: try again later."""


class IntakeRefused(Exception):
    """Intake answered 4xx: the same request will not pass later."""

    def __init__(self, status: int, body: Any) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        detail = (error or {}).get("message") if isinstance(error, dict) else None
        super().__init__(f"intake answered {status}: {detail or body}")
        self.status = status
        self.body = body


class IntakeClient:
    def __init__(self, session: aiohttp.ClientSession, intake_url: str, admin_token: str) -> None:
        self._session = session
        self._url = intake_url
        self._admin = admin_token

    async def _call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with self._session.request(method, f"{self._url}{path}", json=body, headers=headers) as response:
                answer = await response.json() if response.content_type == "application/json" else None
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise IntakeUnavailable(f"intake does not answer ({type(error).__name__})") from None
        if status >= 500:
            raise IntakeUnavailable(f"intake answered {status}")
        return status, answer

    async def create_order(self, channel_key: str, order: dict[str, Any]) -> tuple[str, bool]:
        """The intake order's id, and whether it was new (201) or already there (200)."""
        status, body = await self._call("POST", "/v1/orders", channel_key, order)
        if status not in (200, 201):
            raise IntakeRefused(status, body)
        return str(body["id"]), status == 201

    async def change_status(self, channel_key: str, order_id: str, status: str) -> None:
        answer, body = await self._call("POST", f"/v1/orders/{order_id}/status", channel_key, {"status": status})
        # 409: the order is cancelled already; its payment status no longer matters.
        if answer not in (200, 202, 409):
            raise IntakeRefused(answer, body)

    async def change_ship_to(
        self, channel_key: str, order_id: str, ship_to: dict[str, Any]
    ) -> Literal["changed", "unchanged", "closed"]:
        """Where the order ships to now: changed (202), the same already (200), or closed (409: it shipped
        or was cancelled, nothing is left to send there)."""
        answer, body = await self._call("POST", f"/v1/orders/{order_id}/ship_to", channel_key, ship_to)
        if answer == 202:
            return "changed"
        if answer == 200:
            return "unchanged"
        if answer == 409:
            return "closed"
        raise IntakeRefused(answer, body)

    async def cancel(self, channel_key: str, order_id: str, reason: str) -> None:
        answer, body = await self._call("POST", f"/v1/orders/{order_id}/cancel", channel_key, {"reason": reason[:500]})
        # 409: nothing left to cancel (already cancelled or shipped): the platform's wish is met as far as it can be.
        if answer not in (200, 202, 409):
            raise IntakeRefused(answer, body)

    async def channel(self, code: str) -> dict[str, Any] | None:
        status, body = await self._call("GET", f"/v1/channels/{code}", self._admin)
        if status == 404:
            return None
        if status != 200:
            raise IntakeRefused(status, body)
        return dict(body)

    async def create_channel(self, code: str, name: str) -> None:
        """A channel with no webhook URL: the shop hears of its orders through this service, not a webhook."""
        status, body = await self._call("PUT", f"/v1/channels/{code}", self._admin, {"name": name})
        if status not in (200, 201):
            raise IntakeRefused(status, body)

    async def new_channel_key(self, code: str) -> str:
        status, body = await self._call("POST", f"/v1/channels/{code}/key", self._admin)
        if status not in (200, 201):
            raise IntakeRefused(status, body)
        return str(body["api_key"])
