"""Secrets never leave the process through the logs (shared/logging.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import structlog

from shared.logging import _redact, configure_logging, redact_text

SECRET = "hunter2"

# ---------------------------------------------------------------------------------------------- redact_text

REDACT_TEXT_CASES = [
    (
        "/shipstation/east?action=export&SS-UserName=east&SS-Password=hunter2&page=1",
        "/shipstation/east?action=export&SS-UserName=east&SS-Password=***&page=1",
    ),
    ("/shipstation/east?ss-password=hunter2", "/shipstation/east?ss-password=***"),
    ("/shipstation/east?SS-PASSWORD=hunter2", "/shipstation/east?SS-PASSWORD=***"),
    ("https://h/x?password=hunter2", "https://h/x?password=***"),
    ("https://h/x?Password=hunter2&user=jo", "https://h/x?Password=***&user=jo"),
    ("https://h/x?token=abc.def-ghi&page=2", "https://h/x?token=***&page=2"),
    ("https://h/x?access_token=abc123", "https://h/x?access_token=***"),
    ("https://h/x?TOKEN=abc", "https://h/x?TOKEN=***"),
    ("https://h/x?secret=s3cr3t", "https://h/x?secret=***"),
    ("https://h/x?client_secret=s3cr3t&grant=x", "https://h/x?client_secret=***&grant=x"),
    ("GET /a?password=one&token=two HTTP/1.1", "GET /a?password=***&token=*** HTTP/1.1"),
    ("calling https://h/x?password=hunter2 failed", "calling https://h/x?password=*** failed"),
    ("url='https://h/x?token=abc'", "url='https://h/x?token=***'"),
    ('url="https://h/x?token=abc"', 'url="https://h/x?token=***"'),
]


@pytest.mark.parametrize(("text", "expected"), REDACT_TEXT_CASES)
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://h/x?action=export&start_date=2026-11-01&page=2",
        "order 1001-1 exported to east",
        "password reset requested",  # the word alone is not a parameter
        "",
    ],
)
def test_redact_text_leaves_other_text_alone(text: str) -> None:
    assert redact_text(text) == text


# ---------------------------------------------------------------------------------------------- _redact


def run_redact(**event: Any) -> MutableMapping[str, Any]:
    return _redact(None, "info", dict(event))


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Password",
        "ss-password",
        "SS-Password",
        "ss_password",
        "webhook_secret",
        "secret",
        "api_key",
        "token",
        "authorization",
        "Authorization",
        "access_token",
        "admin_token",
        "client_secret",
        "new_password",
    ],
)
def test_redact_blanks_the_value_of_secret_keys(key: str) -> None:
    redacted = run_redact(**{key: SECRET, "event": "credentials rotated", "vendor": "east"})

    assert redacted[key] == "***"
    assert redacted["event"] == "credentials rotated"
    assert redacted["vendor"] == "east"


def test_redact_blanks_secret_keys_whatever_their_value_type() -> None:
    redacted = run_redact(token=12345, password=None, api_key=b"raw", webhook_secret={"v": SECRET})

    assert redacted == {"token": "***", "password": "***", "api_key": "***", "webhook_secret": "***"}


def test_redact_cleans_secret_query_parameters_inside_other_values() -> None:
    redacted = run_redact(
        event="GET /shipstation/east?action=export&SS-Password=hunter2",
        url="http://h/shipstation/east?SS-UserName=east&SS-Password=hunter2&page=3",
        error="fetch failed for https://h/feed?token=hunter2",
    )

    assert redacted["event"] == "GET /shipstation/east?action=export&SS-Password=***"
    assert redacted["url"] == "http://h/shipstation/east?SS-UserName=east&SS-Password=***&page=3"
    assert redacted["error"] == "fetch failed for https://h/feed?token=***"


def test_redact_keeps_ordinary_values() -> None:
    event = {
        "event": "vendor order created",
        "order_id": "ord_1",
        "vendor": "east",
        "quantity": 3,
        "routing_key": "vendor_order.created.east",
        "keys": ["a", "b"],
    }

    assert run_redact(**event) == event


def test_redact_reaches_into_nested_values() -> None:
    redacted = run_redact(
        headers={"Authorization": "Bearer hunter2", "Content-Type": "application/json"},
        request={"url": "https://h/x?password=hunter2", "params": {"api_key": SECRET}},
        urls=["https://h/a?token=hunter2", "https://h/b"],
    )

    assert SECRET not in json.dumps(redacted)
    assert redacted["headers"]["Content-Type"] == "application/json"
    assert redacted["urls"][1] == "https://h/b"


# ---------------------------------------------------------------------------------------------- end to end


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``configure_logging`` changes process-wide state: put it back afterwards. Each test configures
    logging itself, while output is captured: the JSON renderer binds ``sys.stderr`` as it is then."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_no_secret_reaches_stderr_from_structlog_or_stdlib(
    restore_logging: None, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging("t", "json")
    log = structlog.get_logger()
    log.info(
        "shipstation export",
        password=SECRET,
        url="http://127.0.0.1:8003/shipstation/east?action=export&SS-UserName=east&SS-Password=hunter2",
        vendor="east",
    )
    log.warning("interpolated %s", "http://h/x?password=hunter2")
    logging.getLogger("aiohttp.server").warning("GET /shipstation/east?SS-Password=hunter2&action=export 401")
    logging.getLogger("aiohttp.server").warning("GET %s %d", "/shipstation/east?SS-Password=hunter2", 401)

    out, err = capfd.readouterr()

    assert SECRET not in out + err
    lines = json_lines(err)
    assert len(lines) == 4
    first = lines[0]
    assert first["event"] == "shipstation export"
    assert first["password"] == "***"
    assert first["vendor"] == "east"
    assert first["service"] == "t"
    assert first["url"].endswith("SS-UserName=east&SS-Password=***")
    assert lines[1]["event"] == "interpolated http://h/x?password=***"
    assert lines[2]["logger"] == "aiohttp.server"
    assert lines[2]["event"] == "GET /shipstation/east?SS-Password=***&action=export 401"
    assert lines[3]["event"] == "GET /shipstation/east?SS-Password=*** 401"


def test_no_secret_reaches_stderr_through_an_exception(
    restore_logging: None, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging("t", "json")
    try:
        raise ValueError("could not fetch http://h/shipstation/east?SS-Password=hunter2")
    except ValueError:
        structlog.get_logger().exception("export failed", vendor="east")
        logging.getLogger("aiohttp.server").exception("Error handling request")

    _, err = capfd.readouterr()

    assert SECRET not in err
    lines = json_lines(err)
    assert [line["event"] for line in lines] == ["export failed", "Error handling request"]
    for line in lines:
        # The traceback is still there, readable, with only the secret blanked.
        assert "ValueError: could not fetch http://h/shipstation/east?SS-Password=***" in line["exception"]


def test_no_nested_secret_reaches_stderr(restore_logging: None, capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging("t", "json")
    structlog.get_logger().info(
        "vendor webhook call", headers={"Authorization": f"Bearer {SECRET}"}, access_token=SECRET
    )

    _, err = capfd.readouterr()

    assert SECRET not in err
    assert json_lines(err)[0]["event"] == "vendor webhook call"


def test_stdlib_info_is_filtered_but_warnings_pass(restore_logging: None, capfd: pytest.CaptureFixture[str]) -> None:
    configure_logging("t", "json")
    logging.getLogger("aio_pika").info("chatty")
    logging.getLogger("aio_pika").warning("connection lost")

    _, err = capfd.readouterr()

    assert [line["event"] for line in json_lines(err)] == ["connection lost"]
