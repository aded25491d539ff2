"""Stored secrets, encrypted at rest: the one place that seals and opens them.

Every secret a service keeps and must use again in clear (a vendor's SFTP password or private key, a
vendor or channel webhook secret, a platform token) is sealed with :class:`SecretBox`: Fernet
(AES-128-CBC with HMAC-SHA256, from ``cryptography``) under ``DROPSHIP_SECRET_KEY``. The setting holds
one or more keys separated by commas; the first seals, every one of them opens (``MultiFernet``), so a
key is rotated by putting the new one first, resealing what is stored (:meth:`SecretBox.reseal`), then
dropping the old one. Secrets we only compare (API keys) are hashed, not sealed: :func:`hash_api_key`.
"""

from __future__ import annotations

import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SEALED_PREFIX = "gAAAAA"
"""How every Fernet token begins (version byte 0x80 and a timestamp's high bytes, in base64): tells a
sealed value from one stored in clear before sealing existed."""


class SecretKeyError(ValueError):
    """``DROPSHIP_SECRET_KEY`` is missing or not a list of Fernet keys (the message never shows a key)."""


class SecretBox:
    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",") if part.strip()]
        if not parts:
            raise SecretKeyError("DROPSHIP_SECRET_KEY holds no key")
        fernets: list[Fernet] = []
        for position, part in enumerate(parts, start=1):
            try:
                fernets.append(Fernet(part.encode()))
            except (ValueError, TypeError):
                raise SecretKeyError(
                    f"DROPSHIP_SECRET_KEY: key {position} of {len(parts)} is not a Fernet key"
                    " (32 bytes in URL-safe base64; `dropship secrets new-key` makes one)"
                ) from None
        self._box = MultiFernet(fernets)

    def seal(self, plaintext: str) -> str:
        return self._box.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret in clear; ``ValueError`` when no key in the setting opens it (never shows it)."""
        try:
            return self._box.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("a stored secret cannot be opened with any key in DROPSHIP_SECRET_KEY") from None

    def reseal(self, sealed: str) -> str:
        """The same secret sealed under the first key (what rotation writes back)."""
        try:
            return self._box.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise ValueError("a stored secret cannot be opened with any key in DROPSHIP_SECRET_KEY") from None


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED_PREFIX)


def new_secret_key() -> str:
    return Fernet.generate_key().decode()


def new_api_key(prefix: str) -> str:
    """A random API key, ``<prefix>_`` and 32 random bytes: only its hash is stored."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    """SHA-256 of a random key: enough for a 256-bit random value (no password to stretch)."""
    return hashlib.sha256(key.encode()).hexdigest()
