"""The RabbitMQ nodes named by ``DROPSHIP_AMQP_URL`` and the order they are tried in.

The setting holds one URL or a comma-separated list of the URLs of one cluster's nodes. A connection
starts at the first; each failed attempt, or the loss of an established connection, moves it to the
next node in turn without waiting, and only once every node has failed in a row does it pause before
going round again. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

AMQP_SCHEMES = ("amqp", "amqps")


def node_urls(setting: str) -> tuple[str, ...]:
    """The node URLs of ``setting``, in the order given; a single URL is a list of one."""
    nodes = tuple(part.strip() for part in setting.split(",") if part.strip())
    if not nodes:
        raise ValueError("DROPSHIP_AMQP_URL names no RabbitMQ node")
    for node in nodes:
        parts = urlsplit(node)
        if parts.scheme not in AMQP_SCHEMES or not parts.hostname:
            raise ValueError(f"DROPSHIP_AMQP_URL: {redacted_node(node)!r} is not an amqp:// or amqps:// URL")
    return nodes


def redacted_node(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def redacted_nodes(setting: str) -> str:
    """Every node of ``setting`` with its password replaced, for logs and error messages."""
    return ",".join(redacted_node(part.strip()) for part in setting.split(",") if part.strip())


@dataclass
class NodeRotation:
    """Which of ``count`` nodes the next connection attempt goes to, and how long to wait before it."""

    count: int
    current: int = 0
    failures_in_a_row: int = 0
    """Attempts failed (and established connections lost) since the last successful connection."""

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("a rotation needs at least one node")

    def failed(self) -> None:
        """The attempt on the current node failed, or its connection was lost: move to the next node."""
        self.failures_in_a_row += 1
        self.current = (self.current + 1) % self.count

    def connected(self) -> None:
        self.failures_in_a_row = 0

    @property
    def round_failed(self) -> bool:
        """Every node has failed since the last pause: the next attempt should wait."""
        return self.failures_in_a_row > 0 and self.failures_in_a_row % self.count == 0

    @property
    def every_node_failed(self) -> bool:
        """Each node was tried at least once since the last successful connection, and each failed."""
        return self.failures_in_a_row >= self.count

    def pause_before_next(self, interval: float) -> float:
        """Seconds to wait before the next attempt: none while some node of this round is untried."""
        return interval if self.round_failed else 0.0
