"""The other services' admin APIs as the console calls them: every call answers an :class:`Answer`,
never raises, so a service that is down makes its panel say so and the page still renders."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp

from shared.settings import ServiceName


@dataclass(frozen=True)
class Answer:
    service: str
    path: str
    status: int | None
    """``None``: the service did not answer at all."""
    body: Any
    error: str | None = None
    """Why there is no usable answer (unreachable, timeout, not JSON)."""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def problem(self) -> str:
        """What a panel says when the answer is not usable."""
        if self.status is None:
            return f"{self.service} does not answer ({self.error})"
        detail = self.body.get("detail") if isinstance(self.body, dict) else None
        code = self.body.get("error") if isinstance(self.body, dict) else None
        said = f" {code}: {detail}" if code or detail else (f" {self.error}" if self.error else "")
        return f"{self.service} answered {self.status}{said}"

    def field(self, name: str, default: Any = None) -> Any:
        """A field of a JSON object answer, or ``default`` when the answer is not usable."""
        return self.body.get(name, default) if self.ok and isinstance(self.body, dict) else default


class Services:
    """Calls with the admin token; ``urls`` from ``settings.service_url`` (a test may point one elsewhere)."""

    def __init__(
        self, session: aiohttp.ClientSession, urls: Mapping[str, str], admin_token: str, timeout_seconds: float
    ) -> None:
        self._session = session
        self._urls = dict(urls)
        self._headers = {"Authorization": f"Bearer {admin_token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def call(
        self,
        method: str,
        service: ServiceName,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Answer:
        url = f"{self._urls[service]}{path}"
        data = None if body is None else json.dumps(body, default=_json_default)
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with self._session.request(
                method, url, params=params, data=data, headers=headers, timeout=self._timeout
            ) as response:
                raw = await response.read()
                status = response.status
                content_type = response.content_type
        except (aiohttp.ClientError, TimeoutError) as error:
            return Answer(service, path, None, None, type(error).__name__)
        if content_type == "application/json":
            try:
                return Answer(service, path, status, json.loads(raw, parse_float=Decimal))
            except ValueError:
                return Answer(service, path, status, None, "an answer that is not JSON")
        text = raw.decode("utf-8", "replace")
        return Answer(service, path, status, text, None if status < 300 else text[:200])

    async def get(self, service: ServiceName, path: str, **params: str) -> Answer:
        given = {key: value for key, value in params.items() if value}
        return await self.call("GET", service, path, params=given or None)

    async def post(self, service: ServiceName, path: str, body: Any = None) -> Answer:
        return await self.call("POST", service, path, body=body)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)
