"""The catalog at merchant scale on the real database: ``POST /v1/catalog:import`` and ``GET /v1/catalog``
through their HTTP routes (services/splitter/catalog_api.py, served on loopback with the shared error
middleware and admin token), and ``dropship catalog import|list`` against them. The database is a
schema of this run's own with the splitter's migrations applied, emptied before each test."""

from __future__ import annotations

import asyncio
import io
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import asyncpg
import pytest
import requests
import schemathesis
from aiohttp import web
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from services.splitter import catalog_api
from services.splitter.catalog_api import CatalogAdminApi
from services.splitter.catalog_openapi import OPERATIONS
from shared.cli import cli
from shared.cli.catalog import ImportProgress
from shared.db import Connection, create_pool, migrate, migration_files
from shared.http import ADMIN_TOKEN_KEY, HttpMetrics, error_middleware
from shared.openapi import build_document
from shared.processes import free_port

if TYPE_CHECKING:
    from tests.conftest import SuiteEnvironment

SPLITTER_DIR = Path(__file__).resolve().parents[2] / "services" / "splitter"
TOKEN = f"admin-{uuid.uuid4().hex}"
HEADER = "sku,name,vendor,vendor_sku,cost,priority\n"
load_all_checks()
SCHEMATHESIS_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]


@dataclass
class MappedSkus:
    """Stands in for the splitter's release of held orders: what it was called with, and whether the
    import's transaction was open then."""

    calls: list[tuple[list[str], bool]] = field(default_factory=list)

    async def __call__(self, connection: Connection, skus: Sequence[str]) -> None:
        self.calls.append((list(skus), connection.is_in_transaction()))


@dataclass
class CatalogService:
    pool: asyncpg.Pool
    url: str
    session: aiohttp.ClientSession
    mapped: MappedSkus

    async def call(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "text/csv", token: str = TOKEN
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        async with self.session.request(method, self.url + path, data=body, headers=headers) as response:
            return response.status, await response.json()

    async def import_csv(self, text: str, query: str = "") -> dict[str, Any]:
        status, body = await self.call("POST", f"/v1/catalog:import{query}", text.encode())
        assert status == 200, body
        result: dict[str, Any] = body
        return result

    async def add_vendors(self, *codes: str) -> None:
        await self.pool.executemany(
            "INSERT INTO vendors (code, name, kind) VALUES ($1, $1, 'webhook')", [(c,) for c in codes]
        )

    async def sources(self, sku: str) -> dict[str, tuple[Any, ...]]:
        rows = await self.pool.fetch(
            "SELECT vendor, vendor_sku, cost, stock, priority FROM sources WHERE sku = $1 ORDER BY vendor", sku
        )
        return {r["vendor"]: (r["vendor_sku"], str(r["cost"]) if r["cost"] is not None else None, r["stock"],
                              r["priority"]) for r in rows}  # fmt: skip


@pytest.fixture(scope="module")
async def service(test_env: SuiteEnvironment) -> AsyncIterator[CatalogService]:
    schema = f"catalog_admin_{uuid.uuid4().hex[:8]}"
    await migrate(test_env.database_url, schema, migration_files(SPLITTER_DIR))
    pool = await create_pool(test_env.database_url, schema, max_size=4)
    mapped = MappedSkus()
    # As the runtime builds every service's app: the service-wide 1 MiB body limit and the JSON errors.
    app = web.Application(client_max_size=1_048_576, middlewares=[error_middleware(HttpMetrics(CollectorRegistry()))])
    app[ADMIN_TOKEN_KEY] = TOKEN
    app.router.add_routes(CatalogAdminApi(pool, mapped).routes())

    async def catalog_entry(_: web.Request) -> web.Response:
        return web.json_response({"route": "entry"})

    # The splitter's own /v1/catalog/{sku}, to show the colon route is told apart from it.
    app.router.add_get("/v1/catalog/{sku}", catalog_entry)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as session:
        yield CatalogService(pool, f"http://127.0.0.1:{port}", session, mapped)
    await runner.cleanup()
    await pool.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await pool.close()


@pytest.fixture
async def catalog(service: CatalogService) -> CatalogService:
    await service.pool.execute("TRUNCATE sources, catalog, vendors CASCADE")
    service.mapped.calls.clear()
    return service


# --- import ---------------------------------------------------------------------------------------


async def test_an_import_creates_entries_and_sources_and_reports_bad_rows(catalog: CatalogService) -> None:
    await catalog.add_vendors("east", "west")
    result = await catalog.import_csv(
        HEADER
        + 'TS-RED-M,"T-shirt, red",east,V-1,7.10,1\n'
        + "TS-RED-M,,west,,6.5,\n"
        + "MUG,Mug,nobody,,,\n"
        + "BAD,,east,,-1,\n"
        + "TS-RED-M,,east,,,\n"
    )
    assert result == {
        "dry_run": False,
        "rows_read": 5,
        "rows_imported": 2,
        "rows_failed": 3,
        "catalog": {"created": 1, "updated": 0},
        "sources": {"created": 2, "updated": 0, "unchanged": 0},
        "error_count": 3,
        "errors": [
            {"row": 4, "column": "vendor", "error": "no vendor 'nobody'; create it first"},
            {"row": 5, "column": "cost", "error": "must not be negative"},
            {"row": 6, "column": "sku", "error": "duplicate of row 2 (same sku and vendor)"},
        ],
    }
    assert await catalog.sources("TS-RED-M") == {"east": ("V-1", "7.10", None, 1), "west": (None, "6.50", None, 100)}
    assert await catalog.pool.fetchval("SELECT name FROM catalog WHERE sku = 'TS-RED-M'") == "T-shirt, red"
    assert await catalog.pool.fetchval("SELECT count(*) FROM catalog WHERE sku IN ('MUG', 'BAD')") == 0
    assert catalog.mapped.calls == [(["TS-RED-M"], True)]


async def test_an_import_updates_and_adds_but_keeps_stock_names_other_vendors_and_left_out_columns(
    catalog: CatalogService,
) -> None:
    await catalog.add_vendors("east", "west", "north")
    await catalog.import_csv(HEADER + "A,Alpha,east,EA,1.00,1\nA,,west,WA,2.00,2\nB,Beta,east,,3.00,3\n")
    await catalog.pool.execute("UPDATE sources SET stock = 40 WHERE sku = 'A' AND vendor = 'east'")
    catalog.mapped.calls.clear()

    # Only cost is named: vendor_sku and priority stay as stored; A's name is kept (no name column).
    result = await catalog.import_csv("sku,vendor,cost\nA,east,1.50\nA,north,9.99\nB,east,3.00\n")
    assert result["catalog"] == {"created": 0, "updated": 0}
    assert result["sources"] == {"created": 1, "updated": 1, "unchanged": 1}
    assert await catalog.sources("A") == {
        "east": ("EA", "1.50", 40, 1),  # the stock a feed or ops set is untouched
        "north": (None, "9.99", None, 100),
        "west": ("WA", "2.00", None, 2),  # a vendor the file does not name keeps its source
    }
    assert await catalog.pool.fetchval("SELECT name FROM catalog WHERE sku = 'A'") == "Alpha"
    assert catalog.mapped.calls == [(["A"], True)]

    # An empty cell of a named column clears it (priority: back to 100); a name given renames.
    result = await catalog.import_csv(HEADER + "A,Alpha 2,east,,,\nB,,east,,3.00,3\n")
    assert result["catalog"] == {"created": 0, "updated": 1}
    assert result["sources"] == {"created": 0, "updated": 1, "unchanged": 1}
    assert (await catalog.sources("A"))["east"] == (None, None, 40, 100)
    assert await catalog.pool.fetchval("SELECT name FROM catalog WHERE sku = 'B'") == "Beta"


async def test_the_same_file_again_changes_nothing(catalog: CatalogService) -> None:
    await catalog.add_vendors("east")
    text = HEADER + "A,Alpha,east,EA,1.00,1\nB,Beta,east,,,\n"
    await catalog.import_csv(text)
    catalog.mapped.calls.clear()
    again = await catalog.import_csv(text)
    assert again["catalog"] == {"created": 0, "updated": 0}
    assert again["sources"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert catalog.mapped.calls == []


async def test_a_dry_run_counts_exactly_and_changes_nothing(catalog: CatalogService) -> None:
    await catalog.add_vendors("east")
    await catalog.import_csv(HEADER + "A,Alpha,east,,1.00,\n")
    catalog.mapped.calls.clear()
    result = await catalog.import_csv(HEADER + "A,Alpha,east,,2.00,\nB,Beta,east,,,\nC,,gone,,,\n", "?dry_run=true")
    assert result["dry_run"] is True
    assert result["catalog"] == {"created": 1, "updated": 0}
    assert result["sources"] == {"created": 1, "updated": 1, "unchanged": 0}
    assert [e["row"] for e in result["errors"]] == [4]
    assert await catalog.sources("A") == {"east": (None, "1.00", None, 100)}
    assert await catalog.pool.fetchval("SELECT count(*) FROM catalog") == 1
    assert catalog.mapped.calls == []


async def test_at_most_1000_errors_are_listed_with_the_total(catalog: CatalogService) -> None:
    result = await catalog.import_csv("sku,vendor\n" + "".join(f"S{i},nobody\n" for i in range(1500)))
    assert result["error_count"] == 1500
    assert result["rows_failed"] == 1500
    assert len(result["errors"]) == 1000
    assert result["errors"][0]["row"] == 2


async def test_50000_rows_pass_the_service_wide_body_limit_and_import_quickly(catalog: CatalogService) -> None:
    vendors = [f"v{n}" for n in range(5)]
    await catalog.add_vendors(*vendors)
    text = HEADER + "".join(
        f"SKU-{i:05d},Product {i},{v},{v.upper()}-{i},{i % 97}.{i % 100:02d},{n}\n"
        for i in range(10_000)
        for n, v in enumerate(vendors)
    )
    assert len(text) > 1_048_576
    started = time.monotonic()
    result = await catalog.import_csv(text)
    elapsed = time.monotonic() - started
    assert result["rows_imported"] == 50_000
    assert result["sources"]["created"] == 50_000
    assert result["catalog"]["created"] == 10_000
    assert await catalog.pool.fetchval("SELECT count(*) FROM sources") == 50_000
    assert elapsed < 60, f"50,000 rows took {elapsed:.1f} s"
    assert len(catalog.mapped.calls[0][0]) == 10_000


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b"", "text/csv", 400, "invalid_csv"),
        (b"sku,vendor,colour\n", "text/csv", 400, "invalid_csv"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "application/octet-stream", 400, "invalid_csv"),
        (b'{"sku": "A"}', "application/json", 415, "unsupported_media_type"),
    ],
)
async def test_a_body_that_is_no_catalog_file_is_a_clear_4xx(
    catalog: CatalogService, body: bytes, content_type: str, status: int, error: str
) -> None:
    answer = await catalog.call("POST", "/v1/catalog:import", body, content_type)
    assert answer[0] == status
    assert answer[1]["error"] == error


async def test_more_than_the_route_limit_is_413_whether_announced_or_streamed(
    catalog: CatalogService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_api, "MAX_IMPORT_BYTES", 2_000)
    body = ("sku,vendor\n" + "A,east\n" * 1_000).encode()
    status, answer = await catalog.call("POST", "/v1/catalog:import", body)
    assert (status, answer["error"]) == (413, "body_too_large")

    async def streamed() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"A,east\n" * 100

    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"}
    async with catalog.session.post(catalog.url + "/v1/catalog:import", data=streamed(), headers=headers) as response:
        assert response.status == 413
        assert (await response.json())["error"] == "body_too_large"


async def test_more_rows_than_one_import_takes_is_413(catalog: CatalogService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.splitter.catalog_csv.MAX_ROWS", 3)
    status, answer = await catalog.call("POST", "/v1/catalog:import", b"sku,vendor\na,b\nc,d\ne,f\ng,h\n")
    assert (status, answer["error"]) == (413, "too_large")


async def test_import_needs_the_admin_token_and_a_valid_dry_run_flag(catalog: CatalogService) -> None:
    assert (await catalog.call("POST", "/v1/catalog:import", b"sku,vendor\n", token="wrong"))[0] == 401
    status, answer = await catalog.call("POST", "/v1/catalog:import?dry_run=maybe", b"sku,vendor\n")
    assert (status, answer["error"]) == (400, "invalid_dry_run")
    # The colon route is its own resource: a GET is 405, not the /v1/catalog/{sku} route.
    assert (await catalog.call("GET", "/v1/catalog:import"))[0] == 405
    assert (await catalog.call("GET", "/v1/catalog/TS-1"))[1] == {"route": "entry"}


# --- listing --------------------------------------------------------------------------------------


async def _listing(catalog: CatalogService, query: str) -> dict[str, Any]:
    status, body = await catalog.call("GET", f"/v1/catalog?{query}")
    assert status == 200, body
    page: dict[str, Any] = body
    return page


async def test_the_listing_pages_through_every_sku_once_in_order(catalog: CatalogService) -> None:
    await catalog.add_vendors("east", "west")
    await catalog.import_csv(
        "sku,vendor,cost\n" + "".join(f"S{i:03d},east,1.00\nS{i:03d},west,2.00\n" for i in range(250))
    )
    seen: list[str] = []
    cursor = ""
    while True:
        page = await _listing(catalog, f"limit=100&cursor={cursor}")
        seen += [item["sku"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == [f"S{i:03d}" for i in range(250)]
    first = (await _listing(catalog, "limit=1"))["items"][0]
    assert first["sources"] == [
        {"vendor": "east", "vendor_sku": None, "cost": "1.00", "stock": None, "priority": 100},
        {"vendor": "west", "vendor_sku": None, "cost": "2.00", "stock": None, "priority": 100},
    ]
    assert len((await _listing(catalog, ""))["items"]) == 100


async def test_the_listing_filters_by_vendor_and_by_sku_prefix_or_name(catalog: CatalogService) -> None:
    await catalog.add_vendors("east", "west")
    await catalog.import_csv(
        "sku,name,vendor\n"
        "MUG-BLUE,Blue mug,east\n"
        "MUG-RED,Red mug,west\n"
        "TS-1,T-shirt with a MUG print,west\n"
        "CAP_1,Cap 100%,east\n"
        "CAPX1,Cap plain,east\n"
    )

    async def skus(query: str) -> list[str]:
        return [item["sku"] for item in (await _listing(catalog, query))["items"]]

    # In the database's collation order, which may sort '_' anywhere: compared as sets where one shows.
    assert set(await skus("vendor=east")) == {"CAP_1", "CAPX1", "MUG-BLUE"}
    assert await skus("q=mug") == ["MUG-BLUE", "MUG-RED", "TS-1"]
    assert await skus("q=mug&vendor=west") == ["MUG-RED", "TS-1"]
    assert await skus("q=ts-") == ["TS-1"]
    assert await skus("q=CAP_") == ["CAP_1"]  # _ and % are literal, not wildcards
    assert await skus("q=100%25") == ["CAP_1"]
    assert await skus("q=%25") == ["CAP_1"]
    assert await skus("vendor=nobody") == []
    page = await _listing(catalog, "vendor=east&limit=2")
    rest = await _listing(catalog, f"vendor=east&limit=2&cursor={page['next_cursor']}")
    assert [i["sku"] for i in rest["items"]] == ["MUG-BLUE"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("cursor=not-a-cursor!", "invalid_cursor"),
        ("cursor=AA", "invalid_cursor"),
        ("limit=0", "invalid_limit"),
        ("limit=501", "invalid_limit"),
        ("limit=ten", "invalid_limit"),
        ("vendor=East%20Coast", "invalid_vendor"),
        ("q=" + "x" * 101, "invalid_query"),
    ],
)
async def test_a_bad_listing_parameter_is_400(catalog: CatalogService, query: str, error: str) -> None:
    status, body = await catalog.call("GET", f"/v1/catalog?{query}")
    assert (status, body["error"]) == (400, error)


# --- the CLI --------------------------------------------------------------------------------------


async def _run_cli(catalog: CatalogService, *args: str) -> Result:
    environment = {"DROPSHIP_SPLITTER_URL": catalog.url, "DROPSHIP_ADMIN_TOKEN": TOKEN}
    # The CLI blocks; the routes it calls are served on this event loop.
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=environment, catch_exceptions=False)


async def test_cli_import_sends_chunks_and_reports_errors_by_the_files_row(
    catalog: CatalogService, tmp_path: Path
) -> None:
    await catalog.add_vendors("east", "west")
    rows = [f"S{i},Item {i},east,,1.00,\n" for i in range(9)]
    rows[4] = "S4,Item 4,nobody,,1.00,\n"  # row 6 of the file, in the second chunk
    rows[7] = "S1,again,east,,,\n"  # row 10 (after the blank row 7): a duplicate of row 3, in another chunk
    file = tmp_path / "catalog.csv"
    file.write_text(HEADER + "".join(rows[:5]) + "\n" + "".join(rows[5:]))  # a blank row after row 6
    result = await _run_cli(catalog, "catalog", "import", str(file), "--chunk-rows", "4")
    assert result.exit_code == 1, result.output
    assert "row 6, vendor: no vendor 'nobody'" in result.stdout
    assert "row 10, sku: duplicate of row 3" in result.stdout
    assert "Imported 7 of 9 rows" in result.stdout
    assert result.stderr.splitlines() == ["imported 4/8 rows (50%)", "imported 8/8 rows (100%)"]
    assert await catalog.pool.fetchval("SELECT count(*) FROM sources") == 7

    clean = tmp_path / "clean.csv"
    clean.write_text(HEADER + "S0,Item 0,west,,2.00,\n")
    result = await _run_cli(catalog, "--json", "catalog", "import", str(clean), "--dry-run")
    assert result.exit_code == 0, result.output
    assert '"dry_run": true' in result.stdout
    assert await catalog.pool.fetchval("SELECT count(*) FROM sources WHERE vendor = 'west'") == 0


async def test_cli_list_follows_the_pages_with_all(catalog: CatalogService) -> None:
    await catalog.add_vendors("east")
    await catalog.import_csv("sku,vendor,priority\n" + "".join(f"S{i:02d},east,{i}\n" for i in range(12)))
    one_page = await _run_cli(catalog, "catalog", "list", "--limit", "5")
    assert one_page.exit_code == 0, one_page.output
    assert "S04" in one_page.stdout and "S05" not in one_page.stdout
    assert "More: dropship catalog list --cursor" in one_page.stdout
    everything = await _run_cli(catalog, "catalog", "list", "--limit", "5", "--all", "--q", "s1")
    assert [line.split()[0] for line in everything.stdout.splitlines()[1:]] == ["S10", "S11"]
    assert "east:11:-:-" in everything.stdout


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_progress_bar_redraws_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)  # here: pytest's capture swaps stderr back between phases
    progress = ImportProgress(10)
    progress.advance(5)
    progress.advance(5)
    progress.close()
    drawn = terminal.getvalue()
    assert "\r" in drawn
    assert "10/10" in drawn and "100%" in drawn
    assert "imported" not in drawn  # not the line-per-chunk form


# --- the document ---------------------------------------------------------------------------------


def _meet_the_rules_a_schema_cannot_say(cursor: str) -> Any:
    """A valid request as the document describes it, made valid in what no JSON schema says: a cursor is
    one a page answered, and the body is a CSV file with a header."""

    def adjust(drawn: tuple[Any, bool]) -> Any:
        case, coin = drawn
        if case.meta is None or not case.meta.generation.mode.is_positive:
            return case
        if case.method == "GET" and isinstance(case.query, dict) and "cursor" in case.query:
            case.query["cursor"] = cursor
        if case.method == "POST":
            case.body = "sku,name,vendor,cost\nA,Alpha,east,1.00\n" if coin else "sku,vendor\nB,nobody\n"
        return case

    return adjust


def _fuzz(url: str, cursor: str) -> list[str]:
    """Every schemathesis check on both operations, valid and invalid requests (blocking: run in a thread)."""
    document = build_document("splitter", "The catalog routes.", OPERATIONS)
    schema = schemathesis.openapi.from_dict(document)
    session = requests.Session()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid document raises right here
        if not operation.path.startswith("/v1/catalog"):
            continue  # the health routes build_document adds are the runtime's, not served here
        headers = {"Authorization": f"Bearer {TOKEN}"}
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
            operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
        )
        strategy = st.tuples(strategy, st.booleans()).map(_meet_the_rules_a_schema_cannot_say(cursor))

        @given(case=strategy)
        @settings(
            max_examples=40, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
        )
        def fuzz(case: Any) -> None:
            response = case.call(base_url=url, session=session, timeout=15)
            case.validate_response(response, checks=SCHEMATHESIS_CHECKS)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{operation.label}: {error}")
    session.close()
    return failures


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")  # schemathesis, not ours
async def test_schemathesis_finds_nothing_on_the_catalog_routes(catalog: CatalogService) -> None:
    await catalog.add_vendors("east")
    await catalog.import_csv("sku,name,vendor\nA,Alpha,east\nB,Beta,east\n")
    cursor = (await _listing(catalog, "limit=1"))["next_cursor"]
    failures = await asyncio.to_thread(_fuzz, catalog.url, cursor)
    assert failures == [], "\n\n".join(failures)
