"""The e-mail an e-mail vendor receives: the order in plain words, its CSV file attached.

The ``Message-ID`` is made from the delivery id, so every attempt of one delivery carries the same one
and a vendor (or its mail system) can recognise a re-send. Header values come from settings and from
orders, so line breaks are removed from every one of them before they reach a header: no value can
add a header of its own (``Bcc:``…). Pure: standard library only; the transport sends the message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

from services.gateway.ports import OutboundDocument

MESSAGE_ID_DOMAIN = "dropship-router"
DELIVERY_ID_HEADER = "X-Dropship-Delivery-Id"

_LINE_BREAKS = re.compile(r"[\r\n]+")
_NOT_IN_MESSAGE_ID = re.compile(r"[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]")
"""Anything but RFC 5322 ``dot-atom-text``: the left part of a Message-ID must be one."""


def header_value(value: str) -> str:
    """``value`` on one line: CR and LF (header injection) replaced by a space, the ends trimmed."""
    return _LINE_BREAKS.sub(" ", value).strip()


def message_id(delivery_id: str) -> str:
    """``<delivery_id@dropship-router>``, the id reduced to what a Message-ID may hold."""
    local = _NOT_IN_MESSAGE_ID.sub("-", header_value(delivery_id)).strip(".") or "delivery"
    return f"<{local}@{MESSAGE_ID_DOMAIN}>"


def order_email(
    document: OutboundDocument,
    *,
    sender: str,
    to: list[str],
    cc: list[str],
    reply_to: str | None,
    attach: bool = True,
    sent_at: datetime | None = None,
) -> EmailMessage:
    """The message for one delivery: ``document.subject``, ``document.text`` as the body and (unless
    ``attach`` is false) ``document.content`` attached as ``document.file_name``. ``sent_at`` is the
    ``Date`` (now, in UTC, when not given)."""
    recipients = [header_value(address) for address in to if header_value(address)]
    if not recipients:
        raise ValueError("an order e-mail needs at least one recipient")
    copies = [header_value(address) for address in cc if header_value(address)]
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = header_value(document.subject)
    message["From"] = header_value(sender)
    message["To"] = ", ".join(recipients)
    if copies:
        message["Cc"] = ", ".join(copies)
    if reply_to and header_value(reply_to):
        message["Reply-To"] = header_value(reply_to)
    message["Date"] = format_datetime((sent_at or datetime.now(UTC)).astimezone(UTC))
    message["Message-ID"] = message_id(document.delivery_id)
    message[DELIVERY_ID_HEADER] = header_value(document.delivery_id)
    message.set_content(document.text, subtype="plain", charset="utf-8")
    if attach:
        maintype, _, subtype = document.media_type.partition("/")
        message.add_attachment(
            document.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=header_value(document.file_name),
        )
    return message
