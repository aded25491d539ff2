"""Connection rules without I/O: a vendor's kind fixes its transport and format, secrets are split
from the settings to be sealed, and a connection's view never shows one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from services.gateway.connections import (
    KIND_PAIRINGS,
    Connection,
    ConnectionRequest,
    WrongKind,
    check_pairing,
    split_secrets,
)

HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
SFTP: dict[str, Any] = {
    "transport": "sftp",
    "format": "csv",
    "sftp": {"host": "sftp.vendor.example", "username": "acme", "password": "pa55-w0rd-x", "host_key": HOST_KEY},
}
WEBHOOK: dict[str, Any] = {
    "transport": "webhook",
    "format": "json",
    "webhook": {"url": "https://vendor.example/orders", "secret": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="},
}


@pytest.mark.parametrize(("kind", "pairing"), sorted(KIND_PAIRINGS.items()))
def test_each_kind_takes_its_own_pairing_and_no_other(kind: str, pairing: tuple[str, str]) -> None:
    for other in KIND_PAIRINGS.values():
        body = {"webhook": WEBHOOK, "sftp": SFTP, "email": None}[other[0]]
        if body is None:
            body = {"transport": "email", "format": "csv", "email": {"to": ["orders@vendor.example"]}}
        request = ConnectionRequest.model_validate({**body, "format": other[1]})
        if other == pairing:
            check_pairing("acme", kind, request)
        else:
            with pytest.raises(WrongKind, match=f"kind {kind}"):
                check_pairing("acme", kind, request)


def test_a_shipstation_vendor_takes_no_gateway_connection() -> None:
    with pytest.raises(WrongKind, match="ShipStation"):
        check_pairing("east", "shipstation", ConnectionRequest.model_validate(WEBHOOK))


@pytest.mark.parametrize(
    "body",
    [
        {"transport": "sftp", "format": "csv"},  # no sftp settings
        {**SFTP, "webhook": WEBHOOK["webhook"]},  # settings of another transport
        {**SFTP, "sftp": {**SFTP["sftp"], "password": None}},  # neither password nor key
        {**SFTP, "sftp": {key: value for key, value in SFTP["sftp"].items() if key != "host_key"}},  # no host key
        {"transport": "email", "format": "csv", "email": {"to": ["not an address"]}},
        {**WEBHOOK, "webhook": {"url": "ftp://vendor.example/x"}},
        {**SFTP, "csv": {"delimiter": '"'}},
    ],
)
def test_incomplete_or_contradictory_connections_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ConnectionRequest.model_validate(body)


def test_secrets_are_kept_apart_and_never_shown() -> None:
    request = ConnectionRequest.model_validate(SFTP)
    settings, secrets = split_secrets(request, None)
    assert "pa55-w0rd-x" not in json.dumps(settings)
    assert secrets.sftp_password == "pa55-w0rd-x"
    connection = Connection.assemble("acme", settings, secrets)
    assert connection.sftp is not None and connection.sftp.password == "pa55-w0rd-x"
    view = connection.view()
    assert "pa55-w0rd-x" not in json.dumps(view)
    assert view["sftp"]["login"] == "password"


def test_a_generated_webhook_secret_is_used_when_none_is_given() -> None:
    request = ConnectionRequest.model_validate({**WEBHOOK, "webhook": {"url": WEBHOOK["webhook"]["url"]}})
    settings, secrets = split_secrets(request, "whsec_Z2VuZXJhdGVkLXNlY3JldC12YWx1ZQ==")
    assert secrets.webhook_secret == "whsec_Z2VuZXJhdGVkLXNlY3JldC12YWx1ZQ=="
    view = Connection.assemble("acme", settings, secrets).view()
    assert view["webhook"] == {"url": WEBHOOK["webhook"]["url"], "has_secret": True}
