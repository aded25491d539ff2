"""The CLI's HTTP client: synchronous JSON calls to the services' admin API, with the admin token.

Only the standard library: a command makes one or a few calls and exits, so a blocking call is the
simplest thing that works. Every failure becomes one readable ``click.ClickException`` line (exit 1),
never a traceback.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import click

from shared.settings import ServiceName, Settings

TIMEOUT_SECONDS = 30.0


@dataclass
class Answer:
    """A service's successful reply: the HTTP status and the decoded body."""

    status: int
    body: Any


@dataclass
class Api:
    """Calls to intake, the splitter and the ShipStation adapter at the addresses in ``settings``."""

    settings: Settings
    timeout: float = TIMEOUT_SECONDS
    _token: str | None = field(default=None, repr=False)

    def token(self) -> str:
        # Read on first use, so commands that never call a service (--help, a usage error) work without one.
        if self._token is None:
            try:
                self._token = self.settings.resolved_admin_token
            except RuntimeError as error:
                raise click.ClickException(str(error)) from None
        return self._token

    def call(self, service: ServiceName, method: str, path: str, body: Any = None) -> Answer:
        """``method path`` on ``service`` with ``body`` as JSON (none if ``None``); errors exit with one line."""
        base = self.settings.service_url(service)
        url = base + path
        # urlopen would also open file:// and other schemes; a mistyped setting must not read a local file.
        if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
            raise click.ClickException(f"the {service} URL {base!r} is not an http(s) URL")
        headers = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked above
                return Answer(response.status, decode_body(response.read()))
        except urllib.error.HTTPError as error:
            with error:
                raw = error.read()
            raise click.ClickException(describe_error(service, method, path, error.code, raw)) from None
        except urllib.error.URLError as error:
            raise click.ClickException(describe_unreachable(service, base, error.reason)) from None
        except OSError as error:  # a timeout or a reset after connecting
            raise click.ClickException(describe_unreachable(service, base, error)) from None


@dataclass
class State:
    """What every command receives (``click.pass_obj``): the client, and whether to print JSON."""

    api: Api
    as_json: bool


def decode_body(raw: bytes) -> Any:
    """JSON if it is JSON; otherwise the text (a proxy's HTML error page, say); ``None`` if empty."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return raw.decode("utf-8", "replace")


def one_line(value: Any, limit: int = 300) -> str:
    """``value`` (text, or anything JSON) on one line of at most ``limit`` characters, for messages."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_unreachable(service: str, base: str, reason: Any) -> str:
    """Why ``service`` at ``base`` did not answer, and what usually fixes it."""
    if isinstance(reason, ConnectionRefusedError):
        why = "connection refused"
    elif isinstance(reason, TimeoutError):
        why = "timed out"
    else:
        why = one_line(str(reason) or type(reason).__name__)
    return f"cannot reach {service} at {base} ({why}): is the service running? (make run)"


def describe_error(service: str, method: str, path: str, status: int, raw: bytes) -> str:
    """One readable line from the services' JSON error ``{"error", "detail", "fields"}``."""
    body = decode_body(raw)
    where = f"{service} answered {status} to {method} {path}"
    if not isinstance(body, dict) or "error" not in body:
        return f"{where}: {one_line(body)}" if body else where
    text = f"{where}: {body['error']}"
    if body.get("detail") not in (None, ""):
        text += f": {one_line(body['detail'])}"
    fields = body.get("fields")
    if isinstance(fields, dict) and fields:
        text += " (" + "; ".join(f"{name}: {one_line(problem, 120)}" for name, problem in fields.items()) + ")"
    return text


def segment(value: str) -> str:
    """A path segment: codes, SKUs and ids are quoted so a slash or space cannot change the route."""
    return urllib.parse.quote(value, safe="")
