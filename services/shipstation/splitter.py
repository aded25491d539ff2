"""The splitter as the adapter asks it: which kind a vendor is (only ShipStation vendors get credentials)."""

from __future__ import annotations

import aiohttp

from shared.http import ApiError


class SplitterVendors:
    def __init__(self, session: aiohttp.ClientSession, splitter_url: str, admin_token: str) -> None:
        self._session = session
        self._splitter_url = splitter_url
        self._admin_token = admin_token

    async def kind(self, vendor: str) -> str:
        """The vendor's kind; ``ApiError`` 404 when the splitter does not know it, 503 when it does not answer."""
        url = f"{self._splitter_url}/v1/vendors/{vendor}"
        headers = {"Authorization": f"Bearer {self._admin_token}"}
        try:
            async with self._session.get(url, headers=headers) as response:
                if response.status == 404:
                    raise ApiError(
                        404,
                        "unknown_vendor",
                        f"no vendor {vendor!r}: create it with PUT /v1/vendors/{vendor}",
                    )
                if response.status != 200:
                    raise ApiError(503, "splitter_unavailable", f"the splitter answered {response.status}")
                kind: str = (await response.json())["kind"]
                return kind
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ApiError(
                503, "splitter_unavailable", f"the splitter does not answer ({type(error).__name__})"
            ) from None
