"""The order e-mail, read back as a mail client would: headers, the stable Message-ID, the body, the
attachment's exact bytes, and header injection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from services.gateway.formats.email_message import order_email
from services.gateway.ports import OutboundDocument

CSV_BYTES = "\ufeffPO Number,SKU\r\n1001-2,CAFÉ-1\r\n".encode("utf-8")


def document(**changes: str) -> OutboundDocument:
    fields = {
        "delivery_id": "dlv_01JC8Y",
        "subject": "Order 1001-2",
        "text": "Please ship order 1001-2.\n\n  2 x CAFÉ-1  Café crème\n",
        "file_name": "1001-2.csv",
    }
    fields.update(changes)
    return OutboundDocument(
        event_type="vendor_order.created",
        vendor_order_number="1001-2",
        content=CSV_BYTES,
        media_type="text/csv",
        **fields,
    )


def parsed(message: EmailMessage) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(message.as_bytes())


def send(doc: OutboundDocument | None = None, **options: object) -> EmailMessage:
    arguments: dict[str, object] = {
        "sender": "orders@merchant.example",
        "to": ["orders@vendor.example", "backup@vendor.example"],
        "cc": ["ops@merchant.example"],
        "reply_to": "ops@merchant.example",
        "sent_at": datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))),
    }
    arguments.update(options)
    return parsed(order_email(doc or document(), **arguments))  # type: ignore[arg-type]


def test_headers() -> None:
    message = send()

    assert message["Subject"] == "Order 1001-2"
    assert message["From"] == "orders@merchant.example"
    assert message["To"] == "orders@vendor.example, backup@vendor.example"
    assert message["Cc"] == "ops@merchant.example"
    assert message["Reply-To"] == "ops@merchant.example"
    assert message["Message-ID"] == "<dlv_01JC8Y@dropship-router>"
    assert message["X-Dropship-Delivery-Id"] == "dlv_01JC8Y"
    assert message["Date"].datetime == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert message["Date"].datetime.utcoffset() == timedelta(0)


def test_the_message_id_is_the_same_on_every_attempt() -> None:
    first = send(sent_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    retry = send(sent_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))

    assert first["Message-ID"] == retry["Message-ID"]
    assert first["Date"] != retry["Date"]


def test_the_body_is_the_text_and_the_file_is_attached_byte_for_byte() -> None:
    message = send()

    body = message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content_type() == "text/plain"
    assert body.get_content_charset() == "utf-8"
    assert body.get_content().replace("\r\n", "\n") == "Please ship order 1001-2.\n\n  2 x CAFÉ-1  Café crème\n"
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    assert attachments[0].get_filename() == "1001-2.csv"
    assert attachments[0].get_content_type() == "text/csv"
    assert attachments[0].get_payload(decode=True) == CSV_BYTES


def test_without_attach_only_the_body() -> None:
    message = send(attach=False)

    assert list(message.iter_attachments()) == []
    assert message.get_content_type() == "text/plain"
    assert "Café crème" in message.get_content()


def test_no_cc_and_no_reply_to_leave_the_headers_out() -> None:
    message = send(cc=[], reply_to=None)

    assert message["Cc"] is None and message["Reply-To"] is None


def test_a_non_ascii_subject_survives() -> None:
    message = send(document(subject="Commande 1001-2 — Zoë"))

    assert message["Subject"] == "Commande 1001-2 — Zoë"


@pytest.mark.parametrize("field", ["subject", "delivery_id", "file_name"])
def test_line_breaks_cannot_add_a_header(field: str) -> None:
    value = {"subject": "Order 1001-2", "delivery_id": "dlv_1", "file_name": "1001-2.csv"}[field]

    message = send(document(**{field: f"{value}\r\nBcc: thief@evil.example\nX-Evil: 1"}))

    assert message["Bcc"] is None and message["X-Evil"] is None
    assert "thief@evil.example" not in str(message["To"])


def test_line_breaks_in_addresses_cannot_add_a_header() -> None:
    message = send(
        sender="orders@merchant.example\r\nBcc: thief@evil.example",
        reply_to="ops@merchant.example\nX-Evil: 1",
        to=["orders@vendor.example\r\n"],
    )

    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["To"] == "orders@vendor.example"


def test_a_message_id_holds_only_what_an_id_may() -> None:
    message = send(document(delivery_id="dlv 1<x>@y"))

    assert message["Message-ID"] == "<dlv-1-x--y@dropship-router>"
    assert message["X-Dropship-Delivery-Id"] == "dlv 1<x>@y"


def test_a_message_needs_a_recipient() -> None:
    with pytest.raises(ValueError, match="recipient"):
        order_email(document(), sender="a@b.example", to=["\r\n"], cc=[], reply_to=None)


def test_the_date_defaults_to_now_in_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)

    message = parsed(order_email(document(), sender="a@b.example", to=["c@d.example"], cc=[], reply_to=None))

    sent = message["Date"].datetime
    assert sent.utcoffset() == timedelta(0)
    assert before <= sent <= datetime.now(UTC)


def test_the_wire_form_uses_crlf() -> None:
    raw = order_email(document(), sender="a@b.example", to=["c@d.example"], cc=[], reply_to=None).as_bytes()

    assert b"\r\nSubject: Order 1001-2\r\n" in raw or raw.startswith(b"Subject: Order 1001-2\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
