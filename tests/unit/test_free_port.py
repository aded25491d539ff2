"""Ports picked for servers started later: never in the kernel's range for outgoing connections (a
client could take such a port before the server binds it), never twice, and free when picked."""

from __future__ import annotations

import socket

from shared.processes import _ephemeral_ports, free_port


def test_picked_ports_are_outside_the_ephemeral_range_distinct_and_bindable() -> None:
    ephemeral = _ephemeral_ports()
    ports = [free_port() for _ in range(50)]
    assert not [port for port in ports if port in ephemeral]
    assert len(set(ports)) == len(ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[-1]))  # nothing took it meanwhile
