"""Vendor kinds and ShipStation's status keys: the one definition of each, used by the splitter's
and the adapter's APIs, their OpenAPI documents and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

VendorKind = Literal["shipstation", "webhook", "csv_sftp", "edi_x12", "email"]
"""How a vendor receives its orders (``PUT /v1/vendors/{code}``)."""
VENDOR_KINDS: tuple[VendorKind, ...] = get_args(VendorKind)

ShipStationStatus = Literal["unpaid", "paid", "shipped", "cancelled", "on_hold"]
"""The five order statuses of ShipStation's Custom Store form, as keys of a connection's ``status_names``."""
SHIPSTATION_STATUSES: tuple[ShipStationStatus, ...] = get_args(ShipStationStatus)

SHIPSTATION_STATUS_LABELS: Mapping[ShipStationStatus, str] = MappingProxyType(
    {"unpaid": "Unpaid", "paid": "Paid", "shipped": "Shipped", "cancelled": "Cancelled", "on_hold": "On-Hold"}
)
"""Each key's label in ShipStation's Custom Store form, in the form's order."""

DeliveryState = Literal["pending", "sent", "acknowledged", "failed", "cancelled"]
"""Where a delivery to a vendor stands (the gateway's ``GET /v1/deliveries?state=``): pending (due, retrying,
or waiting for a connection), sent, acknowledged (the vendor answered it), failed (the retry budget is
spent), cancelled (cancelled before its first attempt: nothing was sent)."""
DELIVERY_STATES: tuple[DeliveryState, ...] = get_args(DeliveryState)
