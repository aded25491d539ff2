"""The e-mail transport against aiosmtpd on loopback: plain SMTP, STARTTLS and implicit TLS with a
self-signed certificate, the message as the vendor reads it (subject, body, the CSV attachment, a
Message-ID that is the same on every attempt), and which failures are worth a retry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.gateway.connections import EmailSettings
from services.gateway.ports import DeliveryError, OutboundDocument
from services.gateway.transports.email import EmailTransport, parse_smtp_url
from shared.processes import free_port
from tests.gateway_servers import SmtpServer

SENDER = "orders@merchant.example"
SETTINGS = EmailSettings(to=["orders@vendor.example"], cc=["ops@vendor.example"], reply_to="ops@merchant.example")
CSV = b"PO Number,SKU,Qty\r\n1001-1,TS-R-M,2\r\n"
TIMEOUT = 5.0


def document() -> OutboundDocument:
    return OutboundDocument(
        delivery_id="dlv_1001-1_created",
        event_type="vendor_order.created",
        vendor_order_number="1001-1",
        file_name="1001-1.csv",
        content=CSV,
        media_type="text/csv",
        subject="Purchase order 1001-1",
        text="Please ship order 1001-1:\n2 x TS-R-M\n",
    )


@pytest.fixture
async def plain() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def starttls() -> AsyncIterator[SmtpServer]:
    server = SmtpServer(tls="starttls")
    await server.start()
    yield server
    await server.stop()


def transport(url: str, settings: EmailSettings = SETTINGS) -> EmailTransport:
    return EmailTransport(url, SENDER, settings, timeout_seconds=TIMEOUT)


async def test_plain_smtp_delivers_the_order_with_its_csv_attached(plain: SmtpServer) -> None:
    receipt = await transport(plain.url).send(document())

    assert receipt.startswith("250 ")
    [mail] = await plain.wait_for(1)
    [envelope] = plain.received
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["orders@vendor.example", "ops@vendor.example"]
    assert mail["Subject"] == "Purchase order 1001-1"
    assert mail["To"] == "orders@vendor.example"
    assert mail["Cc"] == "ops@vendor.example"
    assert mail["Reply-To"] == "ops@merchant.example"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == "Please ship order 1001-1:\n2 x TS-R-M\n"  # CRLF on the wire
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "1001-1.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_payload(decode=True) == CSV


async def test_every_attempt_carries_the_same_message_id(plain: SmtpServer) -> None:
    email_transport = transport(plain.url)
    await email_transport.send(document())
    await email_transport.send(document())

    first, second = await plain.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]
    assert "dlv_1001-1_created" in first["Message-ID"]


async def test_starttls_with_a_self_signed_certificate(starttls: SmtpServer) -> None:
    assert starttls.url.startswith("smtp+starttls://") and starttls.url.endswith("?verify=false")

    assert (await transport(starttls.url).send(document())).startswith("250 ")

    [mail] = await starttls.wait_for(1)
    assert mail["Subject"] == "Purchase order 1001-1"


async def test_a_certificate_that_cannot_be_verified_is_refused_unless_told(starttls: SmtpServer) -> None:
    verified_url = starttls.url.removesuffix("?verify=false")

    with pytest.raises(DeliveryError) as caught:
        await transport(verified_url).send(document())

    assert caught.value.retryable is True
    assert starttls.received == []


async def test_a_server_that_requires_starttls_refuses_plain_text_for_good(starttls: SmtpServer) -> None:
    plain_url = starttls.url.replace("smtp+starttls://", "smtp://").removesuffix("?verify=false")

    with pytest.raises(DeliveryError) as caught:
        await transport(plain_url).send(document())

    assert caught.value.retryable is False
    assert caught.value.status == 530
    assert starttls.received == []


async def test_implicit_tls() -> None:
    server = SmtpServer(tls="implicit")
    await server.start()
    try:
        assert (await transport(server.url).send(document())).startswith("250 ")
        [mail] = await server.wait_for(1)
        assert mail["Message-ID"]
    finally:
        await server.stop()


async def test_a_server_that_is_down_is_retryable() -> None:
    with pytest.raises(DeliveryError) as caught:
        await transport(f"smtp://127.0.0.1:{free_port()}").send(document())

    assert caught.value.retryable is True


async def test_a_recipient_refused_for_good_is_not_retried(plain: SmtpServer) -> None:
    plain.refuse("orders@vendor.example", "550 5.1.1 no such mailbox")
    plain.refuse("ops@vendor.example", "550 5.1.1 no such mailbox")

    with pytest.raises(DeliveryError) as caught:
        await transport(plain.url).send(document())

    assert (caught.value.retryable, caught.value.status) == (False, 550)
    assert "no such mailbox" in str(caught.value)


async def test_a_recipient_refused_for_now_is_retried(plain: SmtpServer) -> None:
    only_to = EmailSettings(to=["orders@vendor.example"])
    plain.refuse("orders@vendor.example", "451 4.3.0 mailbox busy, try later")

    with pytest.raises(DeliveryError) as caught:
        await transport(plain.url, only_to).send(document())

    assert (caught.value.retryable, caught.value.status) == (True, 451)


async def test_one_recipient_refused_of_two_still_delivers_and_says_so(plain: SmtpServer) -> None:
    plain.refuse("ops@vendor.example")

    receipt = await transport(plain.url).send(document())

    assert receipt.startswith("250 ")
    assert "refused: ops@vendor.example" in receipt
    [envelope] = plain.received
    assert envelope.rcpt_tos == ["orders@vendor.example"]


async def test_the_url_password_is_never_told(plain: SmtpServer) -> None:
    """The test server offers no AUTH: the login fails, and its message names neither URL nor password."""
    url = f"smtp://relay-user:s3cr3t-pass@127.0.0.1:{plain.port}"

    with pytest.raises(DeliveryError) as caught:
        await transport(url).send(document())
    [step, *_] = [step for step in await transport(url).check() if not step.ok]

    assert "s3cr3t-pass" not in str(caught.value)
    assert "s3cr3t-pass" not in step.detail
    assert plain.received == []


async def test_check_connects_and_says_noop(plain: SmtpServer, starttls: SmtpServer) -> None:
    plain_steps = await transport(plain.url).check()
    tls_steps = await transport(starttls.url).check()

    assert [(step.step, step.ok) for step in plain_steps] == [("connect", True), ("noop", True), ("sender", True)]
    assert [(step.step, step.ok) for step in tls_steps] == [("connect", True), ("noop", True), ("sender", True)]
    assert "with TLS" in tls_steps[0].detail
    assert tls_steps[1].detail.startswith("250")
    assert plain.received == [] and starttls.received == []


async def test_check_finds_a_server_that_wants_starttls_first(starttls: SmtpServer) -> None:
    plain_url = starttls.url.replace("smtp+starttls://", "smtp://").removesuffix("?verify=false")

    steps = await transport(plain_url).check()

    assert [(step.step, step.ok) for step in steps] == [("connect", True), ("noop", True), ("sender", False)]
    assert "530" in steps[2].detail


async def test_check_names_a_certificate_it_cannot_verify(starttls: SmtpServer) -> None:
    steps = await transport(starttls.url.removesuffix("?verify=false")).check()

    assert [(step.step, step.ok) for step in steps] == [("connect", False)]
    assert "certificate" in steps[0].detail


async def test_check_of_a_server_that_is_down() -> None:
    port = free_port()
    steps = await transport(f"smtp://127.0.0.1:{port}").check()

    assert [(step.step, step.ok) for step in steps] == [("connect", False)]
    assert f"127.0.0.1:{port}" in steps[0].detail


def test_smtp_urls_are_taken_apart() -> None:
    endpoint = parse_smtp_url("smtps://mail%40merchant.example:p%40ss@smtp.example?verify=false")
    assert (endpoint.host, endpoint.port, endpoint.implicit_tls, endpoint.starttls) == (
        "smtp.example",
        465,
        True,
        False,
    )
    assert (endpoint.username, endpoint.password, endpoint.verify_certificate) == (
        "mail@merchant.example",
        "p@ss",
        False,
    )
    starttls_endpoint = parse_smtp_url("smtp+starttls://smtp.example:2525")
    assert (starttls_endpoint.port, starttls_endpoint.starttls, starttls_endpoint.verify_certificate) == (
        2525,
        True,
        True,
    )
    assert parse_smtp_url("smtp://127.0.0.1:1025").username is None
    with pytest.raises(ValueError, match="smtp://"):
        parse_smtp_url("http://user:secret@smtp.example")
