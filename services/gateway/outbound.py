"""Which format writes a delivery and which transport carries it, chosen from the vendor's connection:
the one place that knows every pairing (EDI X12 joins here as one more format)."""

from __future__ import annotations

from typing import Any

import aiohttp

from services.gateway.connections import Connection
from services.gateway.formats.csv_write import cancel_document, order_document, ship_to_document
from services.gateway.formats.json_body import webhook_document
from services.gateway.ports import DeliveryError, DeliveryEvent, OrderTransport, OutboundDocument
from services.gateway.settings import GatewaySettings
from services.gateway.transports.email import EmailTransport
from services.gateway.transports.sftp import SftpTransport
from services.gateway.transports.webhook import WebhookTransport
from shared.contracts.orders import Address
from shared.contracts.vendor_orders import (
    VendorOrderCancelledData,
    VendorOrderCreatedData,
    VendorOrderLinesCancelledData,
    VendorOrderShipToChangedData,
    WithdrawnLine,
)


def document_for(
    connection: Connection,
    delivery_id: str,
    event: DeliveryEvent,
    payload: dict[str, Any],
    order: dict[str, Any] | None,
) -> OutboundDocument:
    """The bytes this delivery sends: the same for every attempt (the payload is stored)."""
    if connection.format == "json":
        data: Any
        if event == "vendor_order.created":
            data = VendorOrderCreatedData.model_validate(payload)
        elif event == "vendor_order.cancelled":
            data = VendorOrderCancelledData.model_validate(payload)
        elif event == "vendor_order.ship_to_changed":
            data = VendorOrderShipToChangedData.model_validate(
                {key: value for key, value in payload.items() if key != "sequence"}
            )
        else:
            data = VendorOrderLinesCancelledData.model_validate(
                {key: value for key, value in payload.items() if key != "sequence"}
            )
        sequence = payload.get("sequence")
        return webhook_document(
            delivery_id,
            event,
            data,
            payload["vendor_order_number"],
            sequence=None if sequence is None else int(sequence),
        )
    if connection.format == "csv":
        if order is None:
            raise DeliveryError("the vendor order this delivery belongs to is not stored", retryable=False)
        vendor_order = VendorOrderCreatedData.model_validate(order)
        if event == "vendor_order.created":
            return order_document(delivery_id, vendor_order, connection.csv)
        if event == "vendor_order.cancelled":
            return cancel_document(delivery_id, vendor_order, connection.csv)
        if event == "vendor_order.ship_to_changed":
            return ship_to_document(
                delivery_id,
                vendor_order,
                Address.model_validate(payload["ship_to"]),
                connection.csv,
                sequence=int(payload["sequence"]),
            )
        withdrawn = [WithdrawnLine.model_validate(line) for line in payload["lines"]]
        return cancel_document(
            delivery_id, vendor_order, connection.csv, lines=withdrawn, sequence=int(payload["sequence"])
        )
    raise DeliveryError(f"the {connection.format} format is not available for deliveries yet", retryable=False)


def transport_for(connection: Connection, settings: GatewaySettings, session: aiohttp.ClientSession) -> OrderTransport:
    timeout = settings.delivery_timeout_seconds
    if connection.transport == "webhook" and connection.webhook is not None:
        return WebhookTransport(session, connection.webhook, timeout_seconds=timeout)
    if connection.transport == "sftp" and connection.sftp is not None:
        return SftpTransport(connection.sftp, timeout_seconds=timeout)
    if connection.transport == "email" and connection.email is not None:
        return EmailTransport(settings.smtp_url, settings.smtp_from, connection.email, timeout_seconds=timeout)
    raise DeliveryError(f"connection of {connection.vendor} has no {connection.transport} settings", retryable=False)
