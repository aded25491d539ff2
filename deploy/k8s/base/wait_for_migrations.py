"""Init container of every Deployment: wait until the migration Job has applied the service's migrations.

``python /opt/dropship/wait_for_migrations.py <service>`` in the service's own image, with
``DROPSHIP_DATABASE_URL`` set. It asks the database, as ``/readyz`` does, which of the service's
migrations (shared ones first, then its own) are not recorded yet, every few seconds, and exits 0 once
none are; after ``--timeout`` seconds it exits 1 and Kubernetes starts the init container again.
It never applies a migration itself: that is the Job's (deploy/k8s/base/migrate.yaml).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
import time
from pathlib import Path

from shared.db import InfrastructureUnavailable, create_pool, migration_files, pending_migrations


def service_dir(service: str) -> Path:
    """The package folder of ``services.<service>``, which holds its ``migrations/``."""
    spec = importlib.util.find_spec(f"services.{service}")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"no service named {service!r}")
    return Path(next(iter(spec.submodule_search_locations)))


async def pending(dsn: str, service: str) -> list[str]:
    pool = await create_pool(dsn, service, max_size=1)
    try:
        return await pending_migrations(pool, migration_files(service_dir(service)))
    finally:
        await pool.close()


async def wait(dsn: str, service: str, give_up_after: float, interval: float) -> bool:
    deadline = time.monotonic() + give_up_after
    while True:
        try:
            missing = await pending(dsn, service)
            if not missing:
                print(f"{service}: every migration is applied", flush=True)
                return True
            reason = f"waiting for the migration Job: {', '.join(missing)}"
        except (InfrastructureUnavailable, OSError) as error:
            reason = f"database not reachable yet ({type(error).__name__})"
        if time.monotonic() >= deadline:
            print(f"{service}: gave up after {give_up_after:g} s, {reason}", file=sys.stderr, flush=True)
            return False
        print(f"{service}: {reason}", flush=True)
        await asyncio.sleep(interval)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--interval", type=float, default=3.0)
    args = parser.parse_args()
    service_dir(args.service)  # an unknown name fails at once, not after the timeout
    dsn = os.environ["DROPSHIP_DATABASE_URL"]
    sys.exit(0 if asyncio.run(wait(dsn, args.service, args.timeout, args.interval)) else 1)


if __name__ == "__main__":
    main()
