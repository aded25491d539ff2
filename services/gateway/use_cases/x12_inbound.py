"""What an EDI X12 partner sends back, applied from a file picked up over SFTP: 997 (syntax: the
delivery is acknowledged; a rejected 850 fails the vendor order), 855 (``vendor_order.acknowledged``),
856 (one ``shipment.reported`` per package), 846 (``inventory.updated``), 810 (kept, linked to its
vendor order). Every set applies on its own (one refused leaves the others applied); an interchange
is applied once per sender and ISA13. Our 997 per functional group (and a TA1 when the ISA asks) is
written with its control numbers in the same transaction and uploaded after it commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.gateway.connections import Connection
from services.gateway.splitter import VendorCatalog
from services.gateway.store import deliveries
from services.gateway.store import x12 as x12_store
from services.gateway.use_cases.answers import (
    ShipmentReport,
    StockRow,
    acknowledge_in,
    post_inventory_in,
    report_shipment_in,
)
from services.gateway.use_cases.x12_outbound import interchange_file_name, partner_of
from services.gateway.vendor_answers import AckLine, AnswerRefused, OrderedLine, line_by_sku, ordered_lines
from services.gateway.x12 import (
    ControlNumbers,
    FunctionalGroup,
    Interchange,
    PartnerSettings,
    TransactionSet,
    read_file,
    read_functional_ack,
    read_inventory_advice,
    read_invoice,
    read_po_acknowledgement,
    read_ship_notice,
    render_functional_ack,
    render_ta1,
    ta1_note_code,
)
from shared.contracts.vendor_orders import VendorOrderFailed, VendorOrderFailedData
from shared.db import Connection as Db
from shared.messaging.outbox import enqueue_once

ACK_STATES = {"A": "accepted", "E": "accepted_with_errors", "P": "accepted_with_errors", "R": "rejected"}
ACKNOWLEDGEMENT_GROUP = "FA"


class InterchangesUnreadable(ValueError):
    """No interchange of the file could be read: the file is set aside."""


@dataclass
class X12FileOutcome:
    sets: int = 0
    applied: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    acknowledgements: list[x12_store.StoredInterchange] = field(default_factory=list)
    """Our 997s and TA1s to upload once the transaction committed."""


async def apply_x12_file(
    db: Db, connection: Connection, catalog: VendorCatalog, content: bytes, file_name: str
) -> X12FileOutcome:
    partner = partner_of(connection)
    result = read_file(content)
    if not result.interchanges:
        raise InterchangesUnreadable("; ".join(result.errors) or "no X12 interchange in the file")
    outcome = X12FileOutcome(errors=[{"row": None, "error": error} for error in result.errors])
    for interchange in result.interchanges:
        await _apply_interchange(db, connection, partner, catalog, interchange, file_name, content, outcome)
    return outcome


async def _apply_interchange(
    db: Db,
    connection: Connection,
    partner: PartnerSettings,
    catalog: VendorCatalog,
    interchange: Interchange,
    file_name: str,
    content: bytes,
    outcome: X12FileOutcome,
) -> None:
    vendor = connection.vendor
    label = f"interchange {interchange.control_number:09d}"
    if await x12_store.received_before(db, vendor, interchange.sender_id, interchange.control_number):
        # A repeat, not a fault: the file is put away as applied, with the note.
        outcome.errors.append(
            {
                "row": None,
                "error": f"{label} from {interchange.sender_id} came before: not applied again",
                "repeat": True,
            }
        )
        return
    if interchange.receiver_id.strip() != partner.sender_id.strip():
        outcome.errors.append(
            {"row": None, "error": f"{label} is addressed to {interchange.receiver_id.strip()!r}, not to us"
             f" ({partner.sender_id!r}): not applied"}
        )  # fmt: skip
        return
    outcome.errors += [{"row": None, "error": f"{label}: {error}"} for error in interchange.errors]
    summary: dict[str, Any] = {"groups": [], "errors": list(interchange.errors)}
    for group in interchange.groups:
        applied_sets: list[dict[str, Any]] = []
        for transaction in group.sets:
            outcome.sets += 1
            where = f"{label}, {transaction.set_id} {transaction.control_number}"
            problems = [f"{where}: {error}" for error in transaction.errors]
            try:
                async with db.transaction():  # a savepoint: one set refused leaves the others applied
                    note = await _apply_set(db, connection, partner, catalog, interchange, group, transaction)
                outcome.applied += 1
                applied_sets.append({"set": transaction.set_id, "control_number": transaction.control_number, **note})
                # What an applied set left out (an 846 row named by UPC only) is refused with its line, visibly.
                problems += [f"{where}: {left_out}" for left_out in [*note.get("refused", []), *note.get("errors", [])]]
            except AnswerRefused as refused:
                problems.append(f"{where}: {refused.message}")
            outcome.errors += [{"row": None, "error": problem} for problem in problems]
        summary["groups"].append(
            {"functional_id": group.functional_id, "control_number": group.control_number, "sets": applied_sets}
        )
    now = datetime.now(UTC)
    if partner.acknowledgement_requested:
        for group in interchange.groups:
            if group.functional_id == ACKNOWLEDGEMENT_GROUP:
                continue  # a 997 is never acknowledged
            outcome.acknowledgements.append(await _functional_ack(db, connection, partner, interchange, group, now))
    if interchange.ack_requested:
        outcome.acknowledgements.append(await _ta1(db, connection, partner, interchange, now))
    kinds = sorted({transaction.set_id for group in interchange.groups for transaction in group.sets}) or ["TA1"]
    await x12_store.record_inbound(
        db,
        vendor=vendor,
        kind=",".join(kinds),
        sender_id=interchange.sender_id,
        control_number=interchange.control_number,
        file_name=file_name,
        content=content,
        summary=summary,
    )


async def _functional_ack(
    db: Db,
    connection: Connection,
    partner: PartnerSettings,
    interchange: Interchange,
    group: FunctionalGroup,
    now: datetime,
) -> x12_store.StoredInterchange:
    reserved = await x12_store.reserve_numbers(db, connection.vendor)
    numbers = ControlNumbers(reserved.interchange, reserved.group, reserved.transaction)
    return await x12_store.record_outbound(
        db,
        vendor=connection.vendor,
        kind="997",
        sender_id=partner.sender_id,
        numbers=reserved,
        file_name=interchange_file_name(reserved.interchange),
        folder=_ack_folder(connection, partner),
        content=render_functional_ack(interchange, group, partner, numbers, now),
        summary={"answers": {"interchange": interchange.control_number, "group": group.control_number}},
    )


async def _ta1(
    db: Db, connection: Connection, partner: PartnerSettings, interchange: Interchange, now: datetime
) -> x12_store.StoredInterchange:
    reserved = await x12_store.reserve_numbers(db, connection.vendor)
    note = ta1_note_code(interchange)
    content = render_ta1(
        interchange, partner, now, control_number=reserved.interchange, accepted=not interchange.errors, note_code=note
    )
    return await x12_store.record_outbound(
        db,
        vendor=connection.vendor,
        kind="TA1",
        sender_id=partner.sender_id,
        numbers=reserved,
        file_name=interchange_file_name(reserved.interchange),
        folder=_ack_folder(connection, partner),
        content=content,
        summary={"answers": {"interchange": interchange.control_number}, "note_code": note},
    )


def _ack_folder(connection: Connection, partner: PartnerSettings) -> str:
    return partner.ack_dir or (connection.sftp.outbound_dir if connection.sftp else "/")


async def _vendor_order(db: Db, vendor: str, po_number: str) -> dict[str, Any]:
    found = await deliveries.vendor_order_by_number(db, vendor, po_number.strip())
    if found is None:
        raise AnswerRefused("po", f"no vendor order {po_number!r} for {vendor}")
    return found


def _line_at(lines: list[OrderedLine], number: int | None, vendor_sku: str | None, where: str) -> OrderedLine:
    """A line by its PO101 position in our 850 (1..n), else by the vendor's SKU."""
    if number is not None:
        if not 1 <= number <= len(lines):
            raise AnswerRefused(where, f"line {number} is not in the purchase order (it has {len(lines)})")
        return lines[number - 1]
    if vendor_sku:
        return line_by_sku(lines, vendor_sku, where)
    raise AnswerRefused(where, "names neither a PO line number nor a vendor SKU")


async def _apply_set(
    db: Db,
    connection: Connection,
    partner: PartnerSettings,
    catalog: VendorCatalog,
    interchange: Interchange,
    group: FunctionalGroup,
    transaction: TransactionSet,
) -> dict[str, Any]:
    vendor = connection.vendor
    if transaction.set_id == "997":
        return await _apply_997(db, vendor, transaction)
    if transaction.set_id == "855":
        ack = read_po_acknowledgement(transaction, partner.ack_codes)
        found = await _vendor_order(db, vendor, ack.po_number)
        lines = ordered_lines(found["data"])
        if ack.rejected_without_detail:
            answered = [
                (f"line {n}", AckLine(line.line_id, "rejected", None, "rejected (BAK RJ)"))
                for n, line in enumerate(lines, 1)
            ]
        else:
            answered = [
                (
                    f"PO1 {acked.line_number}",
                    AckLine(
                        _line_at(lines, acked.line_number, acked.vendor_sku, f"PO1 {acked.line_number}").line_id,
                        acked.status,
                        acked.quantity,
                        f"ACK {acked.code}" if acked.status != "accepted" else None,
                        acked.expected_ship_date,
                    ),
                )
                for acked in ack.lines
            ]
        recorded = await acknowledge_in(db, found, answered)
        return {"po_number": ack.po_number, "acknowledgement": recorded.id, "errors": ack.errors}
    if transaction.set_id == "856":
        notice = read_ship_notice(transaction)
        packages = 0
        for shipped in notice.orders:
            found = await _vendor_order(db, vendor, shipped.po_number)
            lines = ordered_lines(found["data"])
            for package in shipped.packages:
                requested = [
                    (
                        "SN1",
                        _line_at(lines, item.line_number, item.vendor_sku, f"{shipped.po_number} item").line_id,
                        item.quantity,
                    )
                    for item in package.items
                ]
                tracking = package.tracking_numbers[0] if package.tracking_numbers else None
                report = ShipmentReport(
                    carrier=notice.carrier,
                    service=notice.service,
                    tracking_number=tracking,
                    ship_date=notice.ship_date,
                    lines=requested,
                )
                await report_shipment_in(db, found, report)
                packages += 1
        return {"shipment_number": notice.shipment_number, "packages": packages, "errors": notice.errors}
    if transaction.set_id == "846":
        advice = read_inventory_advice(transaction)
        rows = [
            StockRow(
                f"LIN {row.position}", row.vendor_sku or row.sku or "", row.quantity, vendor_sku=bool(row.vendor_sku)
            )
            for row in advice.rows
        ]
        unknown = [row for row in rows if not catalog.carries(row.name, vendor_sku=row.vendor_sku)]
        known = [row for row in rows if row not in unknown]
        if known:
            # Delta: the items listed change, the rest keep their level, so refused rows zero nothing.
            key = ":".join(
                [
                    "x12",
                    interchange.sender_id,
                    str(interchange.control_number),
                    group.control_number,
                    transaction.control_number,
                ]
            )
            await post_inventory_in(db, vendor, "delta", advice.as_of, known, "x12_846", feed_key=key)
        refused = [f"LIN {position}: {message}" for position, message in advice.errors]
        refused += [f"{row.field}: {row.name!r} is not in the catalog for {vendor}" for row in unknown]
        if refused and not known:
            raise AnswerRefused("846", "; ".join(refused[:10]))
        return {"items": len(known), "refused": refused}
    if transaction.set_id == "810":
        invoice = read_invoice(transaction)
        billed = await deliveries.vendor_order_by_number(db, vendor, invoice.po_number.strip())
        return {
            "invoice_number": invoice.invoice_number,
            "po_number": invoice.po_number,
            "vendor_order_id": billed["vendor_order_id"] if billed else None,
            "total": str(invoice.total) if invoice.total is not None else None,
            "lines": invoice.lines,
            "errors": invoice.errors,
        }
    return {"ignored": f"set {transaction.set_id} is not one the gateway reads"}


async def _apply_997(db: Db, vendor: str, transaction: TransactionSet) -> dict[str, Any]:
    ack = read_functional_ack(transaction)
    if ack.group_control_number is None:
        raise AnswerRefused("AK1", "a 997 that names no group: " + "; ".join(ack.errors))
    state = ACK_STATES.get(ack.group_status, "accepted_with_errors")
    answered = await x12_store.acknowledge_group(db, vendor, ack.group_control_number, state)
    for sent in answered:
        if not sent["vendor_order_id"] or not sent["delivery_id"]:
            continue
        event = (sent["summary"] or {}).get("event")
        if state != "rejected":
            await deliveries.acknowledge_delivery(db, sent["delivery_id"])
        elif event == "vendor_order.created":
            await _rejected(db, vendor, sent)
        else:  # a cancellation (the order stays cancelled) or a new ship-to refused: visible on its delivery
            what = "new ship-to" if event == "vendor_order.ship_to_changed" else "cancellation"
            await deliveries.fail_sent(db, sent["delivery_id"], f"the partner's 997 rejected the {what}")
    return {"group": ack.group_control_number, "state": state, "answered": [s["po_number"] for s in answered]}


async def _rejected(db: Db, vendor: str, sent: dict[str, Any]) -> None:
    """The partner's 997 rejected our 850: the vendor order failed (the splitter reroutes it)."""
    found = await deliveries.vendor_order(db, sent["vendor_order_id"])
    if found is None:
        return
    await deliveries.fail_sent(db, sent["delivery_id"], "rejected by the partner's 997")
    event = VendorOrderFailed(
        message_id=f"msg_x12rej_{sent['id']}",
        correlation_id=found["order_id"],
        data=VendorOrderFailedData(
            vendor_order_id=found["vendor_order_id"],
            vendor=vendor,
            order_id=found["order_id"],
            reason=f"the partner's 997 rejected purchase order {sent['po_number']}",
            attempts=1,
        ),
    )
    await enqueue_once(db, event)
