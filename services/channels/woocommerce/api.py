"""One shop's WordPress REST API as the WooCommerce client calls it: HTTP Basic with the REST key,
JSON both ways, every call logged (method, path, status, milliseconds; never the key or its secret),
and every failure a :class:`PlatformError`.

WooCommerce takes Basic auth only over HTTPS (over plain HTTP it wants OAuth 1.0a signatures), so a
shop at ``http://`` is refused before any call, except on loopback where tests run their fake shop.

Woo's errors are ``{"code", "message", "data": {"status"}}``. 401/403/404 and other 4xx say the
request cannot succeed as it is (not retryable); 429, 5xx, timeouts and network errors are worth
trying later, with ``Retry-After`` passed on when the shop (or its host, or WordPress's maintenance
mode, which answers 503 with ``Retry-After: 600``) says when.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from services.channels.ports import PlatformError, ShopConfig
from shared.logging import get_logger

log = get_logger(__name__)

WC_API = "/wp-json/wc/v3"
TIMEOUT_SECONDS = 30
USER_AGENT = "dropship-router-channels"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MESSAGE_CHARS = 300


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any
    """The decoded JSON (a list or a dict)."""

    @property
    def code(self) -> str:
        return str(self.body.get("code", "")) if isinstance(self.body, dict) else ""

    def total_pages(self) -> int:
        try:
            return int(self.headers.get("X-WP-TotalPages", "1"))
        except ValueError:
            return 1


class WooApi:
    """Calls under ``<base_url>/wp-json``; the session is the caller's (the service's, or a test's)."""

    def __init__(self, shop: ShopConfig, session: aiohttp.ClientSession) -> None:
        self._base_url = shop.base_url.rstrip("/")
        self._session = session
        key, secret = shop.secrets.get("consumer_key", ""), shop.secrets.get("consumer_secret", "")
        self._headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": aiohttp.encode_basic_auth(key, secret),
        }
        self._timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        parts = urlsplit(self._base_url)
        self._refusal: str | None = None
        if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
            self._refusal = "WooCommerce takes its REST keys over HTTPS only; the shop's URL is not https://"

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        api: str = WC_API,
        accept: frozenset[int] = frozenset(),
    ) -> Answer:
        """``method`` on ``<api><path>``; a non-2xx answer raises, unless its status is in ``accept``."""
        if self._refusal:
            raise PlatformError(self._refusal, retryable=False)
        full_path = f"{api}{path}"
        started = time.monotonic()
        status: int | None = None
        try:
            async with self._session.request(
                method,
                f"{self._base_url}{full_path}",
                params=params,
                json=body,
                timeout=self._timeout,
                headers=self._headers,
                allow_redirects=False,
            ) as response:
                status = response.status
                raw = await response.read()
                headers: Mapping[str, str] = CIMultiDict(response.headers)
        except TimeoutError as error:
            raise PlatformError(f"WooCommerce {method} {full_path}: no answer within {TIMEOUT_SECONDS} s") from error
        except aiohttp.ClientError as error:
            # The error's text names host and port; the credentials travel in a header it never shows.
            raise PlatformError(f"WooCommerce {method} {full_path}: {type(error).__name__}: {error}") from error
        finally:
            elapsed_ms = round((time.monotonic() - started) * 1000)
            log.info("woocommerce call", method=method, path=full_path, status=status, ms=elapsed_ms)
        answer = Answer(status=status, headers=headers, body=_decoded(raw))
        if 200 <= status < 300 or status in accept:
            if 200 <= status < 300 and not isinstance(answer.body, dict | list):
                raise PlatformError(f"WooCommerce {method} {full_path}: HTTP {status} without JSON", retryable=False)
            return answer
        raise _error(method, full_path, answer)


def _decoded(raw: bytes) -> Any:
    """The JSON answer; a plugin's PHP notice printed before it is skipped, as browsers' clients do."""
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    try:
        return json.loads(text)
    except ValueError:
        starts = [index for index in (text.find("{"), text.find("[")) if index >= 0]
        if starts:
            try:
                return json.loads(text[min(starts) :])
            except ValueError:
                pass
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None  # an HTTP date: rare from PHP hosts; the caller's own backoff applies


def _error(method: str, path: str, answer: Answer) -> PlatformError:
    status = answer.status
    message = answer.body.get("message") if isinstance(answer.body, dict) else None
    said = f"{answer.code}: {message}" if answer.code else "no WooCommerce error in the answer"
    text = f"WooCommerce {method} {path}: HTTP {status} {said}"[:MESSAGE_CHARS]
    retryable = status == 429 or status >= 500
    return PlatformError(text, retryable=retryable, status=status, retry_after=_retry_after(answer.headers))
