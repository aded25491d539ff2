"""Stored secrets encrypted at rest, on the real database: intake stores a channel's webhook secret
sealed, seals a row left in clear at its start, reseals everything under a new key so the old one can
be dropped (and still signs webhooks with the right secret), refuses a bad key at start with one line,
and ``dropship secrets rotate`` reseals every service that stores secrets, reporting one that does not
answer.

Intake runs alone, each test on a database of its own: a key belongs to one test, and a value another
key sealed would make a reseal refuse (as it should)."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import asyncpg
import pytest
from aiohttp import web
from click.testing import CliRunner, Result

from services.intake.app import SERVICE as INTAKE
from services.intake.repository import SEALED_COLUMNS
from services.intake.settings import IntakeSettings
from shared.cli import cli
from shared.contracts.orders import HoldReason, OrderHeld, OrderHeldData
from shared.db import drop_database, ensure_database
from shared.http import ADMIN_TOKEN_KEY
from shared.messaging.topology import SERVICE_QUEUES, Topology, delete_namespace
from shared.processes import free_port
from shared.secrets import (
    RESEAL_BATCH_ROWS,
    RESEAL_PATH,
    SealedColumn,
    SecretBox,
    SecretKeyError,
    hash_api_key,
    is_sealed,
    new_secret_key,
    reseal_route,
    seal_clear_stored,
)
from shared.service import Runtime, running_service
from shared.settings import Settings
from tests.conftest import SuiteEnvironment
from tests.support import (
    Api,
    ChannelReceiver,
    order_payload,
    publish_as_producer,
    serve_on_loopback,
    unique,
    wait_until,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass
class RunningIntake:
    runtime: Runtime
    api: Api

    async def stored_secret(self, code: str) -> str:
        stored: str = await self.runtime.pool.fetchval("SELECT webhook_secret FROM channels WHERE code = $1", code)
        return stored

    async def reseal(self) -> int:
        answer = await self.api.ok("POST", "intake", RESEAL_PATH)
        assert set(answer) == {"resealed"}, answer
        resealed: int = answer["resealed"]
        return resealed


@dataclass
class Site:
    """A database of the test's own and the module's namespace; ``intake(keys)`` starts intake on them
    with ``DROPSHIP_SECRET_KEY=keys``."""

    env: SuiteEnvironment
    database_url: str
    namespace: str

    def settings(self, keys: str) -> IntakeSettings:
        settings = self.env.settings(
            IntakeSettings,
            database_url=self.database_url,
            namespace=self.namespace,
            secret_key=keys,
            intake_port=free_port(),
            splitter_port=free_port(),
            tracking_port=free_port(),
            webhook_max_backoff_seconds=1.0,
        )
        assert isinstance(settings, IntakeSettings)
        return settings

    @asynccontextmanager
    async def intake(self, keys: str) -> AsyncIterator[RunningIntake]:
        async with running_service(INTAKE, self.settings(keys), port=0) as runtime, aiohttp.ClientSession() as session:
            yield RunningIntake(
                runtime, Api(session, {"intake": f"http://127.0.0.1:{runtime.port}"}, self.env.admin_token)
            )


@pytest.fixture(scope="module")
async def namespace(test_env: SuiteEnvironment) -> AsyncIterator[str]:
    # "k" keeps the run's names, so a killed run's leftovers are still found and removed.
    name = test_env.namespace + "k"
    yield name
    connection = await aio_pika.connect(test_env.settings().amqp_url)
    async with connection:
        await delete_namespace(await connection.channel(), Topology(name), SERVICE_QUEUES)


@pytest.fixture
async def site(test_env: SuiteEnvironment, namespace: str) -> AsyncIterator[Site]:
    database_url = f"{test_env.database_url}k{secrets.token_hex(3)}"
    await ensure_database(database_url)
    try:
        yield Site(test_env, database_url, namespace)
    finally:
        await drop_database(database_url)


async def test_a_channel_secret_is_stored_sealed_and_opens_to_what_was_given(site: Site) -> None:
    key = new_secret_key()
    given, chosen_code, generated_code = webhook_secret(), unique("own-"), unique("gen-")
    async with site.intake(key) as intake:
        await intake.api.ok("PUT", "intake", f"/v1/channels/{chosen_code}", {"name": "Own", "webhook_secret": given})
        generated = (await intake.api.ok("PUT", "intake", f"/v1/channels/{generated_code}", {"name": "Gen"}))[
            "webhook_secret"
        ]
        stored_given = await intake.stored_secret(chosen_code)
        stored_generated = await intake.stored_secret(generated_code)
        replaced = webhook_secret()
        await intake.api.ok("PUT", "intake", f"/v1/channels/{chosen_code}", {"name": "Own", "webhook_secret": replaced})
        stored_replaced = await intake.stored_secret(chosen_code)
        await intake.api.ok("PUT", "intake", f"/v1/channels/{chosen_code}", {"name": "Renamed"})
        kept = await intake.stored_secret(chosen_code)

    box = SecretBox(key)
    for clear, stored in ((given, stored_given), (generated, stored_generated), (replaced, stored_replaced)):
        assert is_sealed(stored) and clear not in stored
        assert clear.removeprefix("whsec_") not in stored
        assert box.open(stored) == clear
    assert kept == stored_replaced, "an update without a secret keeps the stored one"


async def test_a_secret_left_in_clear_is_sealed_at_start_once(site: Site) -> None:
    key, clear, code = new_secret_key(), webhook_secret(), unique("legacy-")
    async with site.intake(key) as intake:  # creates the tables
        await intake.runtime.pool.execute(
            "INSERT INTO channels (code, name, webhook_secret, api_key_hash) VALUES ($1, 'Legacy', $2, $3)",
            code,
            clear,
            hash_api_key(unique("dsk_")),
        )
        assert await intake.stored_secret(code) == clear

    async with site.intake(key) as intake:
        sealed = await intake.stored_secret(code)
        assert await seal_clear_stored(intake.runtime.pool, intake.runtime.secrets, SEALED_COLUMNS) == 0
    assert is_sealed(sealed) and SecretBox(key).open(sealed) == clear

    async with site.intake(key) as intake:
        assert await intake.stored_secret(code) == sealed, "a second start rewrites nothing"


async def test_after_a_reseal_the_old_key_can_go_and_webhooks_are_signed_with_the_same_secret(site: Site) -> None:
    old, new = new_secret_key(), new_secret_key()
    receiver = await ChannelReceiver().start()
    receiver.secret, code = webhook_secret(), unique("shop-")
    try:
        async with site.intake(old) as intake:
            body = {"name": "Shop", "webhook_url": receiver.url, "webhook_secret": receiver.secret}
            created = await intake.api.ok("PUT", "intake", f"/v1/channels/{code}", body)
            payload = order_payload(code, [("MUG", 1, "9.50")], discounts=[])
            order = await intake.api.ok("POST", "intake", "/v1/orders", payload, created["api_key"])
            sealed_by_old = await intake.stored_secret(code)

        async with site.intake(f"{new},{old}") as intake:
            status, refused = await intake.api.call("POST", "intake", RESEAL_PATH, token="not-the-admin-token")
            assert (status, refused["error"]) == (401, "unauthorized")
            assert await intake.stored_secret(code) == sealed_by_old
            assert await intake.reseal() == 1
            assert await intake.reseal() == 0, "everything is under the new key already"
            resealed = await intake.stored_secret(code)
        assert SecretBox(new).open(resealed) == receiver.secret
        with pytest.raises(ValueError, match="cannot be opened"):
            SecretBox(old).open(resealed)

        async with site.intake(new) as intake:
            held = OrderHeld(
                correlation_id=order["id"],
                occurred_at=datetime.now(UTC),
                data=OrderHeldData(order_id=order["id"], reasons=(HoldReason(code="unpaid", detail="unpaid"),)),
            )
            await publish_as_producer(intake.runtime.amqp, intake.runtime.topology, held)
            delivery = await wait_until(lambda: _first(receiver), timeout=20)
    finally:
        await receiver.stop()
    assert delivery.json["order_id"] == order["id"]
    assert receiver.verify(delivery), "signed with the channel's secret, opened with the new key alone"


async def _first(receiver: ChannelReceiver) -> Any:
    return receiver.deliveries[0] if receiver.deliveries else None


async def test_a_value_no_key_opens_stops_the_reseal_naming_its_row(site: Site) -> None:
    key, code = new_secret_key(), unique("orphan-")
    async with site.intake(key) as intake:
        foreign = SecretBox(new_secret_key()).seal(webhook_secret())
        await intake.runtime.pool.execute(
            "INSERT INTO channels (code, name, webhook_secret, api_key_hash) VALUES ($1, 'Orphan', $2, $3)",
            code,
            foreign,
            hash_api_key(unique("dsk_")),
        )
        status, body = await intake.api.call("POST", "intake", RESEAL_PATH)
        assert await intake.stored_secret(code) == foreign
    assert (status, body["error"]) == (409, "secret_unopenable")
    assert code in body["detail"] and foreign not in body["detail"]


# --- a bad key at start --------------------------------------------------------------------------------


async def test_a_bad_key_stops_the_start_before_anything_is_connected(site: Site) -> None:
    bad = "Zm9vYmFyYmF6" * 2
    # Nothing answers at this database address: the key is refused first, not the database.
    settings = site.settings(f"{new_secret_key()},{bad}").model_copy(
        update={"database_url": f"postgresql://postgres@127.0.0.1:{free_port()}/none"}
    )
    with pytest.raises(SecretKeyError, match="key 2 of 2") as refused:
        async with running_service(INTAKE, settings, port=0):
            pass
    assert bad not in str(refused.value)


def _start_intake(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("DROPSHIP_")}
    return subprocess.run(
        [sys.executable, "-m", "services.intake"],
        cwd=REPO_ROOT,
        env={**inherited, "PYTHONPATH": str(REPO_ROOT), "DROPSHIP_LOG_FORMAT": "json", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("problem", ["bad key", "no key"])
async def test_the_service_process_refuses_a_bad_or_missing_key_with_one_line(tmp_path: Path, problem: str) -> None:
    bad = "bm90LWEta2V5LWF0LWFsbA"
    env = {"DROPSHIP_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/none"}
    if problem == "bad key":
        env["DROPSHIP_SECRET_KEY"] = bad
    else:
        env["DROPSHIP_SECRET_KEY_FILE"] = str(tmp_path / "no-key-here")
    done = await asyncio.to_thread(_start_intake, env)

    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 2, output
    assert len(output.splitlines()) == 1, output
    assert "Traceback" not in output
    if problem == "bad key":
        assert "key 1 of 1 is not a Fernet key" in output and bad not in output
    else:
        assert "no secret key: set DROPSHIP_SECRET_KEY" in output and "no-key-here" in output


# --- dropship secrets rotate ---------------------------------------------------------------------------

STAND_IN = SealedColumn("vendor_secrets", "code", "secret")


@asynccontextmanager
async def stand_in_gateway(database_url: str, box: SecretBox, admin_token: str) -> AsyncIterator[str]:
    """Another service that stores secrets, serving the shared reseal route over a table of its own."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    app = web.Application()
    app[ADMIN_TOKEN_KEY] = admin_token
    app.router.add_routes([reseal_route(pool, box, [STAND_IN])])
    runner, port = await serve_on_loopback(app)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
        await pool.close()


def _rotate(urls: dict[str, str], admin_token: str, *options: str) -> Callable[[], Result]:
    env = {f"DROPSHIP_{service.upper()}_URL": url for service, url in urls.items()}

    def invoke() -> Result:
        return CliRunner().invoke(
            cli,
            [*options, "secrets", "rotate"],
            env={**env, "DROPSHIP_ADMIN_TOKEN": admin_token},
            catch_exceptions=False,
        )

    return invoke


async def test_dropship_secrets_rotate_reseals_every_service_and_reports_one_that_does_not_answer(site: Site) -> None:
    old, new = new_secret_key(), new_secret_key()
    by_old, code, token = SecretBox(old), unique("shop-"), site.env.admin_token
    # More rows than two batches: NULLs, values sealed under the old key, and values still in clear.
    clear = {f"v{n:04d}": None if n % 7 == 0 else f"secret-{n}" for n in range(2 * RESEAL_BATCH_ROWS + 17)}
    stored = {
        row: value if value is None or n % 3 == 0 else by_old.seal(value)
        for n, (row, value) in enumerate(clear.items())
    }
    connection = await asyncpg.connect(site.database_url)
    try:
        await connection.execute("CREATE TABLE vendor_secrets (code text PRIMARY KEY, secret text)")
        await connection.executemany("INSERT INTO vendor_secrets VALUES ($1, $2)", list(stored.items()))
    finally:
        await connection.close()
    async with site.intake(old) as intake:
        await intake.api.ok("PUT", "intake", f"/v1/channels/{code}", {"name": "Shop"})

    keys = f"{new},{old}"
    async with site.intake(keys) as intake, stand_in_gateway(site.database_url, SecretBox(keys), token) as gateway_url:
        intake_url = intake.api.urls["intake"]
        everyone = await asyncio.to_thread(_rotate({"intake": intake_url, "gateway": gateway_url}, token))
        channel_secret = await intake.stored_secret(code)
        absent_url = f"http://127.0.0.1:{free_port()}"
        partly = await asyncio.to_thread(_rotate({"intake": intake_url, "gateway": absent_url}, token, "--json"))

    non_null = sum(value is not None for value in stored.values())
    assert everyone.exit_code == 0, everyone.output
    assert everyone.stdout.splitlines() == ["intake: 1 resealed", f"gateway: {non_null} resealed"]
    assert SecretBox(new).sealed_under_first_key(channel_secret)
    await _assert_stand_in_resealed(site.database_url, SecretBox(new), clear)

    assert partly.exit_code == 1, partly.output
    assert '"resealed": 0' in partly.stdout, "intake answered: nothing left to reseal"
    assert f"gateway: not resealed: cannot reach gateway at {absent_url}" in partly.stderr


async def _assert_stand_in_resealed(database_url: str, box: SecretBox, clear_before: dict[str, str | None]) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        after = {
            row["code"]: row["secret"] for row in await connection.fetch("SELECT code, secret FROM vendor_secrets")
        }
    finally:
        await connection.close()
    assert after.keys() == clear_before.keys()
    for code, clear in clear_before.items():
        if clear is None:
            assert after[code] is None, code
        else:
            assert box.sealed_under_first_key(after[code]), code
            assert box.open(after[code]) == clear, code


# --- make run's key file -------------------------------------------------------------------------------


def _prepare(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("DROPSHIP_")}
    return subprocess.run(
        [sys.executable, "-m", "shared.runner", "prepare"],
        cwd=cwd,
        env={**inherited, "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_make_runs_preparation_writes_a_key_file_only_without_the_setting(site: Site, tmp_path: Path) -> None:
    env = {
        "DROPSHIP_DATABASE_URL": site.database_url,
        "DROPSHIP_NAMESPACE": site.namespace,
        "DROPSHIP_DELIVERY_LIMIT": str(site.env.settings().delivery_limit),
        "DROPSHIP_ADMIN_TOKEN": site.env.admin_token,
    }
    given = tmp_path / "given" / "secret-key"
    with_setting = await asyncio.to_thread(
        _prepare, {**env, "DROPSHIP_SECRET_KEY": new_secret_key(), "DROPSHIP_SECRET_KEY_FILE": str(given)}, tmp_path
    )
    assert with_setting.returncode == 0, with_setting.stderr
    assert not given.exists(), "a key in the environment needs no file"

    key_file = tmp_path / ".dropship" / "secret-key"
    first = await asyncio.to_thread(_prepare, env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"secret key generated in {Path('.dropship/secret-key')}" in first.stdout
    written = key_file.read_text()
    second = await asyncio.to_thread(_prepare, env, tmp_path)
    assert second.returncode == 0, second.stderr

    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text() == written, "an existing key file is kept: it opens what is stored"
    box = Settings(secret_key=None, secret_key_file=key_file).secret_box
    assert SecretBox(written.strip()).open(box.seal("x")) == "x"
