"""The other services' view of an order, asked over their HTTP APIs with the admin token."""

from __future__ import annotations

from typing import Any

import aiohttp


class ServicesProgress:
    def __init__(
        self, session: aiohttp.ClientSession, *, splitter_url: str, tracking_url: str, admin_token: str
    ) -> None:
        self._session = session
        self._splitter_url = splitter_url
        self._tracking_url = tracking_url
        self._headers = {"Authorization": f"Bearer {admin_token}"}

    async def routing(self, order_id: str) -> Any:
        return await self._fetch(f"{self._splitter_url}/v1/orders/{order_id}/routing")

    async def shipments(self, order_id: str) -> Any:
        return await self._fetch(f"{self._tracking_url}/v1/orders/{order_id}/shipments")

    async def _fetch(self, url: str) -> Any:
        try:
            async with self._session.get(url, headers=self._headers) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    return {"unavailable": f"HTTP {response.status}"}
                return await response.json()
        except (aiohttp.ClientError, TimeoutError) as error:
            return {"unavailable": type(error).__name__}
