"""The adapter's rules that need no I/O: which query parameters may be logged, the verified-credentials
cache and rotation, and that every state the table allows has a ShipStation status."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from multidict import MultiDict

from services.shipstation.credentials import VerifiedCredentials
from services.shipstation.custom_store import LOGGED_PARAMETERS, logged_query
from services.shipstation.order_states import VendorOrderState, shipstation_status
from services.shipstation.use_cases.calls import known_action
from shared.contracts.vendors import SHIPSTATION_STATUSES

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "shipstation" / "migrations"


def test_logged_query_keeps_the_protocols_parameters_and_drops_credentials() -> None:
    query = MultiDict(
        {
            "action": "export",
            "start_date": "01/23/2012 17:28",
            "end_date": "01/23/2012 17:29",
            "page": "2",
            "SS-UserName": "ss-east-1",
            "SS-Password": "s3cret",
            "ss-password": "s3cret",
            "password": "s3cret",
            "anything": "else",
        }
    )

    logged = logged_query(query)

    assert logged == {"action": "export", "start_date": "01/23/2012 17:28", "end_date": "01/23/2012 17:29", "page": "2"}
    assert "s3cret" not in str(logged)
    assert not any("user" in key.lower() or "password" in key.lower() for key in LOGGED_PARAMETERS)


def test_verified_credentials_are_forgotten_when_the_stored_hash_changes() -> None:
    cache = VerifiedCredentials()
    cache.remember("east", "ss-east", "old-password", "scrypt$hash-1")

    assert cache.known("east", "ss-east", "old-password", "scrypt$hash-1")
    # Rotation stores a new hash: the remembered check no longer counts.
    assert not cache.known("east", "ss-east", "old-password", "scrypt$hash-2")
    assert not cache.known("east", "ss-east", "other-password", "scrypt$hash-1")
    assert not cache.known("west", "ss-east", "old-password", "scrypt$hash-1")


def test_verified_credentials_are_bounded() -> None:
    cache = VerifiedCredentials(size=2)
    for index in range(3):
        cache.remember("east", "user", f"password-{index}", "hash")

    assert not cache.known("east", "user", "password-0", "hash")
    assert cache.known("east", "user", "password-2", "hash")


def test_every_state_the_table_allows_maps_to_a_shipstation_status() -> None:
    schema = (MIGRATIONS / "001_connections_orders.sql").read_text()
    match = re.search(r"state\s+text\s+NOT NULL CHECK \(state IN \(([^)]*)\)\)", schema)
    assert match is not None
    allowed = {state.strip().strip("'") for state in match.group(1).split(",")}

    assert allowed == set(get_args(VendorOrderState))
    assert {shipstation_status(state) for state in get_args(VendorOrderState)} == set(SHIPSTATION_STATUSES)


def test_actions_are_counted_under_a_bounded_set_of_names() -> None:
    assert [known_action(action) for action in ("export", "shipnotify", "", "drop table", "x" * 500)] == [
        "export",
        "shipnotify",
        "other",
        "other",
        "other",
    ]
