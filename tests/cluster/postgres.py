"""A PostgreSQL primary and its streaming replica, made for one test with Debian's postgresql-common on
ports of their own, and removed afterwards: never the machine's cluster on 5432.

``pg_createcluster`` makes both (trust on loopback, the settings in each cluster's ``conf.d``), the
replica's data folder is replaced by ``pg_basebackup -R`` from the running primary, and both run under
``pg_ctlcluster``. Replication is synchronous (``synchronous_standby_names = '*'``, ``synchronous_commit
= on``): a commit returns only once the replica has flushed it, so whatever a client was told is
committed is on the replica when the primary dies, and the promoted replica has it. Asynchronous
replication would lose the last commits at every failover, which is what the test must prove does not
happen. The replica's own configuration names no synchronous standby, so once promoted (and alone) its
commits do not wait for one.

A cluster is named ``dstest-<pid>-primary`` / ``-replica``: one left by a killed run (its process gone)
is dropped when the next one starts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.processes import free_port

ETC = Path("/etc/postgresql")
LIB = Path("/usr/lib/postgresql")
DATA = Path("/var/lib/postgresql")
NAME_PREFIX = "dstest-"
OWN_NAME = re.compile(r"^dstest-(?P<pid>[0-9]+)-(primary|replica)$")

COMMON_SETTINGS = """\
listen_addresses = '127.0.0.1'
# Seven services with their pools and LISTEN connections, twice over while instances overlap; a hot
# standby also needs at least as many as its primary.
max_connections = 200
wal_level = replica
max_wal_senders = 5
hot_standby = on
"""
PRIMARY_SETTINGS = """\
synchronous_standby_names = '*'
synchronous_commit = on
"""


def _postgres_version() -> str | None:
    """The newest PostgreSQL whose server and pg_basebackup are installed (``/usr/lib/postgresql/<v>``)."""
    versions = [
        path.parent.parent.name
        for path in LIB.glob("*/bin/pg_basebackup")
        if (path.parent / "postgres").exists() and path.parent.parent.name.isdigit()
    ]
    return max(versions, key=int) if versions else None


def unavailable_reason() -> str | None:
    """Why a pair cannot be made here, or ``None``."""
    for tool in ("pg_createcluster", "pg_ctlcluster", "pg_dropcluster", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian's postgresql-common and util-linux)"
    if _postgres_version() is None:
        return f"no PostgreSQL server with pg_basebackup under {LIB}"
    if os.geteuid() != 0:
        return "pg_createcluster and pg_ctlcluster need root here"
    return None


def require_tools() -> None:
    """Skip on a developer machine without the tools; fail under ``CI=true``."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the PostgreSQL failover test needs its tools under CI: {reason}")
    pytest.skip(reason)


def _run(*argv: str, timeout: float = 120) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {(result.stderr or result.stdout)[-800:]}")
    return result.stdout


@dataclass(frozen=True)
class Node:
    version: str
    name: str
    port: int

    @property
    def data_dir(self) -> Path:
        return DATA / self.version / self.name

    @property
    def config_dir(self) -> Path:
        return ETC / self.version / self.name

    def ctl(self, action: str, *options: str) -> None:
        # --skip-systemctl-redirect: run pg_ctl itself, whether or not systemd manages the machine.
        _run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action, *options)

    def create(self, settings: str) -> None:
        _run(
            "pg_createcluster",
            "--port",
            str(self.port),
            self.version,
            self.name,
            "--",
            "--auth-local=trust",
            "--auth-host=trust",
        )
        (self.config_dir / "conf.d").mkdir(exist_ok=True)
        (self.config_dir / "conf.d" / "dstest.conf").write_text(settings)

    def drop(self) -> None:
        """Stop and remove the cluster, whatever state it is in; its configuration folder too."""
        if self.config_dir.exists():
            subprocess.run(
                ["pg_dropcluster", "--stop", self.version, self.name],
                capture_output=True,
                timeout=120,
                check=False,
            )
        shutil.rmtree(self.config_dir, ignore_errors=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)


@dataclass
class PostgresPair:
    """A primary and its synchronous streaming replica; :meth:`url` names both hosts."""

    primary: Node
    replica: Node

    @classmethod
    def for_this_run(cls) -> PostgresPair:
        version = _postgres_version()
        assert version is not None
        pid = os.getpid()
        primary = Node(version, f"{NAME_PREFIX}{pid}-primary", free_port())
        replica = Node(version, f"{NAME_PREFIX}{pid}-replica", free_port())
        return cls(primary, replica)

    def url(self, database: str) -> str:
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in (self.primary, self.replica))
        return f"postgresql://postgres@{hosts}/{database}?target_session_attrs=read-write"

    def node_url(self, node: Node, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{node.port}/{database}"

    def start(self) -> None:
        drop_left_over_clusters()
        self.primary.create(COMMON_SETTINGS + PRIMARY_SETTINGS)
        self.primary.ctl("start")
        self.replica.create(COMMON_SETTINGS)
        for entry in self.replica.data_dir.iterdir():  # an empty folder for the base backup
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        _run(
            "runuser",
            "-u",
            "postgres",
            "--",
            str(LIB / self.primary.version / "bin" / "pg_basebackup"),
            "--host=127.0.0.1",
            f"--port={self.primary.port}",
            "--username=postgres",
            f"--pgdata={self.replica.data_dir}",
            "--write-recovery-conf",  # standby.signal and primary_conninfo
            "--wal-method=stream",
            "--checkpoint=fast",
            timeout=300,
        )
        self.replica.ctl("start")
        self.wait_synchronous()

    def wait_synchronous(self, timeout: float = 60) -> None:
        """Until the primary streams to the replica as its synchronous standby."""
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.psql(self.primary, "SELECT sync_state FROM pg_stat_replication").strip()
            if state == "sync":
                return
            time.sleep(0.2)
        raise RuntimeError(f"the replica did not become a synchronous standby within {timeout:.0f}s ({state!r})")

    def psql(self, node: Node, sql: str) -> str:
        psql = str(LIB / node.version / "bin" / "psql")
        return _run(psql, "-XAtq", "-h", "127.0.0.1", "-p", str(node.port), "-U", "postgres", "-c", sql)

    def stop_primary_immediately(self) -> None:
        """What a crash or a pulled plug does: no shutdown checkpoint, connections cut at once."""
        self.primary.ctl("stop", "-m", "immediate")

    def promote_replica(self) -> None:
        self.replica.ctl("promote")

    def drop(self) -> None:
        for node in (self.replica, self.primary):
            node.drop()


def drop_left_over_clusters() -> list[str]:
    """Drop the clusters of earlier runs whose process is gone (killed before their clean-up)."""
    dropped = []
    for config in ETC.glob(f"*/{NAME_PREFIX}*"):
        own = OWN_NAME.match(config.name)
        if own is None or Path(f"/proc/{own['pid']}").exists():
            continue
        Node(config.parent.name, config.name, 0).drop()
        dropped.append(config.name)
    return dropped
