"""How commands print: the services' JSON as is with ``--json``, otherwise text for people."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import click

from shared.cli.client import Answer, State


def emit(state: State, data: Any, human: Callable[[], None]) -> None:
    """Print ``data`` as JSON with ``--json``, else call ``human`` to print it as text."""
    if state.as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        human()


def as_text(value: Any) -> str:
    """A value as a table cell or field shows it: ``-`` for none, yes/no, JSON for lists and objects."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], indent: str = "  ") -> None:
    """``rows`` under a header of ``columns``, each column as wide as its widest cell."""
    cells = [[as_text(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    for line in [list(columns), *cells]:
        click.echo(indent + "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def print_fields(data: Mapping[str, Any], keys: Iterable[str], indent: str = "  ") -> None:
    """``key: value`` lines for those of ``keys`` that ``data`` has, values aligned."""
    present = [key for key in keys if key in data]
    width = max((len(key) for key in present), default=0)
    for key in present:
        click.echo(f"{indent}{key + ':':<{width + 1}} {as_text(data[key])}")


def created_word(answer: Answer) -> str:
    """What a PUT did: the services answer 201 when they created the thing, 200 when they updated it."""
    return "created" if answer.status == 201 else "updated"
