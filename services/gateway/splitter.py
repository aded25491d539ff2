"""The splitter as the gateway asks it (HTTP, admin token): which vendors exist and of which kind, and
which SKUs a vendor carries (vendor SKU → our SKU), so stock rows for products it does not carry for
us are refused with their row number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
from cachetools import TTLCache

CATALOG_CACHE_SECONDS = 30.0


class SplitterUnavailable(Exception):
    pass


class UnknownVendor(Exception):
    pass


@dataclass(frozen=True)
class VendorCatalog:
    """The names a vendor's stock may use: its own SKUs (our SKU where a source has none), and ours."""

    vendor_skus: frozenset[str]
    skus: frozenset[str]

    def carries(self, name: str, *, vendor_sku: bool) -> bool:
        return name in (self.vendor_skus if vendor_sku else self.skus)


@dataclass(frozen=True)
class KnownVendor:
    code: str
    kind: str
    own_adapter: bool
    """``settings.adapter == "own"``: the vendor's queue is left to its own adapter."""


class SplitterClient:
    def __init__(self, session: aiohttp.ClientSession, splitter_url: str, admin_token: str) -> None:
        self._session = session
        self._url = splitter_url
        self._headers = {"Authorization": f"Bearer {admin_token}"}
        self._catalogs: TTLCache[str, VendorCatalog] = TTLCache(maxsize=1024, ttl=CATALOG_CACHE_SECONDS)

    async def _get(self, path: str, params: dict[str, str] | None = None) -> tuple[int, Any]:
        try:
            async with self._session.get(f"{self._url}{path}", headers=self._headers, params=params) as response:
                body = await response.json() if response.content_type == "application/json" else None
                return response.status, body
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SplitterUnavailable(f"the splitter does not answer ({type(error).__name__})") from None

    async def vendors(self) -> list[KnownVendor]:
        status, body = await self._get("/v1/vendors")
        if status != 200:
            raise SplitterUnavailable(f"the splitter answered {status}")
        return [_known(vendor) for vendor in body["vendors"]]

    async def vendor(self, code: str) -> KnownVendor:
        status, body = await self._get(f"/v1/vendors/{code}")
        if status == 404:
            raise UnknownVendor(code)
        if status != 200:
            raise SplitterUnavailable(f"the splitter answered {status}")
        return _known(body)

    async def vendor_catalog(self, vendor: str) -> VendorCatalog:
        """What the vendor carries for us (cached briefly: a feed names hundreds of SKUs at once)."""
        cached = self._catalogs.get(vendor)
        if cached is not None:
            return cached
        names: set[str] = set()
        ours: set[str] = set()
        cursor: str | None = None
        while True:
            params = {"vendor": vendor, "limit": "500", **({"cursor": cursor} if cursor else {})}
            status, body = await self._get("/v1/catalog", params)
            if status != 200:
                raise SplitterUnavailable(f"the splitter answered {status}")
            for item in body["items"]:
                for source in item["sources"]:
                    if source["vendor"] == vendor:
                        names.add(source.get("vendor_sku") or item["sku"])
                        ours.add(item["sku"])
            cursor = body.get("next_cursor")
            if not cursor:
                break
        known = VendorCatalog(frozenset(names), frozenset(ours))
        self._catalogs[vendor] = known
        return known


def _known(vendor: dict[str, Any]) -> KnownVendor:
    settings = vendor.get("settings") or {}
    own = isinstance(settings, dict) and settings.get("adapter") == "own"
    return KnownVendor(vendor["code"], vendor["kind"], own)
