"""Delivery to and pickup from a vendor's SFTP server (asyncssh): the outbound upload, the inbound
:class:`~services.gateway.ports.FileDrop`, and the connection check.

Trust is explicit: the only host key accepted is the one configured (no trust on first use, no
``~/.ssh`` config, known_hosts or agent). An upload is written under a hidden ``.<name>.part`` and
renamed onto its final name, so a vendor never reads half a file and a retry replaces what an earlier
attempt left. Failures become :class:`DeliveryError`: a host key that does not match or a refused login
cannot be helped by a retry; a refused connection, a timeout or a dropped session can. A password or a
private key never appears in a message.
"""

from __future__ import annotations

import asyncio
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType

import asyncssh

from services.gateway.connections import SftpSettings
from services.gateway.ports import CheckStep, DeliveryError, OutboundDocument, RemoteFile

ARCHIVE_FOLDER = "archive"
ERROR_FOLDER = "error"
NEEDS_A_PERSON = (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath, asyncssh.SFTPPermissionDenied)
"""SFTP errors a retry cannot help: the folder is missing or the login may not write there."""


CLOSE_SECONDS = 5.0
"""How long a closing session waits for the server to confirm."""


class SftpConnection:
    """One logged-in SFTP session: ``async with SftpConnection(settings, timeout_seconds=30) as sftp``."""

    def __init__(self, settings: SftpSettings, *, timeout_seconds: float) -> None:
        self._settings = settings
        self._timeout_seconds = timeout_seconds
        self._connection: asyncssh.SSHClientConnection | None = None
        self._client: asyncssh.SFTPClient | None = None

    async def __aenter__(self) -> SftpConnection:
        settings = self._settings
        options = _client_options(settings, self._timeout_seconds)
        try:
            self._connection = await asyncssh.connect(settings.host, settings.port, options=options)
            self._client = await self._connection.start_sftp_client()
        except BaseException as error:
            await self._close()
            raise _connect_error(settings, self._timeout_seconds, error) from None
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._close()

    async def _close(self) -> None:
        if self._client is not None:
            self._client.exit()
            self._client = None
        if self._connection is not None:
            self._connection.close()
            try:
                # A server busy with (or stuck on) a request may never confirm the close: bounded, then
                # the connection is dropped, so a hung server holds no round of the deliverer.
                await asyncio.wait_for(
                    self._connection.wait_closed(), timeout=min(CLOSE_SECONDS, self._timeout_seconds)
                )
            except TimeoutError:
                self._connection.abort()
            finally:
                self._connection = None

    @property
    def _sftp(self) -> asyncssh.SFTPClient:
        if self._client is None:
            raise RuntimeError("SftpConnection is used outside its `async with`")
        return self._client

    async def upload(self, folder: str, name: str, content: bytes) -> str:
        """Write ``content`` to ``<folder>/<name>`` in one step as the vendor sees it; answers the path."""
        final = posixpath.join(folder, name)
        partial = posixpath.join(folder, f".{name}.part")
        with _sftp_errors(self._settings, f"upload {final}"):
            try:
                async with self._sftp.open(partial, "wb", encoding=None) as file:
                    await file.write(content)
            except BaseException:
                await self._remove_quietly(partial)
                raise
            await self._replace(partial, final)
        return final

    async def list_files(self, folder: str) -> list[RemoteFile]:
        found: list[RemoteFile] = []
        with _sftp_errors(self._settings, f"list {folder}"):
            async for entry in self._sftp.scandir(folder):
                name = _text(entry.filename)
                if name.startswith(".") or entry.attrs.type != asyncssh.FILEXFER_TYPE_REGULAR:
                    continue
                found.append(RemoteFile(path=posixpath.join(folder, name), name=name, size=entry.attrs.size or 0))
        return sorted(found, key=lambda remote: remote.name)

    async def read_file(self, remote: RemoteFile, max_bytes: int) -> bytes:
        with _sftp_errors(self._settings, f"read {remote.path}"):
            async with self._sftp.open(remote.path, "rb", encoding=None) as file:
                raw: bytes | str = await file.read(max_bytes + 1)
        # Binary mode reads bytes; the library's types name str, the type of its text mode.
        content = raw.encode() if isinstance(raw, str) else raw
        if len(content) > max_bytes:
            raise DeliveryError(f"{remote.path} is larger than {max_bytes} bytes", retryable=False)
        return content

    async def archive(self, remote: RemoteFile) -> None:
        await self._move_into(remote, ARCHIVE_FOLDER)

    async def delete(self, remote: RemoteFile) -> None:
        with _sftp_errors(self._settings, f"delete {remote.path}"):
            await self._sftp.remove(remote.path)

    async def set_aside(self, remote: RemoteFile, error: str) -> None:
        folder = await self._move_into(remote, ERROR_FOLDER)
        await self.upload(folder, f"{remote.name}.error.txt", error.encode())

    async def _move_into(self, remote: RemoteFile, subfolder: str) -> str:
        folder = posixpath.join(posixpath.dirname(remote.path), subfolder)
        with _sftp_errors(self._settings, f"move {remote.path} into {subfolder}/"):
            await self._sftp.makedirs(folder, exist_ok=True)
            await self._replace(remote.path, posixpath.join(folder, remote.name))
        return folder

    async def _replace(self, source: str, target: str) -> None:
        """Rename ``source`` onto ``target``, replacing it: atomic where the server has OpenSSH's
        ``posix-rename`` (or SFTP v5+); elsewhere the old file is removed first."""
        try:
            await self._sftp.posix_rename(source, target)
        except asyncssh.SFTPOpUnsupported:
            await self._remove_quietly(target)
            await self._sftp.rename(source, target)

    async def _remove_quietly(self, path: str) -> None:
        with suppress(asyncssh.SFTPError, asyncssh.Error, OSError):
            await self._sftp.remove(path)


class SftpTransport:
    """:class:`~services.gateway.ports.OrderTransport` for ``transport: sftp``: one file per document."""

    def __init__(self, settings: SftpSettings, *, timeout_seconds: float) -> None:
        self._settings = settings
        self._timeout_seconds = timeout_seconds

    async def send(self, document: OutboundDocument) -> str:
        async with SftpConnection(self._settings, timeout_seconds=self._timeout_seconds) as sftp:
            return await sftp.upload(self._settings.outbound_dir, document.file_name, document.content)

    async def check(self) -> list[CheckStep]:
        """Logs in, then lists the outbound folder and each inbound one; every failure is a step."""
        settings = self._settings
        folders = {"outbound_dir": settings.outbound_dir}
        folders |= {f"inbound {kind}": folder for kind, folder in settings.inbound.folders().items()}
        steps: list[CheckStep] = []
        try:
            async with SftpConnection(settings, timeout_seconds=self._timeout_seconds) as sftp:
                steps.append(CheckStep(step="login", ok=True, detail=f"logged in as {settings.username}"))
                for step, folder in folders.items():
                    try:
                        files = await sftp.list_files(folder)
                    except DeliveryError as error:
                        steps.append(CheckStep(step=step, ok=False, detail=error.message))
                    else:
                        steps.append(CheckStep(step=step, ok=True, detail=f"{folder}: {len(files)} file(s) waiting"))
        except DeliveryError as error:
            if not steps:
                steps.append(CheckStep(step="login", ok=False, detail=error.message))
            else:
                steps.append(CheckStep(step="session", ok=False, detail=error.message))
        return steps


def _client_options(settings: SftpSettings, timeout_seconds: float) -> asyncssh.SSHClientConnectionOptions:
    """Only what the connection says: its host key, its login; nothing from the machine's ~/.ssh."""
    try:
        host_key = asyncssh.import_public_key(settings.host_key)
    except (asyncssh.KeyImportError, ValueError):
        raise DeliveryError(f"the host key configured for {settings.host} cannot be read", retryable=False) from None
    client_keys = None
    if settings.private_key:
        try:
            client_keys = [asyncssh.import_private_key(settings.private_key)]
        except (asyncssh.KeyImportError, ValueError):
            raise DeliveryError("the private key configured cannot be read", retryable=False) from None
    return asyncssh.SSHClientConnectionOptions(
        config=None,
        username=settings.username,
        password=settings.password or None,
        client_keys=client_keys,
        known_hosts=([host_key], [], []),
        agent_path=None,
        gss_host=None,
        connect_timeout=timeout_seconds,
        login_timeout=timeout_seconds,
    )


def _connect_error(settings: SftpSettings, timeout_seconds: float, error: BaseException) -> BaseException:
    """What a failed connect means for the delivery (the original is dropped: it may quote the login)."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(error, asyncssh.SFTPError):
        return _sftp_error(settings, "start the SFTP session", error)
    if isinstance(error, asyncssh.HostKeyNotVerifiable):
        return DeliveryError(f"host key of {settings.host} does not match the one configured", retryable=False)
    if isinstance(error, asyncssh.PermissionDenied):
        return DeliveryError(f"{settings.host} refused the login of {settings.username}", retryable=False)
    if isinstance(error, TimeoutError):
        return DeliveryError(f"no answer from {where} within {timeout_seconds:g} s", retryable=True)
    if isinstance(error, asyncssh.DisconnectError):
        return DeliveryError(f"{where} closed the connection: {error.reason}", retryable=True)
    if isinstance(error, OSError):
        return DeliveryError(f"cannot connect to {where}: {error.strerror or type(error).__name__}", retryable=True)
    if isinstance(error, asyncssh.Error):
        return DeliveryError(f"SSH with {where} failed: {type(error).__name__}", retryable=True)
    return error


@contextmanager
def _sftp_errors(settings: SftpSettings, action: str) -> Iterator[None]:
    try:
        yield
    except asyncssh.SFTPError as error:
        raise _sftp_error(settings, action, error) from None
    except (asyncssh.DisconnectError, ConnectionError) as error:
        raise DeliveryError(f"{action}: the connection to {settings.host} was lost", retryable=True) from error


def _sftp_error(settings: SftpSettings, action: str, error: asyncssh.SFTPError) -> DeliveryError:
    """A missing folder or a permission the vendor must fix is not retried; the rest (a full disk, a
    dropped session) may pass."""
    needs_a_person = isinstance(error, NEEDS_A_PERSON)
    reason = error.reason or type(error).__name__
    return DeliveryError(f"{action} on {settings.host}: {reason}", retryable=not needs_a_person)


def _text(name: bytes | str) -> str:
    return name.decode("utf-8", errors="replace") if isinstance(name, bytes) else name
