"""A merchant's whole catalog imported at once: 50,000 rows (10,000 SKUs at 5 vendors each, with names,
vendor SKUs, costs and priorities) sent to ``POST /v1/catalog:import`` of the running splitter, then the
same file again (every row unchanged), beside a baseline measured in the same run on the same database:
a plain COPY of the same rows into an unindexed table, which is as fast as PostgreSQL takes them in.

The issue's target: 50,000 rows in under a minute. ``python -m bench --only catalog`` runs this alone.
"""

from __future__ import annotations

import csv
import io
import random
import time
from decimal import Decimal
from typing import Any

import aiohttp

from bench.environment import BenchEnvironment, connect_database

FULL_ROWS = 50_000
SMOKE_ROWS = 500
VENDORS_PER_SKU = 5
TARGET_SECONDS = 60.0
ADJECTIVES = ("Classic", "Organic", "Heavy-duty", "Slim", "Deluxe", "Compact", "Vintage", "Waterproof")
PRODUCTS = ("T-shirt", "Mug", "Backpack", "Lamp", "Notebook", "Water bottle", "Blanket", "Phone case")
COLOURS = ("red", "blue", "black", "white", "green", "grey", "navy", "sand")


def catalog_rows(run_id: str, rows: int, vendors: list[str]) -> list[tuple[str, str, str, str, Decimal, int]]:
    """``rows`` rows of (sku, name, vendor, vendor_sku, cost, priority): each SKU at every vendor, the
    vendors' costs within a few per cent of each other, priorities 10, 20, … in a shuffled order."""
    rng = random.Random(11)  # noqa: S311 - test data
    out: list[tuple[str, str, str, str, Decimal, int]] = []
    for index in range(rows // len(vendors)):
        sku = f"CAT-{run_id}-{index:06d}"
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(PRODUCTS)}, {rng.choice(COLOURS)}, size {index % 7}"
        base_cents = rng.randint(150, 25_000)
        order = rng.sample(range(len(vendors)), len(vendors))
        for rank, vendor in zip(order, vendors, strict=True):
            cost = Decimal(base_cents + rng.randint(-base_cents // 20, base_cents // 20)) / 100
            out.append((sku, name, vendor, f"{vendor[:4].upper()}-{index:06d}", cost, 10 * (rank + 1)))
    return out


def as_csv(rows: list[tuple[str, str, str, str, Decimal, int]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("sku", "name", "vendor", "vendor_sku", "cost", "priority"))
    writer.writerows(rows)
    return out.getvalue().encode()


async def _add_vendors(environment: BenchEnvironment, codes: list[str]) -> None:
    """Straight into the splitter's table: vendors through the API would each get a broker queue that
    this section never uses. Their own adapter serves them (``"adapter": "own"``), so the gateway does
    not consume (and declare) queues for them either."""
    connection = await connect_database(environment.database_url, "bench-catalog")
    try:
        await connection.executemany(
            "INSERT INTO splitter.vendors (code, name, kind, settings)"
            """ VALUES ($1, $1, 'webhook', '{"adapter": "own"}') ON CONFLICT DO NOTHING""",
            [(code,) for code in codes],
        )
    finally:
        await connection.close()


async def copy_baseline(environment: BenchEnvironment, rows: list[tuple[str, str, str, str, Decimal, int]]) -> float:
    """Seconds to COPY ``rows`` into a temporary table without index or constraint, and commit."""
    connection = await connect_database(environment.database_url, "bench-catalog")
    try:
        started = time.perf_counter()
        async with connection.transaction():
            await connection.execute(
                "CREATE TEMPORARY TABLE catalog_baseline (sku text, name text, vendor text, vendor_sku text,"
                " cost numeric(12, 2), priority integer) ON COMMIT DROP"
            )
            await connection.copy_records_to_table("catalog_baseline", records=rows)
        return time.perf_counter() - started
    finally:
        await connection.close()


class RouteMissing(RuntimeError):
    """The splitter does not serve the import route (a build from before it existed)."""


async def _post(session: aiohttp.ClientSession, url: str, token: str, body: bytes) -> tuple[float, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/csv"}
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=300)) as response:
        answer = await response.json(content_type=None)
        elapsed = time.perf_counter() - started
        if response.status in {404, 405}:
            raise RouteMissing(f"the splitter answers {response.status} to POST /v1/catalog:import")
        if response.status != 200:
            raise RuntimeError(f"POST /v1/catalog:import answered {response.status}: {str(answer)[:300]}")
    result: dict[str, Any] = answer
    return elapsed, result


async def measure(
    session: aiohttp.ClientSession, splitter_url: str, environment: BenchEnvironment, *, smoke: bool
) -> dict[str, Any]:
    """The import of a fresh catalog, the same file again, and the COPY baseline, in seconds."""
    vendors = [f"cat{n}-{environment.run_id}" for n in range(VENDORS_PER_SKU)]
    await _add_vendors(environment, vendors)
    rows = catalog_rows(environment.run_id, SMOKE_ROWS if smoke else FULL_ROWS, vendors)
    body = as_csv(rows)
    baseline = await copy_baseline(environment, rows)
    url = f"{splitter_url}/v1/catalog:import"
    try:
        first_s, first = await _post(session, url, environment.admin_token, body)
    except RouteMissing as missing:
        return {"skipped": str(missing)}
    again_s, again = await _post(session, url, environment.admin_token, body)
    if first["rows_imported"] != len(rows) or again["sources"]["unchanged"] != len(rows):
        raise RuntimeError(f"the import did not take every row: {first['error_count']} errors, {first['errors'][:3]}")
    return {
        "rows": len(rows),
        "skus": len(rows) // VENDORS_PER_SKU,
        "file_bytes": len(body),
        "import_s": round(first_s, 2),
        "rows_per_s": round(len(rows) / first_s),
        "reimport_unchanged_s": round(again_s, 2),
        "baseline_copy_s": round(baseline, 3),
        "first": {"catalog": first["catalog"], "sources": first["sources"]},
        "target_s": TARGET_SECONDS,
    }


def summary_line(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return f"catalog import: not measured ({result['skipped']})"
    return (
        f"catalog import: {result['rows']:,} rows in {result['import_s']:.1f} s"
        f" (baseline COPY {result['baseline_copy_s']:.2f} s);"
        f" the same file again {result['reimport_unchanged_s']:.1f} s"
    )
