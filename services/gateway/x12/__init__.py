"""The retail X12 codec (4010, and 5010 where a partner says so): the documents a trading partner
receives from us and the ones it sends back, as bytes in and out. Pure: no I/O; the gateway keeps the
control numbers, moves the files and publishes the events.

Out (each one interchange, one group, one set; ``numbers`` reserved by the caller before writing, so
a retry with the same numbers and ``now`` gives the same bytes):

- ``render_purchase_order(order, partner, numbers, now)``: the 850 (BEG*00*DS*<vendor order number>)
  for a ``VendorOrderCreatedData``; raises ``PoNumberTooLong`` for a number over 22 characters.
- ``render_cancellation(order, partner, numbers, now)``: an 850 with BEG01 ``01``, or an 860 with
  BCH01 ``01`` when ``partner.cancel_as == "860"``.
- ``render_ship_to_change(order, ship_to, partner, numbers, now)``: an 860 with BCH01 ``04`` and the new
  N1*ST party, for a partner that takes 860s.
- ``render_functional_ack(received, group, partner, numbers, now)``: one 997 for one inbound group,
  from ``check_group(group)``. Refuses a group of 997s (``AcknowledgementRefused``): the caller skips
  ``FA`` groups (and TA1s) and answers only when ``partner.acknowledgement_requested``.
- ``render_ta1(received, partner, now, *, control_number, accepted, note_code)``: a TA1 interchange,
  only for an inbound ISA14 of ``1`` (``Interchange.ack_requested``); ``ta1_note_code(received)``.

In:

- ``read_file(content) -> ReadResult``: ``interchanges`` (``Interchange`` → ``groups`` of
  ``FunctionalGroup`` → ``sets`` of ``TransactionSet`` → ``segments``), each with its envelope
  ``errors``; ``errors`` for interchanges that could not be read (the others still are).
- ``check_group(group) -> GroupCheck``: per set ``A``/``E``/``R`` with AK3/AK4 findings.
- ``read_functional_ack(ts) -> FunctionalAck`` (997), ``read_po_acknowledgement(ts, partner.ack_codes)
  -> PoAcknowledgement`` (855), ``read_ship_notice(ts) -> ShipNotice`` (856),
  ``read_inventory_advice(ts) -> InventoryAdvice`` (846), ``read_invoice(ts) -> Invoice`` (810);
  ``FUNCTIONAL_IDS`` maps a set id to its GS01.

``PartnerSettings`` validates a connection's ``x12`` object; ``ControlNumbers`` are ISA13, GS06 and
ST02 of one outbound interchange.
"""

from services.gateway.x12.acknowledgements import (
    AcknowledgementRefused,
    FunctionalAck,
    SetAck,
    read_functional_ack,
    render_functional_ack,
    render_ta1,
    ta1_note_code,
)
from services.gateway.x12.checks import ElementFinding, GroupCheck, SegmentFinding, SetCheck, check_group
from services.gateway.x12.documents import (
    AckedLine,
    InventoryAdvice,
    InventoryRow,
    Invoice,
    PoAcknowledgement,
    read_inventory_advice,
    read_invoice,
    read_po_acknowledgement,
)
from services.gateway.x12.model import FunctionalGroup, Interchange, ReadResult, Segment, TransactionSet
from services.gateway.x12.purchase_order import render_cancellation, render_purchase_order, render_ship_to_change
from services.gateway.x12.reader import read_file
from services.gateway.x12.settings import AckCodes, ControlNumbers, Delimiters, PartnerSettings, PoNumberTooLong
from services.gateway.x12.ship_notice import ShipNotice, ShippedItem, ShippedOrder, ShippedPackage, read_ship_notice
from services.gateway.x12.writer import FUNCTIONAL_IDS

__all__ = [
    "FUNCTIONAL_IDS",
    "AckCodes",
    "AckedLine",
    "AcknowledgementRefused",
    "ControlNumbers",
    "Delimiters",
    "ElementFinding",
    "FunctionalAck",
    "FunctionalGroup",
    "GroupCheck",
    "Interchange",
    "InventoryAdvice",
    "InventoryRow",
    "Invoice",
    "PartnerSettings",
    "PoAcknowledgement",
    "PoNumberTooLong",
    "ReadResult",
    "Segment",
    "SegmentFinding",
    "SetAck",
    "SetCheck",
    "ShipNotice",
    "ShippedItem",
    "ShippedOrder",
    "ShippedPackage",
    "TransactionSet",
    "check_group",
    "read_file",
    "read_functional_ack",
    "read_inventory_advice",
    "read_invoice",
    "read_po_acknowledgement",
    "read_ship_notice",
    "render_cancellation",
    "render_functional_ack",
    "render_purchase_order",
    "render_ship_to_change",
    "render_ta1",
    "ta1_note_code",
]
