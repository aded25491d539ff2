"""Real vendor-side servers on loopback for the gateway's tests: an SFTP server (asyncssh, in this
process), an SMTP server (aiosmtpd) and a webhook receiver (aiohttp) that checks signatures with the
``standardwebhooks`` library, not with our own code.

Each starts on 127.0.0.1 on a free port and is stopped by the test that started it::

    server = SftpServer(tmp_path)
    chroot = server.add_user("acme", password="pw")
    await server.start()
    settings = server.settings("acme", password="pw")   # an SftpSettings that trusts this server
    ...
    await server.stop()
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import hmac
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import asyncssh
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.gateway.connections import SftpSettings
from shared.processes import free_port

LOOPBACK = "127.0.0.1"


Item = TypeVar("Item")


class _Arrivals(Generic[Item]):
    """What a server received, in order, and a wait for the next ones (called on the test's loop)."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self._changed = asyncio.Event()

    def add(self, item: Item) -> None:
        self.items.append(item)
        self._changed.set()

    async def wait_for(self, count: int, timeout: float) -> list[Item]:
        async with asyncio.timeout(timeout):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.items


def client_key() -> tuple[str, str]:
    """A fresh ed25519 login key: (private key as OpenSSH PEM text, public key line ``ssh-ed25519 AAAA…``)."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    return key.export_private_key("openssh").decode(), key.export_public_key("openssh").decode().strip()


# --- SFTP ---------------------------------------------------------------------------------------------


@dataclass
class _SftpUser:
    chroot: Path
    password: str | None
    public_key: asyncssh.SSHKey | None


class _Logins(asyncssh.SSHServer):
    """Password and public-key logins against :class:`SftpServer`'s users; tracks live connections."""

    def __init__(self, server: SftpServer) -> None:
        self._server = server
        self._connection: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._connection = conn
        self._server.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._connection is not None:
            self._server.connections.discard(self._connection)

    def begin_auth(self, username: str) -> bool:
        return True  # every login must authenticate

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        user = self._server.users.get(username)
        return bool(user and user.password is not None and hmac.compare_digest(user.password, password))

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        user = self._server.users.get(username)
        return bool(user and user.public_key is not None and user.public_key.public_data == key.public_data)


class SftpServer:
    """asyncssh's SFTP server with one chroot per user under ``root``; ``restart()`` keeps port and key."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.users: dict[str, _SftpUser] = {}
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.port = 0
        self._host_key = asyncssh.generate_private_key("ssh-ed25519")
        self._acceptor: asyncssh.SSHAcceptor | None = None

    @property
    def host_key_line(self) -> str:
        """The server's public host key, ``ssh-ed25519 AAAA…``: what ``SftpSettings.host_key`` trusts."""
        return self._host_key.export_public_key("openssh").decode().strip()

    def add_user(self, username: str, password: str | None = None, public_key: str | None = None) -> Path:
        """A login (password, public key line, or both); answers its chroot folder, created empty."""
        chroot = self.root / username
        chroot.mkdir(parents=True, exist_ok=True)
        key = asyncssh.import_public_key(public_key) if public_key else None
        self.users[username] = _SftpUser(chroot=chroot, password=password, public_key=key)
        return chroot

    def settings(self, username: str, **values: Any) -> SftpSettings:
        """``SftpSettings`` for this server and ``username``; ``values`` add the login and the folders."""
        return SftpSettings(host=LOOPBACK, port=self.port, username=username, host_key=self.host_key_line, **values)

    async def start(self) -> None:
        self._acceptor = await asyncssh.listen(
            LOOPBACK,
            self.port,
            server_host_keys=[self._host_key],
            server_factory=lambda: _Logins(self),
            sftp_factory=self._session,
            allow_scp=False,
            reuse_address=True,
            config=None,
        )
        self.port = self._acceptor.get_port()

    async def stop(self) -> None:
        """Stops listening and drops every open session (a server that went away)."""
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        for connection in list(self.connections):
            connection.close()
            await connection.wait_closed()
        self.connections.clear()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def _session(self, channel: asyncssh.SSHServerChannel[bytes]) -> asyncssh.SFTPServer:
        username = channel.get_extra_info("username")
        return asyncssh.SFTPServer(channel, chroot=str(self.users[username].chroot).encode())


# --- SMTP ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Collector:
    """aiosmtpd's handler: runs on the controller's thread, hands each message to the test's loop."""

    def __init__(self, arrivals: _Arrivals[ReceivedMail]) -> None:
        self._arrivals = arrivals
        self.loop: asyncio.AbstractEventLoop | None = None
        self.refusals: dict[str, str] = {}

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        refusal = self.refusals.get(address.lower())
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        content = raw if isinstance(raw, bytes) else raw.encode()
        message = email.message_from_bytes(content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        mail = ReceivedMail(mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos), message=message)
        assert self.loop is not None, "SmtpServer.start() sets the loop"
        self.loop.call_soon_threadsafe(self._arrivals.add, mail)
        return "250 2.0.0 queued"


def self_signed_certificate() -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) for ``127.0.0.1``, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def _server_tls_context() -> ssl.SSLContext:
    certificate, key = self_signed_certificate()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as folder:  # ssl loads a chain only from files
        (Path(folder) / "cert.pem").write_bytes(certificate)
        (Path(folder) / "key.pem").write_bytes(key)
        context.load_cert_chain(Path(folder) / "cert.pem", Path(folder) / "key.pem")
    return context


class SmtpServer:
    """aiosmtpd on loopback. ``tls``: ``"none"``, ``"starttls"`` (required before MAIL) or ``"implicit"``
    (TLS from the first byte), with a self-signed certificate: clients connect with ``?verify=false``."""

    def __init__(self, tls: Literal["none", "starttls", "implicit"] = "none") -> None:
        self._arrivals: _Arrivals[ReceivedMail] = _Arrivals()
        self._collector = _Collector(self._arrivals)
        self.port = free_port()
        self.tls = tls
        scheme = {"none": "smtp", "starttls": "smtp+starttls", "implicit": "smtps"}[tls]
        self.url = f"{scheme}://{LOOPBACK}:{self.port}" + ("" if tls == "none" else "?verify=false")
        """What ``EmailTransport`` takes as ``smtp_url``."""
        options: dict[str, Any] = {}
        if tls == "starttls":
            options = {"tls_context": _server_tls_context(), "require_starttls": True}
        elif tls == "implicit":
            options = {"ssl_context": _server_tls_context()}
        self._controller = Controller(self._collector, hostname=LOOPBACK, port=self.port, **options)

    def refuse(self, address: str, reply: str = "550 5.1.1 mailbox unavailable") -> None:
        """Answer ``RCPT TO`` for ``address`` with ``reply`` (a 4xx for "later", a 5xx for "never")."""
        self._collector.refusals[address.lower()] = reply

    @property
    def received(self) -> list[ReceivedMail]:
        return self._arrivals.items

    @property
    def messages(self) -> list[EmailMessage]:
        return [mail.message for mail in self.received]

    async def start(self) -> None:
        self._collector.loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._controller.start)

    async def stop(self) -> None:
        await asyncio.to_thread(self._controller.stop)

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        return [mail.message for mail in await self._arrivals.wait_for(count, timeout)]


# --- Webhooks -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    headers: dict[str, str]
    """Lower-case names."""
    body: bytes
    verified: bool
    """``standardwebhooks`` accepted the signature and the timestamp."""


@dataclass
class _Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


class WebhookReceiver:
    """A vendor's webhook endpoint: records every request, answers ``status`` (202) unless told to fail."""

    def __init__(self, secret: str, *, status: int = 202) -> None:
        # The library takes ``whsec_<base64>`` as text and any other secret as its raw bytes, as we sign.
        self._verifier = Webhook(secret if secret.startswith("whsec_") else secret.encode())
        self.status = status
        self.delay = 0.0
        """Seconds to wait before answering (a slow vendor, for timeouts)."""
        self._arrivals: _Arrivals[ReceivedWebhook] = _Arrivals()
        self._planned: list[_Answer] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/orders"

    def fail_next(
        self, count: int, status: int = 503, *, body: str = "unavailable", headers: dict[str, str] | None = None
    ) -> None:
        """The next ``count`` requests get ``status`` (with ``body`` and ``headers``, e.g. a ``Location``)."""
        self._planned.extend(_Answer(status=status, headers=dict(headers or {}), body=body) for _ in range(count))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def received(self) -> list[ReceivedWebhook]:
        return self._arrivals.items

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedWebhook]:
        return await self._arrivals.wait_for(count, timeout)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            self._verifier.verify(body, headers, json_parse=False)
            verified = True
        except WebhookVerificationError:
            verified = False
        self._arrivals.add(ReceivedWebhook(path=request.path, headers=headers, body=body, verified=verified))
        if self.delay:
            await asyncio.sleep(self.delay)
        answer = self._planned.pop(0) if self._planned else _Answer(status=self.status, body="ok")
        return web.Response(status=answer.status, text=answer.body, headers=answer.headers)
