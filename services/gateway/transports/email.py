"""Delivery to an e-mail vendor: one message per document through the merchant's SMTP server (aiosmtplib).

The message itself (body, CSV attachment, a Message-ID made from the delivery id) comes from
``formats/email_message.py``; this module only reaches the server named by ``DROPSHIP_SMTP_URL``:
``smtp://host:port`` (plain), ``smtp+starttls://host:port`` (STARTTLS required) or ``smtps://host:port``
(TLS from the first byte), with ``user:password@`` for SMTP AUTH and ``?verify=false`` to accept a
certificate that cannot be verified (a test server's self-signed one). A 4xx answer or a connection
failure is retryable, a 5xx is not; the URL's password never appears in a message.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from services.gateway.connections import EmailSettings
from services.gateway.formats.email_message import order_email
from services.gateway.ports import CheckStep, DeliveryError, OutboundDocument

SCHEMES = {"smtp": (False, False), "smtp+starttls": (False, True), "smtps": (True, False)}
"""URL scheme → (implicit TLS, STARTTLS required)."""
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
REPLY_EXCERPT_CHARS = 200


@dataclass(frozen=True)
class SmtpEndpoint:
    """``DROPSHIP_SMTP_URL`` taken apart."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None
    verify_certificate: bool

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpEndpoint:
    """Raises ``ValueError`` (without the password in it) for a URL this transport cannot use."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"an SMTP URL starts with smtp://, smtp+starttls:// or smtps://, not {scheme or '?'}://")
    if not parts.hostname:
        raise ValueError("the SMTP URL names no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValueError("the SMTP URL's port is not a number from 1 to 65535") from None
    verify = parse_qs(parts.query).get("verify", ["true"])[-1].lower() not in ("false", "0", "no")
    implicit_tls, starttls = SCHEMES[scheme]
    return SmtpEndpoint(
        host=parts.hostname,
        port=port,
        implicit_tls=implicit_tls,
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        verify_certificate=verify,
    )


class EmailTransport:
    """:class:`~services.gateway.ports.OrderTransport` for ``transport: email``."""

    def __init__(self, smtp_url: str, sender: str, settings: EmailSettings, *, timeout_seconds: float) -> None:
        self._endpoint = parse_smtp_url(smtp_url)
        self._sender = sender
        self._settings = settings
        self._timeout_seconds = timeout_seconds

    async def send(self, document: OutboundDocument) -> str:
        settings = self._settings
        message = order_email(document, sender=self._sender, to=settings.to, cc=settings.cc, reply_to=settings.reply_to)
        endpoint = self._endpoint
        try:
            refused, reply = await aiosmtplib.send(
                message,
                sender=self._sender,
                recipients=[*settings.to, *settings.cc],
                hostname=endpoint.host,
                port=endpoint.port,
                username=endpoint.username,
                password=endpoint.password,
                use_tls=endpoint.implicit_tls,
                start_tls=endpoint.starttls,
                validate_certs=endpoint.verify_certificate,
                timeout=self._timeout_seconds,
            )
        except aiosmtplib.SMTPException as error:
            raise _delivery_error(endpoint, error) from None
        except OSError as error:
            raise DeliveryError(f"cannot reach {endpoint.where}: {_os_reason(error)}", retryable=True) from None
        receipt = f"250 {reply.strip()}"[:REPLY_EXCERPT_CHARS]
        if refused:
            receipt += f" (refused: {', '.join(sorted(refused))})"
        return receipt

    async def check(self) -> list[CheckStep]:
        """Connects (and STARTTLS), logs in when the URL carries a login, then ``NOOP``."""
        endpoint = self._endpoint
        client = aiosmtplib.SMTP(
            hostname=endpoint.host,
            port=endpoint.port,
            use_tls=endpoint.implicit_tls,
            start_tls=endpoint.starttls,
            validate_certs=endpoint.verify_certificate,
            timeout=self._timeout_seconds,
        )
        steps: list[CheckStep] = []
        step = "connect"
        try:
            await client.connect()
            tls = " with TLS" if endpoint.implicit_tls or endpoint.starttls else ""
            steps.append(CheckStep(step="connect", ok=True, detail=f"connected to {endpoint.where}{tls}"))
            if endpoint.username is not None:
                step = "login"
                await client.login(endpoint.username, endpoint.password or "")
                steps.append(CheckStep(step="login", ok=True, detail=f"logged in as {endpoint.username}"))
            step = "noop"
            response = await client.noop()
            steps.append(CheckStep(step="noop", ok=True, detail=f"{response.code} {response.message}"))
            # A server that wants STARTTLS or a login still answers NOOP; MAIL FROM is where it says no.
            step = "sender"
            response = await client.mail(self._sender)
            steps.append(CheckStep(step="sender", ok=True, detail=f"{response.code} {response.message}"))
            await client.rset()
        except aiosmtplib.SMTPException as error:
            steps.append(CheckStep(step=step, ok=False, detail=_delivery_error(endpoint, error).message))
        except OSError as error:
            steps.append(CheckStep(step=step, ok=False, detail=f"cannot reach {endpoint.where}: {_os_reason(error)}"))
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
        return steps


def _delivery_error(endpoint: SmtpEndpoint, error: aiosmtplib.SMTPException) -> DeliveryError:
    """A 5xx is the server's final word; a 4xx, a timeout or a dropped connection may pass."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        detail = "; ".join(f"{refused.recipient}: {refused.code} {refused.message}" for refused in error.recipients)
        permanent = bool(codes) and all(code >= 500 for code in codes)
        message = f"every recipient refused: {detail}"[:400]
        return DeliveryError(message, retryable=not permanent, status=max(codes, default=None))
    if isinstance(error, aiosmtplib.SMTPResponseException):
        text = f"SMTP {error.code}: {error.message[:REPLY_EXCERPT_CHARS]}"
        return DeliveryError(text, retryable=error.code < 500, status=error.code)
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return DeliveryError(f"{endpoint.where}: {error.message[:REPLY_EXCERPT_CHARS]}", retryable=False)
    if isinstance(error, aiosmtplib.SMTPTimeoutError):
        return DeliveryError(f"{endpoint.where} did not answer in time", retryable=True)
    return DeliveryError(f"{endpoint.where}: {type(error).__name__}: {error.message[:REPLY_EXCERPT_CHARS]}")


def _os_reason(error: OSError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed: {error.reason or type(error).__name__}"
    return error.strerror or str(error) or type(error).__name__
