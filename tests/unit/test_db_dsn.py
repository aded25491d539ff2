"""The pure part of multi-host database URLs: redaction, the session target, and whether a server's
reported status takes writes."""

from __future__ import annotations

import pytest

from shared.db import _admin_dsn, redacted_dsn, takes_writes, target_session_attrs

MULTI_HOST = "postgresql://postgres@127.0.0.1:5441,127.0.0.1:5442/dropship?target_session_attrs=read-write"


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("postgresql://u:pw@db/x", "postgresql://u:***@db/x"),
        ("postgresql://u@db/x", "postgresql://u@db/x"),
        (
            "postgresql://u:pw@db1:5432,db2:5433/x?target_session_attrs=read-write",
            "postgresql://u:***@db1:5432,db2:5433/x?target_session_attrs=read-write",
        ),
        ("postgresql://u:p%40ss@db1,db2/x", "postgresql://u:***@db1,db2/x"),
        (
            "postgresql://u@db1,db2/x?sslmode=require&password=hunter2&sslpassword=k",
            "postgresql://u@db1,db2/x?sslmode=require&password=***&sslpassword=***",
        ),
        (
            "amqp://guest:guest@127.0.0.1:5701/,amqp://app:s3cret@127.0.0.1:5702/",
            "amqp://guest:***@127.0.0.1:5701/,amqp://app:***@127.0.0.1:5702/",
        ),
        ("amqp://a:one@n1:5672, amqps://b:two@n2:5671/vhost", "amqp://a:***@n1:5672, amqps://b:***@n2:5671/vhost"),
        ("amqp://a:one@n1", "amqp://a:***@n1"),
    ],
)
def test_every_password_is_redacted(dsn: str, expected: str) -> None:
    assert redacted_dsn(dsn) == expected


def test_a_password_holding_at_and_comma_signs_is_redacted_whole() -> None:
    # An unencoded "@" in the password: the user info ends at the last "@" of the authority.
    assert redacted_dsn("postgresql://u:a@b,c@db1,db2/x") == "postgresql://u:***@db1,db2/x"


def test_the_admin_url_keeps_every_host_and_the_session_target() -> None:
    admin, database = _admin_dsn(MULTI_HOST)
    assert database == "dropship"
    assert admin == "postgresql://postgres@127.0.0.1:5441,127.0.0.1:5442/postgres?target_session_attrs=read-write"


def test_the_session_target_comes_from_the_url_then_the_environment() -> None:
    assert target_session_attrs(MULTI_HOST, {"PGTARGETSESSIONATTRS": "any"}) == "read-write"
    assert target_session_attrs("postgresql://db/x", {"PGTARGETSESSIONATTRS": "primary"}) == "primary"
    assert target_session_attrs("postgresql://db/x?sslmode=disable", {}) == "any"


@pytest.mark.parametrize(
    ("status", "writable"),
    [
        ({"in_hot_standby": "off", "default_transaction_read_only": "off"}, True),
        ({}, True),  # a server older than 14 reports neither: taken as it answered the connect check
        ({"in_hot_standby": "on", "default_transaction_read_only": "off"}, False),
        ({"in_hot_standby": "off", "default_transaction_read_only": "on"}, False),
    ],
)
def test_a_standby_or_a_read_only_server_takes_no_writes(status: dict[str, str], writable: bool) -> None:
    assert takes_writes(status) is writable
