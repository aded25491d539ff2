"""The SFTP transport against asyncssh's SFTP server on loopback: password and key logins, the host
key as the only trust, uploads a vendor never sees half of, the inbound folder's list/read/archive/
delete/set-aside, chroots between vendors, a server that goes away and comes back, and the check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from services.gateway.ports import DeliveryError, OutboundDocument, RemoteFile
from services.gateway.transports.sftp import SftpConnection, SftpTransport
from tests.gateway_servers import SftpServer, client_key

TIMEOUT = 5.0
PASSWORD = "correct horse battery staple"
CSV = b"PO Number,SKU,Qty\r\n1001-1,TS-R-M,2\r\n"


def document(content: bytes = CSV, file_name: str = "1001-1.csv") -> OutboundDocument:
    return OutboundDocument(
        delivery_id="dlv_1001-1_created",
        event_type="vendor_order.created",
        vendor_order_number="1001-1",
        file_name=file_name,
        content=content,
        media_type="text/csv",
        subject="Order 1001-1",
        text="Order 1001-1: 2 x TS-R-M",
    )


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    sftp = SftpServer(tmp_path / "sftp")
    chroot = sftp.add_user("alice", password=PASSWORD)
    for folder in ("orders", "tracking", "inventory"):
        (chroot / folder).mkdir()
    await sftp.start()
    yield sftp
    await sftp.stop()


def alice_chroot(server: SftpServer) -> Path:
    return server.users["alice"].chroot


async def test_a_password_login_uploads_under_the_final_name_with_the_exact_bytes(server: SftpServer) -> None:
    transport = SftpTransport(server.settings("alice", password=PASSWORD), timeout_seconds=TIMEOUT)

    receipt = await transport.send(document())

    assert receipt == "/orders/1001-1.csv"
    assert (alice_chroot(server) / "orders" / "1001-1.csv").read_bytes() == CSV
    assert sorted(path.name for path in (alice_chroot(server) / "orders").iterdir()) == ["1001-1.csv"]


async def test_a_key_login_uploads(server: SftpServer) -> None:
    private_key, public_key = client_key()
    chroot = server.add_user("bob", public_key=public_key)
    (chroot / "in").mkdir()
    transport = SftpTransport(
        server.settings("bob", private_key=private_key, outbound_dir="/in"), timeout_seconds=TIMEOUT
    )

    assert await transport.send(document()) == "/in/1001-1.csv"
    assert (chroot / "in" / "1001-1.csv").read_bytes() == CSV


async def test_a_key_the_server_does_not_know_is_refused_for_good(server: SftpServer) -> None:
    _, public_key = client_key()
    other_private_key, _ = client_key()
    server.add_user("bob", public_key=public_key)
    transport = SftpTransport(server.settings("bob", private_key=other_private_key), timeout_seconds=TIMEOUT)

    with pytest.raises(DeliveryError) as caught:
        await transport.send(document())

    assert caught.value.retryable is False
    assert "PRIVATE KEY" not in str(caught.value)
    assert other_private_key.splitlines()[1] not in str(caught.value)


async def test_uploading_the_same_name_again_replaces_the_file(server: SftpServer) -> None:
    transport = SftpTransport(server.settings("alice", password=PASSWORD), timeout_seconds=TIMEOUT)
    await transport.send(document(b"first attempt, longer than the second\r\n"))

    await transport.send(document(b"second\r\n"))

    orders = alice_chroot(server) / "orders"
    assert (orders / "1001-1.csv").read_bytes() == b"second\r\n"
    assert [path.name for path in orders.iterdir()] == ["1001-1.csv"]


async def test_the_rename_replaces_where_the_server_lacks_posix_rename(
    server: SftpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that offers only SFTP v3's rename (which never overwrites): the old file goes first."""
    extensions = [ext for ext in asyncssh.sftp.SFTPServerHandler._extensions if ext[0] != b"posix-rename@openssh.com"]
    monkeypatch.setattr(asyncssh.sftp.SFTPServerHandler, "_extensions", extensions)
    transport = SftpTransport(server.settings("alice", password=PASSWORD), timeout_seconds=TIMEOUT)
    await transport.send(document(b"old\r\n"))

    await transport.send(document(b"new\r\n"))

    orders = alice_chroot(server) / "orders"
    assert (orders / "1001-1.csv").read_bytes() == b"new\r\n"
    assert [path.name for path in orders.iterdir()] == ["1001-1.csv"]


async def test_a_host_key_that_does_not_match_is_not_retried_and_nothing_is_uploaded(server: SftpServer) -> None:
    _, someone_elses_key = client_key()
    settings = server.settings("alice", password=PASSWORD).model_copy(update={"host_key": someone_elses_key})

    with pytest.raises(DeliveryError) as caught:
        await SftpTransport(settings, timeout_seconds=TIMEOUT).send(document())

    assert caught.value.retryable is False
    assert str(caught.value) == "host key of 127.0.0.1 does not match the one configured"
    assert list((alice_chroot(server) / "orders").iterdir()) == []


async def test_a_wrong_password_is_not_retried_and_not_repeated(server: SftpServer) -> None:
    wrong = "not-the-password-at-all"
    transport = SftpTransport(server.settings("alice", password=wrong), timeout_seconds=TIMEOUT)

    with pytest.raises(DeliveryError) as caught:
        await transport.send(document())

    assert caught.value.retryable is False
    assert "alice" in str(caught.value)
    assert wrong not in str(caught.value)


async def test_a_missing_outbound_folder_needs_a_person(server: SftpServer) -> None:
    settings = server.settings("alice", password=PASSWORD, outbound_dir="/nowhere")

    with pytest.raises(DeliveryError) as caught:
        await SftpTransport(settings, timeout_seconds=TIMEOUT).send(document())

    assert caught.value.retryable is False
    assert "/nowhere/1001-1.csv" in str(caught.value)


async def test_a_server_that_is_down_is_retried_and_works_once_it_is_back(server: SftpServer) -> None:
    transport = SftpTransport(server.settings("alice", password=PASSWORD), timeout_seconds=TIMEOUT)
    await server.stop()

    with pytest.raises(DeliveryError) as caught:
        await transport.send(document())
    assert caught.value.retryable is True
    assert PASSWORD not in str(caught.value)

    await server.start()  # the same port and host key
    assert await transport.send(document()) == "/orders/1001-1.csv"


async def test_a_server_that_accepts_but_never_answers_times_out_retryably(server: SftpServer) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # holds the connection open, says nothing, until the client gives up
        writer.close()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    settings = server.settings("alice", password=PASSWORD).model_copy(update={"port": port})
    try:
        with pytest.raises(DeliveryError) as caught:
            await SftpTransport(settings, timeout_seconds=0.3).send(document())
    finally:
        listener.close()
        await listener.wait_closed()

    assert caught.value.retryable is True
    assert "within 0.3 s" in str(caught.value)


async def test_a_session_dropped_by_the_server_is_retryable(server: SftpServer) -> None:
    async with SftpConnection(server.settings("alice", password=PASSWORD), timeout_seconds=TIMEOUT) as sftp:
        await server.restart()
        with pytest.raises(DeliveryError) as caught:
            await sftp.list_files("/orders")
    assert caught.value.retryable is True


async def test_the_inbound_folder_lists_reads_archives_deletes_and_sets_aside(server: SftpServer) -> None:
    tracking = alice_chroot(server) / "tracking"
    shipment = b"PO Number,Tracking\r\n1001-1,1Z999\r\n"
    (tracking / "track-0412.csv").write_bytes(shipment)
    (tracking / "track-0413.csv").write_bytes(b"broken")
    (tracking / "track-0414.csv").write_bytes(b"old")
    (tracking / ".track-0415.csv.part").write_bytes(b"still being written")
    (tracking / "archive").mkdir()
    (tracking / "archive" / "track-0412.csv").write_bytes(b"an earlier file of the same name")

    async with SftpConnection(server.settings("alice", password=PASSWORD), timeout_seconds=TIMEOUT) as sftp:
        files = await sftp.list_files("/tracking")
        assert files == [
            RemoteFile(path="/tracking/track-0412.csv", name="track-0412.csv", size=len(shipment)),
            RemoteFile(path="/tracking/track-0413.csv", name="track-0413.csv", size=6),
            RemoteFile(path="/tracking/track-0414.csv", name="track-0414.csv", size=3),
        ]
        first, broken, old = files
        assert await sftp.read_file(first, max_bytes=1000) == shipment

        await sftp.archive(first)
        await sftp.set_aside(broken, "row 1: no PO Number column")
        await sftp.delete(old)

        assert [remote.name for remote in await sftp.list_files("/tracking")] == []

    assert (tracking / "archive" / "track-0412.csv").read_bytes() == shipment
    assert (tracking / "error" / "track-0413.csv").read_bytes() == b"broken"
    assert (tracking / "error" / "track-0413.csv.error.txt").read_text() == "row 1: no PO Number column"
    assert sorted(path.name for path in (tracking / "error").iterdir()) == [
        "track-0413.csv",
        "track-0413.csv.error.txt",
    ]
    assert not (tracking / "track-0414.csv").exists()
    assert (tracking / ".track-0415.csv.part").exists()


async def test_a_file_larger_than_the_limit_is_refused(server: SftpServer) -> None:
    (alice_chroot(server) / "inventory" / "stock.csv").write_bytes(b"x" * 101)

    async with SftpConnection(server.settings("alice", password=PASSWORD), timeout_seconds=TIMEOUT) as sftp:
        [stock] = await sftp.list_files("/inventory")
        assert await sftp.read_file(stock, max_bytes=101) == b"x" * 101
        with pytest.raises(DeliveryError) as caught:
            await sftp.read_file(stock, max_bytes=100)

    assert caught.value.retryable is False
    assert "larger than 100 bytes" in str(caught.value)


async def test_a_vendor_sees_only_its_own_chroot(server: SftpServer) -> None:
    bob = server.add_user("bob", password="bobs-password")
    (bob / "orders").mkdir()
    (bob / "orders" / "2002-1.csv").write_bytes(b"bob's order")

    async with SftpConnection(server.settings("alice", password=PASSWORD), timeout_seconds=TIMEOUT) as sftp:
        assert await sftp.list_files("/orders") == []
        with pytest.raises(DeliveryError):
            await sftp.list_files("/../bob/orders")
        with pytest.raises(DeliveryError):
            await sftp.read_file(RemoteFile(path="/../../bob/orders/2002-1.csv", name="2002-1.csv", size=11), 100)


async def test_check_reports_each_step(server: SftpServer) -> None:
    (alice_chroot(server) / "tracking" / "track-0412.csv").write_bytes(b"PO Number\r\n")
    settings = server.settings(
        "alice",
        password=PASSWORD,
        inbound={"shipments": "/tracking", "inventory": "/inventory", "acknowledgements": "/acks"},
    )

    steps = await SftpTransport(settings, timeout_seconds=TIMEOUT).check()

    assert [(step.step, step.ok) for step in steps] == [
        ("login", True),
        ("outbound_dir", True),
        ("inbound shipments", True),
        ("inbound inventory", True),
        ("inbound acknowledgements", False),
    ]
    assert "1 file" in steps[2].detail
    assert "/acks" in steps[4].detail


async def test_check_of_a_login_that_fails_says_so_without_the_password(server: SftpServer) -> None:
    wrong = "a-password-that-is-wrong"
    steps = await SftpTransport(server.settings("alice", password=wrong), timeout_seconds=TIMEOUT).check()

    assert [(step.step, step.ok) for step in steps] == [("login", False)]
    assert wrong not in steps[0].detail


async def test_check_of_a_server_that_is_down(server: SftpServer) -> None:
    await server.stop()

    steps = await SftpTransport(server.settings("alice", password=PASSWORD), timeout_seconds=TIMEOUT).check()

    assert [(step.step, step.ok) for step in steps] == [("login", False)]
    assert f"127.0.0.1:{server.port}" in steps[0].detail
