"""The SFTP transport against Debian's OpenSSH server, not only against asyncssh's own: an sshd of this
test's own (its config, host key, authorized keys and pid file in tmp_path, on a free loopback port,
``internal-sftp``), logged into with a key as the user running the tests.

Without ``/usr/sbin/sshd`` these tests skip on a developer machine (``apt-get install openssh-server``)
and fail in CI (``CI=true``, set by .ci/run, which installs it).
"""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pytest

from services.gateway.connections import SftpSettings
from services.gateway.ports import DeliveryError, OutboundDocument
from services.gateway.transports.sftp import SftpConnection, SftpTransport
from shared.processes import free_port
from tests.gateway_servers import LOOPBACK, client_key

SSHD = Path("/usr/sbin/sshd")
TIMEOUT = 10.0
CSV = b"PO Number,SKU,Qty\r\n1001-1,TS-R-M,2\r\n"
SHIPMENTS = b"PO Number,Tracking\r\n1001-1,1Z999\r\n"


@dataclass(frozen=True)
class OpenSsh:
    port: int
    host_key_line: str
    private_key: str
    username: str
    root: Path
    """A folder the login may read and write, addressed by its absolute path (no chroot)."""

    def settings(self, **values: object) -> SftpSettings:
        return SftpSettings.model_validate(
            {
                "host": LOOPBACK,
                "port": self.port,
                "username": self.username,
                "private_key": self.private_key,
                "host_key": self.host_key_line,
                **values,
            }
        )


def _require_sshd() -> None:
    if SSHD.exists():
        return
    message = f"{SSHD} is not installed (apt-get install openssh-server); .ci/run installs it"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}, and CI must check the SFTP client against OpenSSH", pytrace=False)
    pytest.skip(message)


async def _wait_until_listening(port: int, process: asyncio.subprocess.Process, log: Path) -> None:
    async with asyncio.timeout(10):
        while True:
            if process.returncode is not None:
                pytest.fail(f"sshd exited with {process.returncode}: {_read(log)}", pytrace=False)
            try:
                _, writer = await asyncio.open_connection(LOOPBACK, port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return


def _read(path: Path) -> str:
    return path.read_text(errors="replace")


def _prepare(folder: Path) -> tuple[Path, OpenSsh]:
    """sshd's config, host key and authorized keys in ``folder``; answers the config and the server."""
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    host_key_file = folder / "ssh_host_ed25519_key"
    host_key.write_private_key(host_key_file, "openssh")
    host_key_file.chmod(0o600)
    private_key, public_key = client_key()
    authorized_keys = folder / "authorized_keys"
    authorized_keys.write_text(public_key + "\n")
    server = OpenSsh(
        port=free_port(),
        host_key_line=host_key.export_public_key("openssh").decode().strip(),
        private_key=private_key,
        username=getpass.getuser(),
        root=folder / "vendor",
    )
    server.root.mkdir()
    config = folder / "sshd_config"
    lines = [
        f"ListenAddress {LOOPBACK}",
        f"Port {server.port}",
        f"HostKey {host_key_file}",
        f"PidFile {folder / 'sshd.pid'}",
        f"AuthorizedKeysFile {authorized_keys}",
        f"AllowUsers {server.username}",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "StrictModes no",
        "UsePAM no",
        "Subsystem sftp internal-sftp",
    ]
    config.write_text("\n".join(lines) + "\n")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # root's sshd insists on its privilege separation dir
    return config, server


@pytest.fixture
async def openssh(tmp_path: Path) -> AsyncIterator[OpenSsh]:
    _require_sshd()
    config, server = _prepare(tmp_path)
    log = tmp_path / "sshd.log"
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            str(SSHD), "-f", str(config), "-D", "-e", stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=log_file
        )
    try:
        await _wait_until_listening(server.port, process, log)
        yield server
    finally:  # stop this sshd, by its own pid
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(5):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


def document(content: bytes = CSV) -> OutboundDocument:
    return OutboundDocument(
        delivery_id="dlv_1001-1_created",
        event_type="vendor_order.created",
        vendor_order_number="1001-1",
        file_name="1001-1.csv",
        content=content,
        media_type="text/csv",
        subject="Order 1001-1",
        text="Order 1001-1",
    )


async def test_upload_and_pickup_against_openssh(openssh: OpenSsh) -> None:
    orders = openssh.root / "orders"
    tracking = openssh.root / "tracking"
    orders.mkdir()
    tracking.mkdir()
    (tracking / "track-0412.csv").write_bytes(SHIPMENTS)
    (tracking / "track-0413.csv").write_bytes(b"broken")
    settings = openssh.settings(outbound_dir=str(orders), inbound={"shipments": str(tracking)})
    transport = SftpTransport(settings, timeout_seconds=TIMEOUT)

    assert await transport.send(document(b"first\r\n")) == f"{orders}/1001-1.csv"
    assert await transport.send(document()) == f"{orders}/1001-1.csv"  # replaces: OpenSSH's posix-rename
    assert [path.name for path in orders.iterdir()] == ["1001-1.csv"]
    assert (orders / "1001-1.csv").read_bytes() == CSV

    async with SftpConnection(settings, timeout_seconds=TIMEOUT) as sftp:
        shipment, broken = await sftp.list_files(str(tracking))
        assert (shipment.name, shipment.size) == ("track-0412.csv", len(SHIPMENTS))
        assert await sftp.read_file(shipment, max_bytes=1000) == SHIPMENTS
        await sftp.archive(shipment)
        await sftp.set_aside(broken, "row 1: no PO Number column")
        assert await sftp.list_files(str(tracking)) == []

    assert (tracking / "archive" / "track-0412.csv").read_bytes() == SHIPMENTS
    assert (tracking / "error" / "track-0413.csv.error.txt").read_text() == "row 1: no PO Number column"
    steps = await transport.check()
    assert [(step.step, step.ok) for step in steps] == [
        ("login", True),
        ("outbound_dir", True),
        ("inbound shipments", True),
    ]


async def test_openssh_with_another_host_key_is_refused(openssh: OpenSsh) -> None:
    _, someone_elses_key = client_key()
    settings = openssh.settings(host_key=someone_elses_key, outbound_dir=str(openssh.root))

    with pytest.raises(DeliveryError) as caught:
        await SftpTransport(settings, timeout_seconds=TIMEOUT).send(document())

    assert caught.value.retryable is False
    assert "does not match" in str(caught.value)
    assert list(openssh.root.iterdir()) == []


async def test_openssh_refuses_a_key_it_does_not_authorize(openssh: OpenSsh) -> None:
    stranger_key, _ = client_key()
    settings = openssh.settings(private_key=stranger_key, outbound_dir=str(openssh.root))

    with pytest.raises(DeliveryError) as caught:
        await SftpTransport(settings, timeout_seconds=TIMEOUT).send(document())

    assert caught.value.retryable is False
    assert list(openssh.root.iterdir()) == []
