"""What the machine is and how busy it is: cores, memory, CPU model, and per-process readings from /proc."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INFRA_RESTART_FLAG = Path("/tmp/dropship-infra-restart")  # noqa: S108 - the chaos suite's agreed marker
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _meminfo_kb(field: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_revision() -> dict[str, Any]:
    """The commit measured, and whether the working tree differed from it."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": bool(status.strip())}


def describe() -> dict[str, Any]:
    return {
        "git": git_revision(),
        "cores": os.cpu_count() or 0,
        "memory_mb": round(_meminfo_kb("MemTotal") / 1024),
        "cpu_model": cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def infra_restarting() -> bool:
    return INFRA_RESTART_FLAG.exists()


async def infra_settled(limit_seconds: float = 120) -> bool:
    """Wait while the chaos suite restarts RabbitMQ or PostgreSQL (its marker file exists), plus a
    few seconds for them to settle. Answers whether the marker was seen."""
    seen = False
    deadline = time.monotonic() + limit_seconds
    while infra_restarting() and time.monotonic() < deadline:
        seen = True
        await asyncio.sleep(0.5)
    if seen:
        await asyncio.sleep(5)
    return seen


def rss_mb(pid: int) -> float | None:
    """VmRSS of ``pid`` in MB, ``None`` if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time ``pid`` has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _system_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return total - idle, total


def find_processes(command: str) -> list[int]:
    """Pids whose command name is ``command`` (e.g. ``beam.smp`` for RabbitMQ); read-only."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == command:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass
class UsageMeter:
    """CPU used by groups of processes, and by the whole machine, between ``start`` and ``stop``.

    A group is a list of pids (one service, or every PostgreSQL backend serving the bench database);
    a pid that appears only at the end counts from zero, a pid gone at the end is left out.
    """

    groups: dict[str, list[int]]
    _started: float = 0.0
    _before: dict[int, float] | None = None
    _system: tuple[int, int] = (0, 0)
    _own: float = 0.0
    disturbed: bool = False

    def start(self) -> UsageMeter:
        self._started = time.monotonic()
        self._before = {pid: cpu_seconds(pid) or 0.0 for pids in self.groups.values() for pid in pids}
        self._system = _system_ticks()
        self._own = time.process_time()
        self.disturbed = INFRA_RESTART_FLAG.exists()
        return self

    def check(self) -> None:
        """Call now and then: notes whether the chaos suite restarted infrastructure meanwhile."""
        self.disturbed = self.disturbed or INFRA_RESTART_FLAG.exists()

    def stop(self, groups: dict[str, list[int]] | None = None) -> dict[str, Any]:
        """``groups``: the groups as they are now (new backends may have connected meanwhile)."""
        self.check()
        elapsed = max(time.monotonic() - self._started, 1e-9)
        busy0, total0 = self._system
        busy1, total1 = _system_ticks()
        cores = os.cpu_count() or 1
        before = self._before or {}
        per_group: dict[str, float] = {}
        for name, pids in (groups or self.groups).items():
            used = 0.0
            for pid in pids:
                now = cpu_seconds(pid)
                if now is not None:
                    used += now - before.get(pid, 0.0)
            per_group[name] = round(used / elapsed, 3)
        return {
            "seconds": round(elapsed, 2),
            "machine_busy_cores": round((busy1 - busy0) / max(total1 - total0, 1) * cores, 2),
            "process_cores": per_group,
            "bench_client_cores": round((time.process_time() - self._own) / elapsed, 3),
            "infra_restarted_meanwhile": self.disturbed,
        }
