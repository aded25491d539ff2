"""Session and CSRF rules, without I/O: tokens, their digests, the idle times, cookie attributes and where
a sign-in may send the browser next.

The cookie holds a random token; the database holds only its SHA-256, so a copy of the table opens no
session. Each session has its own CSRF token that every form carries and every POST must echo.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

COOKIE_NAME = "dropship_console"
TOKEN_BYTES = 32
MAX_WHO_LENGTH = 100
DEFAULT_IDLE_SECONDS = 8 * 3600.0
"""A session unused this long is over. The idle check is SQL against the database's clock
(:mod:`services.console.store`); only a request a person made counts as use, never a live region's refresh."""
MAX_IDLE_SECONDS = 7 * 24 * 3600.0
"""The longest idle time an instance may be set to, and what the background purge waits for: sessions are
shared, so the purge must not go by one instance's shorter setting."""


def new_token() -> str:
    """A session token or a CSRF token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison; a missing value never matches."""
    if not given:
        return False
    try:
        return hmac.compare_digest(given.encode(), expected.encode())
    except UnicodeEncodeError:
        # aiohttp keeps bytes that are not UTF-8 as lone surrogates: no token holds those.
        return False


def cookie_is_secure(scheme: str, forwarded_proto: str | None) -> bool:
    """Secure when the browser spoke https to us or to the proxy in front (``X-Forwarded-Proto``)."""
    first = (forwarded_proto or "").split(",")[0].strip().lower()
    return scheme.lower() == "https" or first == "https"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this console only (never another host), else ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("/signin"):
        return "/"
    return target


def clean_who(who: str | None) -> str | None:
    """The name given at sign-in, trimmed; ``None`` when there is none worth recording."""
    name = " ".join((who or "").split())
    if not name or len(name) > MAX_WHO_LENGTH or any(ord(char) < 32 for char in name):
        return None
    return name
