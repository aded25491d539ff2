"""Server-rendered pages: Jinja2 templates (autoescaped) from ``templates/``, whole or only their live
region (``?fragment=1``, what the pages' few lines of JavaScript fetch every few seconds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from services.console import views

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LIVE_BLOCK = "live"
HEADERS = {
    # Pages carry the session's CSRF token and ops data: never cached, never framed, scripts only ours.
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        # Other services' answers may lack a field: an absent one renders empty rather than failing the page.
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = views.format_time
    env.filters["age"] = views.format_age
    return env


class Renderer:
    def __init__(self, defaults: dict[str, Any]) -> None:
        self._env = environment()
        self._defaults = defaults
        """What every page knows: the refresh interval, the RabbitMQ management link."""

    def html(
        self, template: str, context: dict[str, Any], *, fragment: bool = False, status: int = 200
    ) -> web.Response:
        page = self._env.get_template(template)
        values = {**self._defaults, **context}
        if fragment and LIVE_BLOCK in page.blocks:
            text = "".join(page.blocks[LIVE_BLOCK](page.new_context(values)))
        else:
            text = page.render(values)
        return web.Response(text=text, status=status, content_type="text/html", headers=HEADERS)
