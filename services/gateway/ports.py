"""The gateway's small interfaces: what a delivery sends (:class:`OutboundDocument`), how it travels
(:class:`OrderTransport`), and the remote folder a vendor's files are picked up from (:class:`FileDrop`).

Formats (pure, ``services/gateway/formats/``) turn a vendor order event into an ``OutboundDocument``
and an inbound file into rows; transports (I/O, ``services/gateway/transports/``) move the bytes.
Use cases take these interfaces, so tests give them the real servers or fakes alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

DeliveryEvent = Literal[
    "vendor_order.created", "vendor_order.cancelled", "vendor_order.lines_cancelled", "vendor_order.ship_to_changed"
]
InboundKind = Literal["shipments", "inventory", "acknowledgements"]


@dataclass(frozen=True)
class OutboundDocument:
    """One delivery as it leaves: the same delivery id, file name and bytes on every attempt."""

    delivery_id: str
    """Stable per vendor order and event: ``webhook-id``, ``Idempotency-Key``, the e-mail's Message-ID."""
    event_type: DeliveryEvent
    vendor_order_number: str
    file_name: str
    """``<vendor_order_number>.csv``, ``<number>-cancel.csv``…: what a file or an attachment is called."""
    content: bytes
    """The webhook body, the file or the attachment."""
    media_type: str
    subject: str
    """The e-mail's subject (and a short title for logs)."""
    text: str
    """The order in plain words: the e-mail's body."""


class DeliveryError(Exception):
    """A send that did not arrive. ``retryable``: worth trying again later (a timeout, a 5xx, a refused
    connection); not retryable: no retry can help (a host key that does not match, a bad login)."""

    def __init__(self, message: str, *, retryable: bool = True, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status = status


class ChangeNotExpressible(ValueError):
    """A change to a vendor order that the vendor's format cannot carry (a CSV profile without ship-to
    columns, an EDI partner that takes no 860): the delivery fails at once, visibly, for ops to pass on."""


@dataclass(frozen=True)
class CheckStep:
    """One step of ``POST /v1/connections/{vendor}/check``: what was tried and how it went."""

    step: str
    ok: bool
    detail: str


class OrderTransport(Protocol):
    async def send(self, document: OutboundDocument) -> str:
        """Deliver ``document``; answers a short receipt for the delivery's attempts ("HTTP 202",
        "/orders/1001-1.csv", "250 2.0.0 queued"). Raises :class:`DeliveryError`."""
        ...

    async def check(self) -> list[CheckStep]:
        """Log in / reach the endpoint and say what worked; never raises for the vendor's failures."""
        ...


@dataclass(frozen=True)
class RemoteFile:
    path: str
    """Full remote path, e.g. ``/tracking/track-0412.csv``."""
    name: str
    size: int


class FileDrop(Protocol):
    """A vendor's remote folders (SFTP): list, read and put away inbound files."""

    async def list_files(self, folder: str) -> list[RemoteFile]:
        """Regular files directly in ``folder``; no folders, no names starting with ``.`` (uploads in
        progress by the usual convention)."""
        ...

    async def read_file(self, remote: RemoteFile, max_bytes: int) -> bytes:
        """The file's bytes; :class:`DeliveryError` (not retryable) when it is larger than ``max_bytes``."""
        ...

    async def archive(self, remote: RemoteFile) -> None:
        """Move into ``<folder>/archive/`` (created when missing); an existing name there is replaced."""
        ...

    async def delete(self, remote: RemoteFile) -> None: ...

    async def upload(self, folder: str, name: str, content: bytes) -> str:
        """Write ``<folder>/<name>`` under a hidden temporary name, then rename it into place."""
        ...

    async def set_aside(self, remote: RemoteFile, error: str) -> None:
        """Move into ``<folder>/error/`` and write ``<name>.error.txt`` beside it with ``error``."""
        ...
