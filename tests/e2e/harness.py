"""The four services as real processes (:class:`shared.processes.ServiceProcess`), as ``make run``
runs them, for the end-to-end and chaos suites: start, stop with a signal, kill, restart, add
instances, read their logs."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from shared.processes import REPO_ROOT, ServiceProcess, free_port, wait_ready

SERVICE_NAMES = ("intake", "splitter", "shipstation", "tracking")


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
        await wait_ready([*self.processes.values(), *self.extra], timeout)

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
