"""A three-node RabbitMQ cluster of the test's own on this machine, beside the machine's broker and
never touching it.

Each node is started with the release's own server script (the ``/usr/sbin`` wrappers switch to
the ``rabbitmq`` user and its cookie), with a HOME of its own holding the cluster's Erlang cookie,
its own node name, ports, data, logs, plugins and config file (``pause_minority``), and its own
empty ``rabbitmq-env.conf``: the machine's names ``rabbit@localhost``, which a tool left to its
defaults would then address. Every ``rabbitmqctl`` call here names its node with ``-n``.

Each node makes its Erlang distribution connections from a loopback address of its own
(127.0.0.1N), so that ``iptables`` can cut one node off from the others (its source address and its
distribution port) while clients still reach its AMQP port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from shared.processes import free_port

RELEASES = Path("/usr/lib/rabbitmq/lib")
MACHINE_ENV_FILE = Path("/etc/rabbitmq/rabbitmq-env.conf")


def release_sbin() -> Path:
    """``sbin/`` of the newest RabbitMQ release installed."""
    releases = sorted(RELEASES.glob("rabbitmq_server-*/sbin/rabbitmq-server"))
    if not releases:
        raise FileNotFoundError(f"no RabbitMQ release under {RELEASES}")
    return releases[-1].parent


def machine_node() -> str:
    """The machine broker's node name, as its env file gives it (``rabbit@<host>`` otherwise)."""
    if MACHINE_ENV_FILE.exists():
        found = re.search(r"^\s*(?:RABBITMQ_)?NODENAME=(\S+)", MACHINE_ENV_FILE.read_text(), re.MULTILINE)
        if found:
            return found.group(1).strip("\"'")
    return f"rabbit@{socket.gethostname()}"


def registered_node_names() -> set[str]:
    """The short names of the Erlang nodes registered with this machine's epmd."""
    result = _run(["epmd", "-names"], timeout=30)
    return set(re.findall(r"^name (\S+) at port", result.stdout, re.MULTILINE))


def _run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, -1, "", f"timed out after {timeout:.0f}s")


def machine_broker_started_at() -> float:
    """When the machine's broker started (wall clock, from its uptime): the same after the tier means untouched."""
    result = _run(["rabbitmqctl", "-n", machine_node(), "status"], timeout=60)
    found = re.search(r"Uptime \(seconds\): (\d+)", result.stdout)
    if result.returncode != 0 or not found:
        raise RuntimeError(f"rabbitmqctl -n {machine_node()} status failed: {result.stderr.strip()[-500:]}")
    return time.time() - int(found.group(1))


@dataclass
class Node:
    index: int
    base: Path
    cookie: str
    host: str = field(default_factory=socket.gethostname)
    amqp_port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)

    @property
    def name(self) -> str:
        return f"dstest-{self.index}@{self.host}"

    @property
    def source_address(self) -> str:
        """The loopback address this node's distribution connections leave from."""
        return f"127.0.0.{10 + self.index}"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    @property
    def home(self) -> Path:
        return self.base / "home"

    @property
    def pid_file(self) -> Path:
        return self.base / "rabbit.pid"

    def write_files(self) -> None:
        for folder in ("home", "mnesia", "log"):
            (self.base / folder).mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(self.cookie)
        cookie.chmod(0o400)
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq-env.conf").write_text("# this node's settings are in its environment\n")
        (self.base / "rabbitmq.conf").write_text(
            "\n".join(
                [
                    f"listeners.tcp.local = 127.0.0.1:{self.amqp_port}",
                    "cluster_partition_handling = pause_minority",
                    # As deploy/k8s/base/rabbitmq.yaml: new quorum queues led from the node leading fewest.
                    "queue_leader_locator = balanced",
                    "loopback_users.guest = true",
                    "log.console = false",
                    "log.file.level = info",
                    # Three nodes on two shared cores: let a busy node answer its peers a little late.
                    "net_ticktime = 15",
                    "vm_memory_high_watermark.relative = 0.2",
                    "",
                ]
            )
        )

    def env(self) -> dict[str, str]:
        """What both the server script and ``rabbitmqctl`` need to find this node and its cookie."""
        env = {key: value for key, value in os.environ.items() if not key.startswith(("RABBITMQ_", "ERL_"))}
        ip = ",".join(self.source_address.split("."))
        env.update(
            HOME=str(self.home),
            RABBITMQ_CONF_ENV_FILE=str(self.base / "rabbitmq-env.conf"),
            RABBITMQ_NODENAME=self.name,
            RABBITMQ_NODE_PORT=str(self.amqp_port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.base / "log"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "enabled_plugins"),
            RABBITMQ_PID_FILE=str(self.pid_file),
            RABBITMQ_CONFIG_FILE=str(self.base / "rabbitmq.conf"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(self.base / "advanced.config"),
            ERL_EPMD_ADDRESS="127.0.0.1",
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=(
                f"-kernel inet_dist_use_interface {{127,0,0,1}} -kernel inet_dist_connect_options [{{ip,{{{ip}}}}}]"
            ),
        )
        return env

    def accepts_clients(self) -> bool:
        """Whether the AMQP port takes a connection (a paused or stopped node closes its listeners)."""
        try:
            with socket.create_connection(("127.0.0.1", self.amqp_port), timeout=2):
                return True
        except OSError:
            return False

    def beam_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None


class RabbitCluster:
    """Three nodes under ``root``, joined into one cluster; :meth:`remove` stops them and deletes ``root``."""

    def __init__(self, root: Path, size: int = 3) -> None:
        self.root = root
        cookie = secrets.token_hex(20).upper()
        self.nodes = [Node(index, root / f"node-{index}", cookie) for index in range(1, size + 1)]
        self.sbin = release_sbin()
        self.cut_off: set[int] = set()
        self.started_in = 0.0
        """Seconds from the first node's start to three nodes running in one cluster."""

    @property
    def amqp_url(self) -> str:
        """``DROPSHIP_AMQP_URL`` for the services: every node, tried in turn."""
        return ",".join(node.url for node in self.nodes)

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    # rabbitmqctl, always with -n and the node's own HOME (its cookie) and env file.

    async def ctl(self, node: Node, *args: str, timeout: float = 60, check: bool = True) -> str:
        argv = [str(self.sbin / "rabbitmqctl"), "-n", node.name, *args]
        result = await asyncio.to_thread(_run, argv, node.env(), timeout)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"rabbitmqctl -n {node.name} {' '.join(args)} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-800:]}"
            )
        return result.stdout

    # Life cycle.

    async def start(self) -> None:
        taken = await asyncio.to_thread(registered_node_names)
        clash = sorted(taken & {node.name.split("@")[0] for node in self.nodes})
        if clash:
            raise RuntimeError(
                f"nodes named {clash} are already running on this machine (epmd -names): a cluster tier run"
                " still going, or one killed before it could stop its nodes (see /tmp/dstest-rabbit-*)"
            )
        for node in self.nodes:
            node.write_files()
        await asyncio.gather(*(self._start_node(node) for node in self.nodes))
        first, *others = self.nodes
        for node in others:
            await self.ctl(node, "stop_app")
            await self.ctl(node, "join_cluster", first.name)
            await self.ctl(node, "start_app")
        await self.await_running(len(self.nodes))

    async def _start_node(self, node: Node) -> None:
        argv = [str(self.sbin / "rabbitmq-server"), "-detached"]
        result = await asyncio.to_thread(_run, argv, node.env(), 60)
        if result.returncode != 0:
            raise RuntimeError(f"{node.name} did not start: {result.stderr.strip()[-800:]}")
        # await_startup needs the node up already; wait takes it from the pid file being written.
        await self.ctl(node, "wait", str(node.pid_file), "--timeout", "90", timeout=120)

    async def running_nodes(self, asking: Node) -> list[str] | None:
        """The cluster's running nodes as ``asking`` sees them (None if it does not answer)."""
        seen = await self.ctl(asking, "eval", "rabbit_nodes:all_running().", check=False, timeout=30)
        names = re.findall(r"'?(dstest-\d+@[\w.-]+)'?", seen)
        return sorted(names) if seen.strip().startswith("[") else None

    async def await_running(self, count: int, timeout: float = 120) -> None:
        """Until exactly ``count`` nodes are running in the cluster, as a node not cut off sees it."""
        deadline = time.monotonic() + timeout
        seen: list[str] | None = None
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.index in self.cut_off:
                    continue
                seen = await self.running_nodes(node)
                if seen is not None and len(seen) == count:
                    return
            await asyncio.sleep(1)
        raise TimeoutError(f"{count} running nodes expected, last seen: {seen}")

    async def stop_app(self, node: Node) -> None:
        await self.ctl(node, "stop_app")

    async def start_app(self, node: Node) -> None:
        await self.ctl(node, "start_app", timeout=120)
        await self.ctl(node, "await_startup", "--timeout", "90", timeout=120)

    async def kill(self, node: Node) -> int:
        """SIGKILL the node's Erlang VM; answers its pid."""
        pid = node.beam_pid()
        if pid is None:
            raise RuntimeError(f"no pid file for {node.name}")
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            if not _alive(pid):
                break
            await asyncio.sleep(0.1)
        return pid

    async def restart(self, node: Node) -> None:
        """Start a node that was killed, with its data: it rejoins the cluster by itself."""
        node.pid_file.unlink(missing_ok=True)
        await self._start_node(node)

    def _cut_rules(self, node: Node) -> list[list[str]]:
        others = [other for other in self.nodes if other is not node]
        rules = [
            ["INPUT", "-p", "tcp", "--dport", str(node.dist_port), "-j", "DROP"],
            ["INPUT", "-p", "tcp", "--sport", str(node.dist_port), "-j", "DROP"],
        ]
        for other in others:
            rules.append(
                ["INPUT", "-s", node.source_address, "-p", "tcp", "--dport", str(other.dist_port), "-j", "DROP"]
            )
            rules.append(
                ["INPUT", "-d", node.source_address, "-p", "tcp", "--sport", str(other.dist_port), "-j", "DROP"]
            )
        return rules

    async def cut(self, node: Node) -> None:
        """Drop every packet between ``node`` and the others' distribution: pause_minority pauses it."""
        self.cut_off.add(node.index)
        for rule in self._cut_rules(node):
            result = await asyncio.to_thread(_run, ["iptables", "-A", *rule], None, 30)
            if result.returncode != 0:
                raise RuntimeError(f"iptables -A {' '.join(rule)} failed: {result.stderr.strip()}")

    async def heal(self, node: Node) -> None:
        for rule in self._cut_rules(node):
            await asyncio.to_thread(_run, ["iptables", "-D", *rule], None, 30)
        self.cut_off.discard(node.index)

    def heal_all(self) -> None:
        """Whatever happened, no rule of this cluster stays in the machine's firewall."""
        for node in self.nodes:
            for rule in self._cut_rules(node):
                while _run(["iptables", "-D", *rule], None, 30).returncode == 0:
                    pass
        self.cut_off.clear()

    def remove(self) -> list[str]:
        """Stop every node (by rabbitmqctl, then SIGKILL), heal the firewall, delete the folders.
        Answers what had to be forced."""
        forced: list[str] = []
        self.heal_all()
        for node in self.nodes:
            result = _run([str(self.sbin / "rabbitmqctl"), "-n", node.name, "stop"], node.env(), 120)
            pid = node.beam_pid()
            if result.returncode != 0 and pid is not None and _alive(pid):
                forced.append(node.name)
            if pid is not None and _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)
        return forced

    # What the faults and the audit read.

    async def any_running(self) -> Node:
        for node in self.nodes:
            if node.index in self.cut_off:
                continue
            if (await self.ctl(node, "eval", "rabbit:is_running().", check=False, timeout=30)).strip() == "true":
                return node
        raise RuntimeError("no node of the cluster is running")

    async def list_queues(self, namespace: str) -> dict[str, tuple[int, int]]:
        """Ready and unacknowledged messages of this namespace's queues, as one running node sees them."""
        node = await self.any_running()
        out = await self.ctl(
            node, "list_queues", "-q", "--no-table-headers", "name", "messages", "messages_unacknowledged"
        )
        queues: dict[str, tuple[int, int]] = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0].startswith(f"{namespace}.") and parts[1].isdigit():
                queues[parts[0]] = (int(parts[1]), int(parts[2]))
        return queues

    async def remove_namespace(self, namespace: str) -> None:
        """Delete a finished run's queues and exchanges from the cluster."""
        from tests.chaos.world import remove_namespace

        await remove_namespace(self.amqp_url, namespace, self.list_queues)

    async def quorum_queues(self, namespace: str) -> dict[str, tuple[str, list[str]]]:
        """Every quorum queue of the namespace: its leader and its members."""
        node = await self.any_running()
        out = await self.ctl(node, "list_queues", "-q", "--no-table-headers", "name", "type", "leader", "members")
        queues: dict[str, tuple[str, list[str]]] = {}
        for line in out.splitlines():
            found = re.match(r"(\S+)\s+quorum\s+(\S+)\s+\[(.*)\]", line.strip())
            if found and found.group(1).startswith(f"{namespace}."):
                members = [m.strip().strip("'") for m in found.group(3).split(",") if m.strip()]
                queues[found.group(1)] = (found.group(2), members)
        return queues

    async def client_connections(self) -> dict[str, int]:
        """Client connections per node, as one running node sees the cluster (by the port they reached)."""
        node = await self.any_running()
        out = await self.ctl(node, "list_connections", "-q", "--no-table-headers", "name")
        by_port = {str(n.amqp_port): n.name for n in self.nodes}
        counts: dict[str, int] = {}
        for port in re.findall(r"-> [\d.]+:(\d+)", out):
            if port in by_port:
                counts[by_port[port]] = counts.get(by_port[port], 0) + 1
        return counts

    async def busiest_node(self, namespace: str, busiest: Iterable[str]) -> tuple[Node, str]:
        """The node that leads most of the ``busiest`` queues; of nodes leading as many (leaders are
        balanced), the one most clients are connected to. Answers it and why."""
        leaders = await self.quorum_queues(namespace)
        led = dict.fromkeys((node.name for node in self.nodes), 0)
        for queue in busiest:
            if queue in leaders and leaders[queue][0] in led:
                led[leaders[queue][0]] += 1
        connections = await self.client_connections()
        name = max(led, key=lambda n: (led[n], connections.get(n, 0)))
        return self.node(name), f"busy queues led per node {led}, client connections per node {connections}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not reaped yet) counts as gone.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


@contextlib.asynccontextmanager
async def cluster_at(root: Path) -> AsyncIterator[RabbitCluster]:
    cluster = RabbitCluster(root)
    try:
        await cluster.start()
        yield cluster
    finally:
        cluster.remove()
