"""ShipStation credentials, free of I/O: generation, salted scrypt hashes, constant-time checks, and
the memory of checks that passed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cachetools import LRUCache

# scrypt cost: about 16 MiB and tens of milliseconds per check; verified results are cached by the
# caller, so ShipStation's polling does not pay it on every request.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1


def new_username(vendor: str) -> str:
    return f"ss-{vendor}-{secrets.token_hex(4)}"


def new_password() -> str:
    return secrets.token_urlsafe(24)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        [
            "scrypt",
            str(SCRYPT_N),
            str(SCRYPT_R),
            str(SCRYPT_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


# Checked against when the username is wrong, so a wrong user costs as much time as a wrong password.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    return (username, password) if separator else None


class VerifiedCredentials:
    """Remembers credentials that passed the scrypt check, keyed by the stored hash, so polling does
    not pay scrypt on every request; rotating the password changes the hash and empties the entry."""

    def __init__(self, size: int = 256) -> None:
        self._entries: LRUCache[tuple[str, str], str] = LRUCache(maxsize=size)

    @staticmethod
    def _key(vendor: str, username: str, password: str) -> tuple[str, str]:
        return vendor, hashlib.sha256(f"{username}\x00{password}".encode()).hexdigest()

    def known(self, vendor: str, username: str, password: str, stored_hash: str) -> bool:
        return self._entries.get(self._key(vendor, username, password)) == stored_hash

    def remember(self, vendor: str, username: str, password: str, stored_hash: str) -> None:
        self._entries[self._key(vendor, username, password)] = stored_hash
