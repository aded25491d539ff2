"""``dropship catalog …``: which vendors ship a SKU, on the splitter: one SKU at a time (``put``,
``get``), a page of the catalog (``list``) or a whole file of sources (``import``)."""

from __future__ import annotations

import csv
import io
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

import click

from shared.cli.client import State, decode_body, describe_error, describe_unreachable, segment
from shared.cli.output import as_text, emit, print_table

_SOURCE_PARTS = ("priority", "stock", "cost", "vendor_sku")


def parse_source(text: str) -> dict[str, Any]:
    """``VENDOR[:PRIORITY[:STOCK[:COST[:VENDOR_SKU]]]]``; an empty part is left out, the vendor SKU may
    contain colons."""
    parts = text.split(":", len(_SOURCE_PARTS))
    vendor_code = parts[0].strip()
    if not vendor_code:
        raise click.BadParameter(f"{text!r}: the vendor is missing")
    source: dict[str, Any] = {"vendor": vendor_code}
    for name, part in zip(_SOURCE_PARTS, (p.strip() for p in parts[1:]), strict=False):
        if not part:
            continue
        if name in {"priority", "stock"}:
            # str.isdigit alone also accepts digits such as '²' that int() refuses.
            if not (part.isascii() and part.isdigit()):
                raise click.BadParameter(f"{text!r}: {name} must be a whole number, not {part!r}")
            source[name] = int(part)
        elif name == "cost":
            try:
                Decimal(part)
            except InvalidOperation:
                raise click.BadParameter(f"{text!r}: cost must be a decimal amount such as 7.10") from None
            # Sent as the text given: money travels as decimal strings, never floats.
            source[name] = part
        else:
            source[name] = part
    return source


def _sources_option(_: click.Context, __: click.Parameter, values: Sequence[str]) -> list[dict[str, Any]]:
    return [parse_source(value) for value in values]


@click.group()
def catalog() -> None:
    """The catalog: which vendors can ship a SKU, at what priority, stock and cost."""


def _print_catalog_entry(data: Mapping[str, Any]) -> None:
    click.echo(f"SKU {data.get('sku')}: {as_text(data.get('name'))}")
    sources = data.get("sources") or []
    if sources:
        print_table(sources, ["vendor", "priority", "stock", "cost", "vendor_sku"])
    else:
        click.echo("  no source: orders for it are held")
    if data.get("released_vendor_orders"):
        click.echo(f"Released {data['released_vendor_orders']} held vendor order(s).")


@catalog.command("put")
@click.argument("sku")
@click.option("--name", help="A name for people.")
@click.option(
    "--source",
    "sources",
    multiple=True,
    required=True,
    callback=_sources_option,
    metavar="VENDOR[:PRIORITY[:STOCK[:COST[:VENDOR_SKU]]]]",
    help="A vendor that ships this SKU (repeatable); lower priority is preferred, e.g. east:1:40:7.10:TS-R-M.",
)
@click.pass_obj
def catalog_put(state: State, sku: str, name: str | None, sources: list[dict[str, Any]]) -> None:
    """Set SKU's name and sources (PUT /v1/catalog/SKU on the splitter); the sources given replace all."""
    body: dict[str, Any] = {"sources": sources}
    if name is not None:
        body["name"] = name
    answer = state.api.call("splitter", "PUT", f"/v1/catalog/{segment(sku)}", body)
    emit(state, answer.body, lambda: _print_catalog_entry(answer.body))


@catalog.command("get")
@click.argument("sku")
@click.pass_obj
def catalog_get(state: State, sku: str) -> None:
    """Show SKU and its sources."""
    answer = state.api.call("splitter", "GET", f"/v1/catalog/{segment(sku)}")
    emit(state, answer.body, lambda: _print_catalog_entry(answer.body))


def _sources_cell(sources: Sequence[Mapping[str, Any]]) -> str:
    """``vendor:priority:stock:cost`` per source, the way ``--source`` takes them."""
    return " ".join(
        ":".join(as_text(source.get(key)) for key in ("vendor", "priority", "stock", "cost")) for source in sources
    )


@catalog.command("list")
@click.option("--vendor", help="Only SKUs this vendor ships.")
@click.option("--q", "query", help="SKUs starting with TEXT, or whose name contains it (any letter case).")
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True, help="SKUs per page.")
@click.option("--cursor", help="Where a page before ended (its next_cursor).")
@click.option("--all", "every_page", is_flag=True, help="Follow the pages to the end.")
@click.pass_obj
def catalog_list(
    state: State, vendor: str | None, query: str | None, limit: int, cursor: str | None, every_page: bool
) -> None:
    """SKUs in SKU order with their sources (VENDOR:PRIORITY:STOCK:COST), a page at a time."""
    items: list[dict[str, Any]] = []
    while True:
        parameters = {"vendor": vendor, "q": query, "limit": str(limit), "cursor": cursor}
        given = urllib.parse.urlencode({k: v for k, v in parameters.items() if v is not None})
        page = state.api.call("splitter", "GET", f"/v1/catalog?{given}").body
        items += page["items"]
        cursor = page.get("next_cursor")
        if not every_page or cursor is None:
            break

    def human() -> None:
        if not items:
            click.echo("No SKU matches.")
            return
        rows = [{"sku": i["sku"], "name": i.get("name"), "sources": _sources_cell(i["sources"])} for i in items]
        print_table(rows, ["sku", "name", "sources"], indent="")
        if cursor is not None:
            click.echo(f"More: dropship catalog list --cursor {cursor} (or --all)")

    emit(state, {"items": items, "next_cursor": cursor}, human)


# --- dropship catalog import FILE ----------------------------------------------------------------------

_COUNTS = ("rows_read", "rows_imported", "rows_failed", "error_count")
_NESTED_COUNTS = {"catalog": ("created", "updated"), "sources": ("created", "updated", "unchanged")}
ERRORS_SHOWN = 1_000


@dataclass
class _Chunk:
    body: bytes
    file_rows: list[int]
    """The file's row number of each data row of ``body``, in order (the header is row 1 of both)."""


@dataclass
class _FileRows:
    """A catalog file cut into chunks of rows, each with the header; a (sku, vendor) repeated from an
    earlier row is left out and reported here, as the splitter would within one request."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    duplicates: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, raw: bytes) -> _FileRows:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise click.ClickException("the file is not UTF-8: save it as 'CSV UTF-8'") from None
        try:
            records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except csv.Error as error:
            raise click.ClickException(f"the file is not valid CSV ({error}); check its quotes") from None
        if not records:
            raise click.ClickException("the file is empty: the first row names the columns")
        file_rows = cls(records[0], [])
        names = [name.strip().lower() for name in records[0]]
        first_row_of: dict[tuple[str, str], int] = {}
        for number, record in enumerate(records[1:], start=2):
            if not any(cell.strip() for cell in record):
                continue
            if "sku" in names and "vendor" in names and len(record) == len(names):
                key = (record[names.index("sku")].strip(), record[names.index("vendor")].strip())
                first = first_row_of.setdefault(key, number)
                if first != number:
                    problem = f"duplicate of row {first} (same sku and vendor)"
                    file_rows.duplicates.append({"row": number, "column": "sku", "error": problem})
                    continue
            file_rows.rows.append((number, record))
        return file_rows

    def chunks(self, size: int) -> Iterator[_Chunk]:
        for start in range(0, max(len(self.rows), 1), size):
            part = self.rows[start : start + size]
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(self.header)
            writer.writerows(record for _, record in part)
            yield _Chunk(out.getvalue().encode(), [number for number, _ in part])


class ImportProgress:
    """Rows done of the total on stderr: a bar that redraws in place on a terminal, else a line per chunk."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.bar = None
        if sys.stderr.isatty():
            self.bar = click.progressbar(
                length=total, label="Importing", file=sys.stderr, show_pos=True, show_percent=True
            )
            self.bar.__enter__()

    def advance(self, rows: int) -> None:
        self.done += rows
        if self.bar is not None:
            self.bar.update(rows)
        else:
            percent = 100 * self.done // self.total if self.total else 100
            click.echo(f"imported {self.done:,}/{self.total:,} rows ({percent}%)", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _post_csv(state: State, path: str, body: bytes) -> dict[str, Any]:
    """POST ``body`` as text/csv to the splitter; errors exit with one line, as every call does."""
    api = state.api
    base = api.settings.service_url("splitter")
    if urllib.parse.urlsplit(base).scheme not in {"http", "https"}:
        raise click.ClickException(f"the splitter URL {base!r} is not an http(s) URL")
    headers = {"Authorization": f"Bearer {api.token()}", "Content-Type": "text/csv", "Accept": "application/json"}
    request = urllib.request.Request(base + path, data=body, method="POST", headers=headers)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=api.timeout) as response:  # noqa: S310 - scheme checked above
            answer: dict[str, Any] = decode_body(response.read())
            return answer
    except urllib.error.HTTPError as error:
        with error:
            raw = error.read()
        raise click.ClickException(describe_error("splitter", "POST", path, error.code, raw)) from None
    except urllib.error.URLError as error:
        raise click.ClickException(describe_unreachable("splitter", base, error.reason)) from None
    except OSError as error:
        raise click.ClickException(describe_unreachable("splitter", base, error)) from None


def add_counts(total: dict[str, Any], answer: Mapping[str, Any], chunk: _Chunk) -> None:
    """Add one chunk's answer to ``total``, its errors renumbered to the file's rows."""
    for key in _COUNTS:
        total[key] = total.get(key, 0) + answer[key]
    for group, keys in _NESTED_COUNTS.items():
        counts = total.setdefault(group, dict.fromkeys(keys, 0))
        for key in keys:
            counts[key] += answer[group][key]
    for error in answer["errors"]:
        total["errors"].append({**error, "row": chunk.file_rows[error["row"] - 2]})


def _print_import(total: Mapping[str, Any]) -> None:
    verb = "Would import" if total["dry_run"] else "Imported"
    catalog_counts, sources = total["catalog"], total["sources"]
    click.echo(
        f"{verb} {total['rows_imported']:,} of {total['rows_read']:,} rows: SKUs {catalog_counts['created']:,} new,"
        f" {catalog_counts['updated']:,} renamed; sources {sources['created']:,} new, {sources['updated']:,} changed,"
        f" {sources['unchanged']:,} unchanged."
    )
    errors = total["errors"]
    if errors:
        click.echo(f"{total['rows_failed']:,} row(s) failed ({total['error_count']:,} error(s)):")
        for error in errors[:ERRORS_SHOWN]:
            column = f", {error['column']}" if error.get("column") else ""
            click.echo(f"  row {error['row']}{column}: {error['error']}")
        if total["error_count"] > len(errors[:ERRORS_SHOWN]):
            click.echo(f"  … and {total['error_count'] - len(errors[:ERRORS_SHOWN]):,} more")


@catalog.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check every row and count what would change; change nothing.")
@click.option(
    "--chunk-rows", type=click.IntRange(1, 200_000), default=5_000, show_default=True, help="Rows per request."
)
@click.pass_obj
def catalog_import(state: State, file: BinaryIO, dry_run: bool, chunk_rows: int) -> None:
    """Add and update sources from a CSV FILE (sku,name,vendor,vendor_sku,cost,priority; '-' reads stdin).

    Rows that pass are imported even when others fail; the failures are listed by the file's row
    number (the header is row 1) and the exit code is 1. Sources the file does not name are kept.
    """
    rows = _FileRows.read(file.read())
    path = "/v1/catalog:import" + ("?dry_run=true" if dry_run else "")
    total: dict[str, Any] = {"dry_run": dry_run, "errors": []}
    progress = ImportProgress(len(rows.rows))
    try:
        for chunk in rows.chunks(chunk_rows):
            add_counts(total, _post_csv(state, path, chunk.body), chunk)
            progress.advance(len(chunk.file_rows))
    finally:
        progress.close()
    total["errors"] = sorted(rows.duplicates + total["errors"], key=lambda error: int(error["row"]))
    total["rows_read"] += len(rows.duplicates)
    total["rows_failed"] = len({error["row"] for error in total["errors"]})
    total["error_count"] += len(rows.duplicates)
    emit(state, total, lambda: _print_import(total))
    if total["errors"]:
        raise SystemExit(1)
