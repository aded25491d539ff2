"""The Custom Store endpoint's credentials: HTTP Basic or SS-UserName/SS-Password, 401 with
WWW-Authenticate otherwise, a salted scrypt hash at rest, and rotation that makes the old password
useless at once, also for a password the adapter had already verified and remembered."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from services.shipstation import credentials as credentials_module
from shared.throttle import AUTH_LIMITER_KEY
from tests.conftest import RunningSystem
from tests.integration.shipstation.support import Merchant, metric, new_merchant
from tests.support import basic_auth, unique

WINDOW = {"action": "export", "start_date": "01/01/2020 00:00", "end_date": "01/02/2020 00:00"}


async def export_status(
    system: RunningSystem, url: str, *, headers: dict[str, str] | None = None, query: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    params = {**WINDOW, **(query or {})}
    async with system.api.session.get(f"{url}?{urlencode(params)}", headers=headers or {}) as response:
        return response.status, dict(response.headers), await response.text()


def basic(merchant_credentials: dict[str, Any]) -> dict[str, str]:
    return basic_auth(merchant_credentials["username"], merchant_credentials["password"])


def in_query(merchant_credentials: dict[str, Any], *, lower: bool = False) -> dict[str, str]:
    user_key, password_key = ("ss-username", "ss-password") if lower else ("SS-UserName", "SS-Password")
    return {user_key: merchant_credentials["username"], password_key: merchant_credentials["password"]}


@pytest.fixture
async def merchant(system: RunningSystem) -> Merchant:
    return await new_merchant(system)


@pytest.fixture(autouse=True)
def without_the_guessing_limit(system: RunningSystem) -> Iterator[None]:
    """These tests fail authentication on purpose, many times from one address: the failure limiter
    (tested on its own) would answer 429 instead of the 401 under test, and carry the count over to
    the tests that run next. It is switched off while they run."""
    limiter = system.shipstation.app.get(AUTH_LIMITER_KEY)
    if limiter is None:
        yield
        return
    limit = limiter.limit
    limiter.limit = 0
    try:
        yield
    finally:
        limiter.limit = limit


async def test_basic_auth_and_query_credentials_are_both_accepted(system: RunningSystem, merchant: Merchant) -> None:
    given = merchant.credentials
    assert (await export_status(system, merchant.store_url, headers=basic(given)))[0] == 200
    assert (await export_status(system, merchant.store_url, query=in_query(given)))[0] == 200
    assert (await export_status(system, merchant.store_url, query=in_query(given, lower=True)))[0] == 200


@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"headers": {"Authorization": "Basic !!!not-base64"}}, id="garbled-header"),
        pytest.param({"headers": {"Authorization": "Bearer something"}}, id="other-scheme"),
        pytest.param({"password": "not-the-password"}, id="wrong-password"),
        pytest.param({"username": "someone-else"}, id="wrong-username"),
        pytest.param({"query_password": "not-the-password"}, id="wrong-query-password"),
    ],
)
async def test_wrong_or_missing_credentials_get_401_with_a_challenge(
    system: RunningSystem, merchant: Merchant, wrong: dict[str, Any]
) -> None:
    given = dict(merchant.credentials)
    headers: dict[str, str] = wrong.get("headers", {})
    query: dict[str, str] = {}
    if "password" in wrong or "username" in wrong:
        headers = basic_auth(wrong.get("username", given["username"]), wrong.get("password", given["password"]))
    if "query_password" in wrong:
        query = {"SS-UserName": given["username"], "SS-Password": wrong["query_password"]}

    status, response_headers, body = await export_status(system, merchant.store_url, headers=headers, query=query)

    assert status == 401
    assert response_headers["WWW-Authenticate"].startswith('Basic realm="')
    assert body.strip()  # an empty answer shows up in ShipStation as "Root element is missing"


async def test_unknown_vendor_gets_the_same_401(system: RunningSystem, merchant: Merchant) -> None:
    url = merchant.store_url.rsplit("/", 1)[0] + "/no-such-vendor"
    status, headers, _ = await export_status(system, url, headers=basic(merchant.credentials))

    assert status == 401
    assert "WWW-Authenticate" in headers
    # Counted without naming the path's vendor: callers cannot mint metric series at will.
    assert await metric(system, "shipstation_auth_failures_total", vendor="no-such-vendor") == 0
    assert await metric(system, "shipstation_auth_failures_total", vendor="(unknown)") >= 1


async def test_the_password_is_stored_as_a_salted_scrypt_hash(system: RunningSystem, merchant: Merchant) -> None:
    stored = await system.shipstation.pool.fetchval(
        "SELECT password_hash FROM connections WHERE vendor = $1", merchant.vendor
    )
    password = merchant.credentials["password"]

    scheme, cost, _, _, salt, digest = stored.split("$")
    assert len(base64.b64decode(digest)) == 32
    assert (scheme, cost) == ("scrypt", str(2**14))
    assert password not in stored
    assert credentials_module.verify_password(password, stored)
    # Same password, new salt: a different hash.
    assert credentials_module.hash_password(password).split("$")[4] != salt


async def test_a_wrong_username_costs_a_scrypt_check_like_a_wrong_password(
    system: RunningSystem, merchant: Merchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real_verify = credentials_module.verify_password

    def counting_verify(password: str, stored: str) -> bool:
        checked.append(stored)
        return real_verify(password, stored)

    monkeypatch.setattr(credentials_module, "verify_password", counting_verify)
    await export_status(system, merchant.store_url, headers=basic_auth("nobody", "guess"))
    await export_status(system, merchant.store_url, headers=basic_auth(merchant.credentials["username"], "guess"))

    assert len(checked) == 2
    assert checked[0] == credentials_module.DUMMY_HASH


async def test_rotation_invalidates_the_old_password_even_once_verified(
    system: RunningSystem, merchant: Merchant
) -> None:
    old = merchant.credentials
    # Verified once: the adapter now remembers these credentials (no scrypt on the next poll).
    assert (await export_status(system, merchant.store_url, headers=basic(old)))[0] == 200
    assert (await export_status(system, merchant.store_url, headers=basic(old)))[0] == 200

    new = await system.api.ok("POST", "shipstation", f"/v1/shipstation/{merchant.vendor}/credentials")

    assert new["password"] != old["password"]
    assert (await export_status(system, merchant.store_url, headers=basic(old)))[0] == 401
    assert (await export_status(system, merchant.store_url, query=in_query(old)))[0] == 401
    # The old password with the new username is no better.
    old_password_new_user = basic_auth(new["username"], old["password"])
    assert (await export_status(system, merchant.store_url, headers=old_password_new_user))[0] == 401
    assert (await export_status(system, merchant.store_url, headers=basic(new)))[0] == 200


async def test_refused_calls_are_visible_to_ops_without_the_credentials(
    system: RunningSystem, merchant: Merchant
) -> None:
    wrong_password = "Wr0ng-but-secret-looking"
    await export_status(system, merchant.store_url, query={"SS-UserName": "x", "SS-Password": wrong_password})

    polls = await system.api.ok("GET", "shipstation", f"/v1/shipstation/{merchant.vendor}/polls")
    [refused] = [poll for poll in polls["polls"] if poll["outcome"] == "unauthorized"]
    assert refused["action"] == "export"
    assert wrong_password not in str(polls)
    assert merchant.credentials["password"] not in str(polls)


async def test_credentials_need_a_shipstation_vendor(system: RunningSystem) -> None:
    hooks, never = unique("hooks-"), unique("never-")
    await system.api.ok("PUT", "splitter", f"/v1/vendors/{hooks}", {"name": "Hooks", "kind": "webhook"})

    status, body = await system.api.call("POST", "shipstation", f"/v1/shipstation/{hooks}/credentials")
    assert (status, body["error"]) == (409, "wrong_kind")
    status, body = await system.api.call("POST", "shipstation", f"/v1/shipstation/{never}/credentials")
    assert (status, body["error"]) == (404, "unknown_vendor")
    status, _ = await system.api.call("POST", "shipstation", f"/v1/shipstation/{never}/credentials", token="x")
    assert status == 401
