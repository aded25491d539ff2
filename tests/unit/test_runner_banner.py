"""What ``make run`` prints beside the services: their ports, the admin token's place and the console's URL."""

from __future__ import annotations

from pathlib import Path

from shared.runner import SERVICES, banner
from shared.settings import Settings


def test_make_run_prints_the_ops_consoles_url_beside_the_services() -> None:
    settings = Settings(
        console_port=8123, console_url=None, admin_token=None, admin_token_file=Path("/tmp/example-token")
    )
    lines = banner(settings, SERVICES)
    assert "console" in SERVICES and "console on :8123" in lines[0] and "/tmp/example-token" in lines[0]
    assert lines[-1] == "ops console: http://127.0.0.1:8123/ (sign in with the admin token)"


def test_no_console_line_without_the_console() -> None:
    settings = Settings(admin_token="not-printed-" + "x" * 32)
    lines = banner(settings, ("intake", "splitter"))
    assert len(lines) == 1 and "ops console" not in lines[0]
    assert "not-printed" not in lines[0] and "DROPSHIP_ADMIN_TOKEN" in lines[0], "the token's place, never the token"
