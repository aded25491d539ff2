"""Runs the services as real processes (``python -m services.<name>``), as ``make run`` does, for the
end-to-end, chaos and benchmark suites: start, stop with a signal, kill, restart, read their logs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support import free_port

SERVICE_NAMES = ("intake", "splitter", "shipstation", "tracking")
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    instance: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def wait(self, timeout: float = 30) -> int | None:
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def stop(self, timeout: float = 30) -> int | None:
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.wait(10)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class ProcessSystem:
    """The four services as processes sharing one database and namespace; more instances on request."""

    base_env: dict[str, str]
    log_dir: Path
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    extra: list[ServiceProcess] = field(default_factory=list)

    @property
    def urls(self) -> dict[str, str]:
        return {name: proc.url for name, proc in self.processes.items()}

    def _env(self, ports: dict[str, int], own_port: int, name: str) -> dict[str, str]:
        env = {**os.environ, **self.base_env}
        for service, port in ports.items():
            env[f"DROPSHIP_{service.upper()}_URL"] = f"http://127.0.0.1:{port}"
        env[f"DROPSHIP_{name.upper()}_PORT"] = str(own_port)
        env["PYTHONPATH"] = str(REPO_ROOT)
        return env

    def start(self, names: Iterable[str] = SERVICE_NAMES) -> None:
        ports = {name: free_port() for name in SERVICE_NAMES}
        for name in names:
            proc = ServiceProcess(name, ports[name], self._env(ports, ports[name], name), self.log_dir / f"{name}.log")
            self.processes[name] = proc
            proc.start()

    def add_instance(self, name: str) -> ServiceProcess:
        """Another process of ``name`` on its own port, consuming the same queues."""
        ports = {n: p.port for n, p in self.processes.items()}
        port = free_port()
        index = len([e for e in self.extra if e.name == name]) + 1
        proc = ServiceProcess(name, port, self._env(ports, port, name), self.log_dir / f"{name}-{index}.log", index)
        self.extra.append(proc)
        proc.start()
        return proc

    async def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            for proc in [*self.processes.values(), *self.extra]:
                while True:
                    if proc.process is not None and proc.process.poll() is not None:
                        raise RuntimeError(f"{proc.name} exited with {proc.process.returncode}:\n{proc.logs()[-3000:]}")
                    try:
                        async with session.get(f"{proc.url}/readyz") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{proc.name} not ready in {timeout}s:\n{proc.logs()[-3000:]}")
                    await asyncio.sleep(0.1)

    def restart(self, name: str, *, kill: bool = False) -> None:
        proc = self.processes[name]
        if kill:
            proc.kill()
        else:
            proc.stop()
        proc.start()

    def stop_all(self) -> dict[str, int | None]:
        everything = [*self.processes.values(), *self.extra]
        for proc in everything:
            proc.signal(signal.SIGTERM)
        return {f"{p.name}#{p.instance}": p.wait(30) for p in everything}

    def all_logs(self) -> str:
        return "\n".join(p.logs() for p in [*self.processes.values(), *self.extra])
