"""The one table ``make bench`` prints: each number next to its target and whether it is met.

``python -m bench.report [results.json] [--markdown]`` prints it again from a results file.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.config import TARGETS

DEFAULT_RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    target: str
    met: bool | None

    @property
    def verdict(self) -> str:
        return "—" if self.met is None else ("yes" if self.met else "NO")


def _ms(seconds: Any) -> str:
    return "n/a" if seconds is None else f"{float(seconds) * 1000:.1f} ms"


def _get(data: dict[str, Any], *path: str) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


# The channels section's verdicts: every order in, one fulfillment each, an outage caught up.
def _webhooks_ok(results: dict[str, Any]) -> bool:
    hooks, n = results["webhooks"], results["orders"]
    return bool(
        hooks["answered_200"] == n
        and hooks["tasks"]["done"] == n
        and hooks["tasks"]["failed"] == 0
        and hooks["intake"]["orders"] == hooks["intake"]["of_these"] == n
    )


def _fulfillments_ok(results: dict[str, Any]) -> bool:
    figures = results["fulfillments"]
    return bool(figures["fulfilled_once"] == figures["orders"] == results["orders"] and figures["tasks"]["failed"] == 0)


def _outage_ok(results: dict[str, Any]) -> bool:
    outage = results["outage"]
    return bool(
        outage["drained_after_return_s"] is not None
        and outage["duplicates"] == outage["lost"] == 0
        and outage["fulfilled_once"] == outage["orders"] == outage["webhook_tasks"]["done"]
        and outage["failed_tasks"] == 0
        and results["intake_orders_at_end"] == results["orders"] + outage["orders"]
    )


def rows(results: dict[str, Any]) -> list[Row]:
    t = TARGETS
    out: list[Row] = []
    broker = _get(results, "baselines", "broker")
    if broker:
        out.append(
            Row(
                f"Raw broker hop, 1 quorum queue, persistent+confirmed, {broker['message_bytes']} B",
                f"{broker['hop_per_s']:.0f} msg/s (publish alone {broker['publish_per_s']:.0f},"
                f" consume alone {broker['consume_per_s']:.0f})",
                "baseline",
                None,
            )
        )
    database = _get(results, "baselines", "database")
    if database:
        out.append(
            Row(
                f"Raw PostgreSQL single-row transactions, {database['concurrency']} connections",
                f"{database['commits_per_s']:.0f} commits/s"
                f" (1 connection: {database['commits_per_s_one_connection']:.0f})",
                "baseline",
                None,
            )
        )
    routing = results.get("routing")
    if routing:
        out.append(
            Row(
                f"Routing decisions (route_lines + split_order), {routing['lines_per_order']} lines, 3 sources each",
                f"{routing['decisions_per_s']:.0f} decisions/s ({routing['lines_per_s']:.0f} lines/s;"
                f" baseline {routing['baseline']} {routing['baseline_per_s']:.0f}/s, ratio {routing['ratio']:.2f})",
                "beside baseline",
                None,
            )
        )
    codec = results.get("x12")
    if codec:
        out.append(
            Row(
                f"X12 850s rendered ({codec['lines_per_850']} lines) / 856s read (two packages)",
                f"{codec['rendered_850_per_s']:.0f}/s rendered (baseline {codec['render_baseline_per_s']:.0f}/s,"
                f" ratio {codec['render_ratio']:.2f}); {codec['read_856_per_s']:.0f}/s read"
                f" (baseline {codec['read_baseline_per_s']:.0f}/s, ratio {codec['read_ratio']:.3f})",
                "beside baseline",
                None,
            )
        )
    throughput = results.get("throughput")
    if throughput:
        rate = float(throughput["sustained_per_s"])
        ratio = throughput.get("ratio_to_broker_hop")
        best = throughput.get("best_step") or {}
        p99 = _get(best, "send_to_exportable_s", "p99")
        each = throughput.get("sustained_per_s_each_run") or [rate]
        spread = f"median of {len(each)} ramps, each {', '.join(f'{r:.0f}' for r in each)}; " if len(each) > 1 else ""
        out.append(
            Row(
                f"End to end, 3-line orders over 2 vendors, sustained {throughput['step_seconds']:.0f} s",
                f"{rate:.0f} orders/s ({spread}p99 {_ms(p99)}; {ratio if ratio is not None else 'n/a'} of broker hop)",
                f"≥ {t.sustained_orders_per_s:.0f}/s, p99 < {t.sustained_p99_s:.0f} s",
                rate >= t.sustained_orders_per_s,
            )
        )
        cpu = best.get("cpu_ms_per_order") or {}
        if cpu:
            total = sum(cpu.values())
            out.append(
                Row(
                    f"CPU per order at the top sustained rate ({rate:.0f}/s), services + PostgreSQL + RabbitMQ",
                    f"{total:.2f} ms ({', '.join(f'{name} {ms:.2f}' for name, ms in cpu.items())})",
                    f"≤ {t.cpu_ms_per_order:.0f} ms",
                    total <= t.cpu_ms_per_order,
                )
            )
    steady = results.get("steady")
    if steady:
        lat = steady["201_to_exportable_s"]
        p99 = lat["p99"]
        out.append(
            Row(
                f"Latency at {steady['offered_per_s']:.0f} orders/s, 201 → exportable",
                f"p50 {_ms(lat['p50'])}, p95 {_ms(lat['p95'])}, p99 {_ms(p99)}",
                f"p99 ≤ {t.steady_p99_s * 1000:.0f} ms",
                p99 is not None and float(p99) <= t.steady_p99_s and steady["exportable"] == steady["orders"],
            )
        )
    export = results.get("export")
    if export:
        stored = export["seed"]["rows"]
        page = export["poll_page_s"]
        out.append(
            Row(
                f"Export poll: one page of {export['poll_window']['orders']} orders, {stored:,} stored",
                f"p50 {_ms(page['p50'])}, p99 {_ms(page['p99'])}",
                f"p50 ≤ {t.export_page_p50_s * 1000:.0f} ms",
                page["p50"] is not None and float(page["p50"]) <= t.export_page_p50_s,
            )
        )
        pages = export["window_pages_s"]
        complete = export["window_orders_exported"] == export["window_orders_expected"]
        out.append(
            Row(
                f"Export window of {export['window_orders_expected']:,} orders ({pages['count']} pages)",
                f"{export['window_total_s']:.2f} s total; page 1 {_ms(export['window_first_page_s'])},"
                f" per page p50 {_ms(pages['p50'])}, p99 {_ms(pages['p99'])};"
                f" adapter peak {export['adapter_rss_mb']['peak']} MB",
                f"< {t.export_window_s:.0f} s",
                complete and float(export["window_total_s"]) < t.export_window_s,
            )
        )
    notices = results.get("notices")
    if notices:
        rate = float(notices["sustained_per_s"])
        best = notices.get("best_step") or {}
        p99 = _get(best, "notice_to_webhook_s", "p99")
        out.append(
            Row(
                "Ship notices accepted (and webhooked, p99 < 1 s)",
                f"{rate:.0f} notices/s; notice → channel webhook p99 {_ms(p99)}",
                f"≥ {t.notices_per_s:.0f}/s",
                rate >= t.notices_per_s,
            )
        )
    delivered = results.get("gateway")
    if delivered:
        hop = _get(results, "baselines", "broker", "hop_per_s")
        baseline = f"; broker hop baseline {hop:.0f} msg/s" if hop else ""
        for transport, label in (("webhook", "webhook/JSON"), ("sftp", "SFTP/CSV")):
            figures = delivered[transport]
            latency = figures["created_to_delivered_s"]
            out.append(
                Row(
                    f"Gateway, {label} vendor, {delivered['offered_per_s']:.0f} orders/s for"
                    f" {delivered['seconds']:.0f} s",
                    f"{figures['delivered_per_s']:.1f} vendor orders/s delivered"
                    f" ({figures['delivered']}/{figures['vendor_orders']});"
                    f" created → delivered p50 {_ms(latency['p50'])}, p99 {_ms(latency['p99'])}{baseline}",
                    "all delivered",
                    figures["delivered"] == figures["vendor_orders"] == delivered["accepted"],
                )
            )
    shop = results.get("channels")
    if shop:
        hooks, answer = shop["webhooks"], shop["webhooks"]["answer_s"]
        to_intake = hooks["tasks"]["created_to_done_s"]
        out.append(
            Row(
                f"Channels, Shopify orders/create webhooks at {shop['offered_per_s']:.0f}/s ({shop['orders']} orders)",
                f"{hooks['tasks']['done']}/{shop['orders']} intake orders; answer p50 {_ms(answer['p50'])},"
                f" p99 {_ms(answer['p99'])}; arrival → intake order p50 {_ms(to_intake['p50'])},"
                f" p99 {_ms(to_intake['p99'])}, max {_ms(to_intake['max'])}",
                "all created, none failed",
                _webhooks_ok(shop),
            )
        )
        figures = shop["fulfillments"]
        task = figures["tasks"]["created_to_done_s"]
        out.append(
            Row(
                f"Channels, {figures['shipments']} shipments published at once → Shopify fulfillments",
                f"{figures['per_s']:.1f} fulfillments/s ({figures['fulfilled_once']}/{figures['orders']} once;"
                f" {figures['throttled_requests']} throttled); task p50 {_ms(task['p50'])}, p99 {_ms(task['p99'])}",
                "one per order",
                _fulfillments_ok(shop),
            )
        )
        outage = shop["outage"]
        peak = outage["backlog_peak"]
        drained = outage["drained_after_return_s"]
        out.append(
            Row(
                f"Channels, Shopify down {outage['platform_down_s']:.0f} s, {outage['orders']} orders meanwhile",
                f"backlog peak {peak['total']} (shipments {peak['shipment']}, webhooks {peak['webhook']});"
                f" empty {'n/a' if drained is None else f'{drained:.1f} s'} after the return;"
                f" duplicates {outage['duplicates']}, lost {outage['lost']}",
                "caught up, none doubled or lost",
                _outage_ok(shop),
            )
        )
    ops = results.get("console")
    if ops:
        healthz = ops["baselines"]["console_healthz_s"]
        listing = ops["baselines"]["intake_orders_page_s"]
        out.append(
            Row(
                f"Console baselines, {ops['loads_per_page']} loads each",
                f"console /healthz p50 {_ms(healthz['p50'])}, p95 {_ms(healthz['p95'])}; intake GET /v1/orders"
                f" (50) p50 {_ms(listing['p50'])}, p95 {_ms(listing['p95'])}",
                "baseline",
                None,
            )
        )
        for page in ops["pages"]:
            p95 = page["s"]["p95"]
            out.append(
                Row(
                    f"Console page {page['name']}, {ops['seed']['rows']:,} orders stored",
                    f"p50 {_ms(page['s']['p50'])}, p95 {_ms(p95)}"
                    + (f" ({page['problems']} panel problems)" if page["problems"] else ""),
                    f"p95 < {t.console_page_p95_s * 1000:.0f} ms",
                    p95 is not None and float(p95) < t.console_page_p95_s,
                )
            )
    catalog = results.get("catalog_import")
    if catalog and "skipped" not in catalog:
        out.append(
            Row(
                f"Catalog import, {catalog['rows']:,} rows (POST /v1/catalog:import)",
                f"{catalog['import_s']:.1f} s, {catalog['rows_per_s']:,} rows/s (baseline COPY"
                f" {catalog['baseline_copy_s']:.2f} s; the same file again {catalog['reimport_unchanged_s']:.1f} s)",
                f"< {catalog['target_s']:.0f} s",
                float(catalog["import_s"]) < float(catalog["target_s"]),
            )
        )
    memory = results.get("memory")
    if memory:
        for service, value in sorted((memory.get("during_steady") or {}).items()):
            peak = _get(memory, "peak", service)
            out.append(
                Row(
                    f"Resident memory, {service}",
                    f"{value} MB at steady load (peak in run {peak} MB)",
                    f"< {t.service_rss_mb:.0f} MB",
                    value is not None and float(peak or value) < t.service_rss_mb,
                )
            )
    return out


def text_table(table: list[Row]) -> str:
    headers = ("metric", "value", "target", "met")
    cells = [headers, *((r.metric, r.value, r.target, r.verdict) for r in table)]
    widths = [max(len(row[i]) for row in cells) for i in range(4)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells[1:]]
    return "\n".join(out)


def markdown_table(table: list[Row]) -> str:
    out = ["| metric | value | target | met |", "|---|---|---|---|"]
    out += [f"| {r.metric} | {r.value} | {r.target} | {r.verdict} |" for r in table]
    return "\n".join(out)


def details(results: dict[str, Any]) -> str:
    """Lines under the table: where the CPU and the time of an order go at steady load, and how many
    messages each consumer applied per transaction."""
    steady = results.get("steady")
    if not steady:
        return ""
    cpu = steady.get("cpu_ms_per_order") or {}
    usage = steady.get("usage") or {}
    lines = [
        f"At {steady['offered_per_s']:.0f} orders/s, CPU per order: "
        + ", ".join(f"{name} {ms:.2f} ms" for name, ms in cpu.items())
        + f"; machine busy {usage.get('machine_busy_cores')} of {results.get('machine', {}).get('cores')} cores"
        + (" (the chaos suite restarted infrastructure meanwhile)" if usage.get("infra_restarted_meanwhile") else "")
    ]
    hops = steady.get("hops_s") or {}
    if hops and "error" not in hops:
        lines.append(
            "Where an order's time goes (p50 / p99): "
            + ", ".join(f"{hop} {_ms(value['p50'])} / {_ms(value['p99'])}" for hop, value in hops.items())
        )
    batches = steady.get("inbox_batches") or {}
    if batches:
        lines.append(
            "Messages per inbox transaction: "
            + ", ".join(f"{consumer} {value['per_transaction']}" for consumer, value in batches.items())
        )
    top = (results.get("throughput") or {}).get("best_step") or {}
    top_batches = top.get("inbox_batches") or {}
    if top_batches:
        lines.append(
            f"Messages per inbox transaction at the top sustained rate ({top['offered_per_s']:.0f}/s): "
            + ", ".join(f"{consumer} {value['per_transaction']}" for consumer, value in top_batches.items())
        )
    return "\n".join(lines)


def machine_line(results: dict[str, Any]) -> str:
    machine = results.get("machine", {})
    return (
        f"{machine.get('cores')} cores, {machine.get('memory_mb')} MB, {machine.get('cpu_model')};"
        f" load average at start {machine.get('load_average')}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("results", nargs="?", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    table = rows(results)
    sys.stdout.write(machine_line(results) + "\n\n")
    sys.stdout.write((markdown_table(table) if args.markdown else text_table(table)) + "\n")
    sys.stdout.write("\n" + details(results) + "\n")


if __name__ == "__main__":
    main()
