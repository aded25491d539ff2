"""``make run``: prepare the database and broker, then run every service as its own process.

``python -m shared.runner prepare`` creates the database, applies every service's migrations,
declares the RabbitMQ topology and creates the admin token file and the secret key file (which seals
stored secrets) if needed: development only, production sets ``DROPSHIP_ADMIN_TOKEN`` and
``DROPSHIP_SECRET_KEY``.
``python -m shared.runner up`` does that, then runs every service with their output interleaved
and prefixed; Ctrl-C (or SIGTERM) stops them all gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from shared.db import InfrastructureUnavailable, ensure_database, migrate, migration_files
from shared.messaging.broker import connect
from shared.messaging.topology import Topology, declare_topology
from shared.secrets import SecretKeyError
from shared.settings import NoSecretKey, ServiceName, Settings, ensure_admin_token_file, ensure_secret_key_file

SERVICES: tuple[ServiceName, ...] = (
    "intake",
    "splitter",
    "shipstation",
    "tracking",
    "gateway",
    "channels",
    "console",
)
COLOURS = ("\033[36m", "\033[35m", "\033[33m", "\033[32m")
RESET = "\033[0m"
SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


async def _reachable(settings: Settings) -> list[str]:
    problems = []
    try:
        await ensure_database(settings.database_url)
    except InfrastructureUnavailable as error:
        problems.append(str(error))
    try:
        connection = await connect(settings.amqp_url, name="dropship-prepare")
        await connection.close()
    except InfrastructureUnavailable as error:
        problems.append(str(error))
    return problems


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def _start_infrastructure_with_docker() -> None:
    print("starting RabbitMQ and PostgreSQL with docker compose …", flush=True)
    subprocess.run(["docker", "compose", "up", "-d", "--wait", "rabbitmq", "postgres"], check=True)


async def prepare(settings: Settings) -> None:
    problems = await _reachable(settings)
    if problems and _docker_available():
        _start_infrastructure_with_docker()
        problems = await _reachable(settings)
    if problems:
        raise InfrastructureUnavailable("; ".join(problems))
    for service in SERVICES:
        await migrate(settings.database_url, service, migration_files(SERVICES_DIR / service))
    connection = await connect(settings.amqp_url, name="dropship-prepare")
    channel = await connection.channel()
    await declare_topology(channel, Topology(settings.namespace, settings.delivery_limit))
    await connection.close()
    if settings.admin_token is None and ensure_admin_token_file(settings.admin_token_file):
        print(f"admin token generated in {settings.admin_token_file} (the dropship CLI reads it)", flush=True)
    if settings.secret_key is None and ensure_secret_key_file(settings.secret_key_file):
        print(f"secret key generated in {settings.secret_key_file} (it seals stored secrets: keep it)", flush=True)


async def _pump(name: str, colour: str, stream: asyncio.StreamReader, width: int) -> None:
    prefix = f"{colour}{name:<{width}}{RESET} | " if sys.stdout.isatty() else f"{name:<{width}} | "
    while line := await stream.readline():
        sys.stdout.write(prefix + line.decode(errors="replace"))
        sys.stdout.flush()


def banner(settings: Settings, services: Sequence[ServiceName]) -> list[str]:
    """What ``make run`` prints once the services are started: each one's port, where the admin token
    is, and the ops console's URL when the console is among them."""
    token_hint = "DROPSHIP_ADMIN_TOKEN" if settings.admin_token else str(settings.admin_token_file)
    lines = [
        f"running {', '.join(f'{s} on :{settings.port(s)}' for s in services)}; admin token in {token_hint};"
        " Ctrl-C stops all"
    ]
    if "console" in services:
        lines.append(f"ops console: {settings.service_url('console')}/ (sign in with the admin token)")
    return lines


async def up(settings: Settings, services: Sequence[ServiceName]) -> int:
    await prepare(settings)
    settings.secret_box  # noqa: B018 - a bad key stops here with one line, not once per service
    env = dict(os.environ)
    env.setdefault("DROPSHIP_LOG_FORMAT", "console" if sys.stdout.isatty() else "json")
    width = max(len(s) for s in services)
    processes: list[asyncio.subprocess.Process] = []
    pumps = []
    for index, service in enumerate(services):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            f"services.{service}",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        processes.append(process)
        assert process.stdout is not None
        pumps.append(asyncio.create_task(_pump(service, COLOURS[index % len(COLOURS)], process.stdout, width)))
    for line in banner(settings, services):
        print(line, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiters = [asyncio.create_task(p.wait()) for p in processes]
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([*waiters, stopper], return_when=asyncio.FIRST_COMPLETED)
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            process.kill()
    await asyncio.gather(*pumps, return_exceptions=True)
    stopper.cancel()
    failed = [p.returncode for p in processes if p.returncode not in (0, -signal.SIGTERM)]
    return 1 if failed and not stop.is_set() else 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.runner", description=__doc__)
    parser.add_argument("command", choices=["prepare", "up"])
    parser.add_argument("--only", nargs="*", choices=SERVICES, help="run only these services")
    args = parser.parse_args(argv)
    # The one line below says what failed and how to fix it; aio-pika's own report would repeat it.
    for noisy in ("aio_pika", "aiormq"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    settings = Settings()
    try:
        if args.command == "prepare":
            asyncio.run(prepare(settings))
            print("database, migrations and queues are ready", flush=True)
        else:
            raise SystemExit(asyncio.run(up(settings, args.only or SERVICES)))
    except (InfrastructureUnavailable, SecretKeyError, NoSecretKey) as error:
        print(f"dropship: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
