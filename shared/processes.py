"""The services as child processes on free loopback ports, each logging to its own file: what the
end-to-end tests, the chaos suite and the benchmark run the system as (``make run`` itself goes
through :mod:`shared.runner`, which interleaves the logs on the terminal instead)."""

from __future__ import annotations

import asyncio
import functools
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO_ROOT = Path(__file__).resolve().parents[1]


LOWEST_PICKED_PORT = 10_000
_handed_out: set[int] = set()


@functools.cache
def _ephemeral_ports() -> range:
    """The kernel's range for the local ends of outgoing connections (Linux's default if unreadable)."""
    try:
        low, high = (int(part) for part in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


@functools.cache
def _pickable_ports() -> list[int]:
    ephemeral = _ephemeral_ports()
    return [port for port in range(LOWEST_PICKED_PORT, 65536) if port not in ephemeral]


def free_port() -> int:
    """A loopback port nothing listens on now, for a server started later, and never one the kernel
    hands to outgoing connections: a port from ``bind(0)`` is in that range, and a client's connection
    can take it before the server binds (seen: a service failing with "address already in use").
    Not the same port twice in one process."""
    candidates = _pickable_ports()
    for _ in range(200):
        port = random.choice(candidates)  # noqa: S311 - spreading ports, not a secret
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port outside the ephemeral range")


@dataclass
class ServiceProcess:
    """``python -m services.<name>`` with ``env``, listening on ``port``; ``instance`` tells several
    instances of one service apart."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    instance: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(sig)

    def wait(self, timeout: float = 30) -> int | None:
        """The exit code, killing the process if it has not ended within ``timeout``."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def stop(self, timeout: float = 30) -> int | None:
        """The graceful stop (SIGTERM, as Ctrl-C on ``make run`` gives), then the exit code."""
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.wait(10)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


async def wait_ready(processes: Iterable[ServiceProcess], within: float) -> None:
    """Wait until every process answers ``/readyz`` with 200; fail with its log's tail if one exits
    first or is not ready within ``within`` seconds."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        for proc in processes:
            while True:
                if not proc.alive():
                    code = proc.process.returncode if proc.process is not None else None
                    raise RuntimeError(f"{proc.name} exited ({code}) before it was ready:\n{proc.logs()[-3000:]}")
                try:
                    async with session.get(f"{proc.url}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{proc.name} not ready within {within}s:\n{proc.logs()[-3000:]}")
                await asyncio.sleep(0.1)
