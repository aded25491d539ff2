"""``python -m bench`` (``make bench``): run the whole system as ``make run`` does and measure it.

Prints one table and writes every number to ``bench/results/latest.json`` (``--out``). ``--smoke``
runs every section with tiny sizes in well under a minute, so the benchmark cannot rot; its numbers
mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench import baselines, catalog_import, channels, console, export, gateway, hops, notices, routing, x12
from bench.config import FULL, SMOKE, TARGETS, Sizes
from bench.environment import BenchEnvironment
from bench.machine import describe, infra_settled
from bench.metrics import batches_between, inbox_batches
from bench.orders import ExportWatcher, OrderSample, measured_step, open_loop
from bench.profiling import Profiler
from bench.report import DEFAULT_RESULTS, details, machine_line, rows, text_table
from bench.scenario import Merchant, PlannedOrder, WebhookReceiver, set_up
from bench.stats import fine_rates
from bench.system import BenchSystem
from shared.db import redacted_dsn

SECTIONS = (
    "routing",
    "x12",
    "baselines",
    "steady",
    "ramp",
    "notices",
    "gateway",
    "export",
    "channels",
    "console",
    "catalog",
)


def say(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def sizes_from(args: argparse.Namespace) -> Sizes:
    sizes = SMOKE if args.smoke else FULL
    overrides: dict[str, Any] = {}
    if args.ramp_rates:
        overrides["ramp_rates"] = tuple(float(r) for r in args.ramp_rates.split(","))
    if args.notice_rates:
        overrides["notice_rates"] = tuple(float(r) for r in args.notice_rates.split(","))
    names = (
        "ramp_seconds",
        "ramp_fine_step",
        "ramp_runs",
        "steady_seconds",
        "steady_rate",
        "stored_vendor_orders",
        "notice_seconds",
    )
    for name in (*names, "gateway_rate", "gateway_seconds", "channels_outage_seconds"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    return dataclasses.replace(sizes, **overrides)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes = sizes_from(args)
        self.sections = set(args.only.split(",")) if args.only else set(SECTIONS)
        self.environment = BenchEnvironment()
        self.merchant = Merchant.for_run(self.environment.run_id)
        self.environment.vendors = self.merchant.vendors
        self.log_dir = Path(tempfile.mkdtemp(prefix="dropship-bench-"))
        self.system = BenchSystem(self.environment, self.log_dir)
        self.receiver = WebhookReceiver()
        self.hook_vendor = gateway.HookVendor()
        self.file_vendor = gateway.FileVendor(self.log_dir / "sftp")
        self.profiler = Profiler(Path(args.out).parent / "profiles")
        self.finished: list[OrderSample] = []
        self.saw_restart = False
        self.results: dict[str, Any] = {
            "run_id": self.environment.run_id,
            "mode": "smoke" if args.smoke else "full",
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": describe(),
            "sizes": dataclasses.asdict(self.sizes),
            "targets": dataclasses.asdict(TARGETS),
            "sections": sorted(self.sections),
            "untracked_stock": bool(args.untracked_stock),
            "infrastructure": {
                "amqp": redacted_dsn(self.environment.amqp_url),
                "database": redacted_dsn(self.environment.database_url),
            },
        }

    async def run(self) -> dict[str, Any]:
        started = time.monotonic()
        watcher: ExportWatcher | None = None
        failed = False
        try:
            if "routing" in self.sections:
                self.routing()
            if "x12" in self.sections:
                self.x12()
            await self.environment.create()
            await self.receiver.start()
            await self.hook_vendor.start()
            await self.file_vendor.start()
            if "baselines" in self.sections:
                await self.baselines()
            say(f"starting the services (database dropship_bench_{self.environment.run_id})")
            for attempt in (1, 2, 3):
                await self.settled()
                try:
                    await self.system.start()
                    break
                except (RuntimeError, TimeoutError) as error:
                    # Most likely the chaos suite restarted PostgreSQL or RabbitMQ under us.
                    self.system.stop()
                    if attempt == 3:
                        raise
                    say(f"a service did not start ({str(error).splitlines()[0][:200]}); starting again")
            connector = aiohttp.TCPConnector(limit=512)
            timeout = aiohttp.ClientTimeout(total=60)
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                await set_up(
                    session,
                    self.system.urls,
                    self.environment.admin_token,
                    self.merchant,
                    self.receiver.url,
                    untracked_stock=self.args.untracked_stock,
                )
                if "gateway" in self.sections:
                    await gateway.set_up(
                        session,
                        self.system.urls,
                        self.environment.admin_token,
                        self.merchant,
                        self.hook_vendor,
                        self.file_vendor,
                    )
                watcher = ExportWatcher(self.environment.database_url, [self.merchant.vendor_a, self.merchant.vendor_b])
                await watcher.start()
                if self.sections & {"steady", "ramp", "notices"}:
                    await self.orders(session, watcher)
                if "notices" in self.sections:
                    await self.notices(session)
                if "gateway" in self.sections:
                    await self.gateway(session)
                if "export" in self.sections:
                    await self.export(session)
                if "channels" in self.sections:
                    await self.channels(session)
                if "console" in self.sections:
                    await self.console(session)
                if "catalog" in self.sections:  # last: 50,000 more sources must not weigh on the figures above
                    catalog = await catalog_import.measure(
                        session, self.system.urls["splitter"], self.environment, smoke=self.args.smoke
                    )
                    self.results["catalog_import"] = catalog
                    say(catalog_import.summary_line(catalog))
            if "memory" in self.results:
                self.results["memory"]["end"] = self.system.rss()
        except BaseException:
            failed = True
            raise
        finally:
            if watcher is not None:
                await watcher.stop()
            if self.profiler.running:
                self.results["profiles"] = self.profiler.finish()
            self.results["exit_codes"] = self.system.stop()
            await self.receiver.stop()
            await self.hook_vendor.stop()
            await self.file_vendor.stop()
            left = await self.environment.remove()
            if left:
                say(f"could not remove the bench's {' and '.join(left)} (run id {self.environment.run_id})")
            self.results["duration_s"] = round(time.monotonic() - started, 1)
            if failed or self.args.keep_logs:
                say(f"service logs kept in {self.log_dir}")
            else:
                shutil.rmtree(self.log_dir, ignore_errors=True)
        return self.results

    async def settled(self) -> None:
        if await infra_settled():
            self.saw_restart = True
            say("waited for the chaos suite's RabbitMQ/PostgreSQL restart to finish")

    def routing(self) -> None:
        """The pure routing engine on one core, beside its baseline; before anything else runs."""
        say("routing: decisions per second, beside validating the same orders")
        self.results["routing"] = routing.measure(seconds=0.1, rounds=1) if self.args.smoke else routing.measure()
        say(routing.summary_line(self.results["routing"]))

    def x12(self) -> None:
        """The X12 codec on one core, beside its baselines; pure, before the services start."""
        say("x12: 850s rendered and 856s read per second, beside baselines")
        self.results["x12"] = x12.measure(seconds=0.05, rounds=1) if self.args.smoke else x12.measure()
        say(x12.summary_line(self.results["x12"]))

    async def baselines(self) -> None:
        await self.settled()
        event = self.merchant.order_event_bytes()
        say(f"baseline: raw broker, {self.sizes.broker_messages} messages of {len(event)} bytes")
        broker = await baselines.broker_baseline(
            self.environment, event, self.sizes.broker_messages, self.sizes.broker_window
        )
        say(f"baseline: raw PostgreSQL, {self.sizes.db_transactions} transactions")
        database = await baselines.database_baseline(
            self.environment, event, self.sizes.db_transactions, self.sizes.db_concurrency
        )
        self.results["baselines"] = {"broker": broker, "database": database}

    async def orders(self, session: aiohttp.ClientSession, watcher: ExportWatcher) -> None:
        sizes, key, drain = self.sizes, self.merchant.channel_key, self.sizes.drain_seconds
        plan = self.merchant.planner(seed=1)
        say(f"warm-up: {sizes.warmup_rate:.0f} orders/s for {sizes.warmup_seconds:.0f} s")
        warm = await open_loop(session, self.system, watcher, key, plan, sizes.warmup_rate, sizes.warmup_seconds, drain)
        self.finished += [s for s in warm if s.exportable is not None]

        say(f"steady: {sizes.steady_rate:.0f} orders/s for {sizes.steady_seconds:.0f} s")
        if self.args.profile:
            self.profiler.start("steady", self.system.pids, sizes.steady_seconds)
        await self.settled()
        batches_before = await inbox_batches(session, self.system.urls)
        steady, samples = await measured_step(
            session,
            self.system,
            watcher,
            key,
            plan,
            sizes.steady_rate,
            sizes.steady_seconds,
            drain,
            TARGETS.sustained_p99_s,
        )
        if self.args.profile:
            self.results["profiles"] = self.profiler.finish()
        self.finished += [s for s in samples if s.exportable is not None]
        steady["hops_s"] = await hops.breakdown(
            self.environment.database_url, self.merchant.channel, [s.planned.number for s in samples]
        )
        steady["inbox_batches"] = batches_between(batches_before, await inbox_batches(session, self.system.urls))
        self.results["steady"] = steady
        self.results["memory"] = {"during_steady": steady["rss_mb"]["last"], "peak": dict(steady["rss_mb"]["peak"])}
        say(f"steady: {self._brief(steady)}")

        if "ramp" not in self.sections:
            return
        runs: list[dict[str, Any]] = []
        for run in range(1, sizes.ramp_runs + 1):
            say(f"ramp {run} of {sizes.ramp_runs}")
            steps, best = await self._ramp(session, watcher, key, plan, drain)
            runs.append({"steps": steps, "best_step": best})
            self._record_throughput(runs)

    async def _ramp(
        self,
        session: aiohttp.ClientSession,
        watcher: ExportWatcher,
        key: str,
        plan: Callable[[], PlannedOrder],
        drain: float,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Steps up the rates until one is not sustained, then the rates below it finely, once."""
        sizes = self.sizes
        steps: list[dict[str, Any]] = []
        best: dict[str, Any] | None = None
        rates, refined = list(sizes.ramp_rates), False
        while rates:
            rate = rates.pop(0)
            for attempt in (1, 2):
                say(f"ramp: {rate:.0f} orders/s for {sizes.ramp_seconds:.0f} s")
                await self.settled()
                batches_before = await inbox_batches(session, self.system.urls)
                step, samples = await measured_step(
                    session, self.system, watcher, key, plan, rate, sizes.ramp_seconds, drain, TARGETS.sustained_p99_s
                )
                step["inbox_batches"] = batches_between(batches_before, await inbox_batches(session, self.system.urls))
                # A step the chaos suite disturbed (it restarts RabbitMQ or PostgreSQL) is run once more.
                if step["sustained"] or not step["usage"]["infra_restarted_meanwhile"] or attempt == 2:
                    break
                say("ramp: infrastructure was restarted during the step; running it again")
            self.finished += [s for s in samples if s.exportable is not None]
            step["hops_s"] = await hops.breakdown(
                self.environment.database_url, self.merchant.channel, [s.planned.number for s in samples]
            )
            steps.append(step)
            for service, value in step["rss_mb"]["peak"].items():
                peaks = self.results["memory"]["peak"]
                peaks[service] = max(peaks.get(service, 0.0), value)
            say(f"ramp: {self._brief(step)}")
            if not step["sustained"]:
                # Once: the rates between the last sustained step and this one, finely.
                top = float(best["offered_per_s"]) if best else 0.0
                rates = [] if refined else fine_rates(top, rate, sizes.ramp_fine_step)
                refined = True
                continue
            best = step
        return steps, best

    def _record_throughput(self, runs: list[dict[str, Any]]) -> None:
        hop = self.results.get("baselines", {}).get("broker", {}).get("hop_per_s")
        rates = [float(run["best_step"]["offered_per_s"]) if run["best_step"] else 0.0 for run in runs]
        median = statistics.median(rates)
        # The run whose sustained rate is the median (the lower middle one of an even count) stands for all.
        middle = runs[sorted(range(len(rates)), key=lambda i: rates[i])[(len(rates) - 1) // 2]]
        self.results["throughput"] = {
            "step_seconds": self.sizes.ramp_seconds,
            "criterion": "every order 201 and exportable; p99 from scheduled send to exportable < 1 s",
            "runs": len(runs),
            "sustained_per_s_each_run": rates,
            "sustained_per_s": median,
            "spread_per_s": [min(rates), max(rates)],
            "ratio_to_broker_hop": round(median / hop, 3) if hop else None,
            "best_step": middle["best_step"],
            "steps": middle["steps"],
            "steps_each_run": [run["steps"] for run in runs],
        }

    @staticmethod
    def _brief(step: dict[str, Any]) -> str:
        total = step["send_to_exportable_s"]
        return (
            f"{step['exportable']}/{step['orders']} exportable, p50 {total['p50']} s, p99 {total['p99']} s,"
            f" errors {step['errors'] or 'none'}, machine busy {step['usage']['machine_busy_cores']} cores,"
            f" sustained={step['sustained']}"
        )

    async def idle(self) -> None:
        waited = await self.system.wait_idle()
        if waited > 1:
            say(f"waited {waited} s for the backlog of the last step to drain")

    async def notices(self, session: aiohttp.ClientSession) -> None:
        await self.idle()
        vendor = self.merchant.vendor_a
        pool = [s for s in self.finished if vendor in s.vendor_orders]
        steps: list[dict[str, Any]] = []
        best: dict[str, Any] | None = None
        for index, rate in enumerate(self.sizes.notice_rates):
            wanted = round(rate * self.sizes.notice_seconds)
            if len(pool) < wanted:
                say(f"notices: only {len(pool)} orders left for {wanted} notices; stopping the ramp")
                break
            batch, pool = pool[:wanted], pool[wanted:]
            say(f"notices: {rate:.0f} notices/s for {self.sizes.notice_seconds:.0f} s")
            await self.settled()
            profiled = self.args.profile and index == 0
            if profiled:
                self.profiler.start("notices", self.system.pids, self.sizes.notice_seconds)
            step = await notices.notice_step(
                session,
                self.system,
                self.merchant,
                self.receiver,
                batch,
                rate,
                self.sizes.notice_seconds,
                self.sizes.drain_seconds,
                TARGETS.sustained_p99_s,
                index,
            )
            if profiled:
                self.results.setdefault("profiles", {}).update(self.profiler.finish())
            steps.append(step)
            say(
                f"notices: {step['accepted']}/{step['notices']} accepted, {step['webhooks_arrived']} webhooks,"
                f" webhook p99 {step['notice_to_webhook_s']['p99']} s, sustained={step['sustained']}"
            )
            if not step["sustained"]:
                break
            best = step
        self.results["notices"] = {
            "criterion": "every notice 200 and its webhook delivered; p99 notice → 200 and notice → webhook < 1 s",
            "sustained_per_s": float(best["offered_per_s"]) if best else 0.0,
            "best_step": best,
            "steps": steps,
        }

    async def gateway(self, session: aiohttp.ClientSession) -> None:
        """Orders for the two vendors the gateway serves: delivered per second and created → delivered."""
        sizes = self.sizes
        await self.idle()
        await self.settled()
        say(f"gateway: {sizes.gateway_rate:.0f} orders/s for {sizes.gateway_seconds:.0f} s (webhook + SFTP vendor)")
        self.results["gateway"] = await gateway.measure(
            session,
            self.system,
            self.merchant,
            self.hook_vendor,
            self.file_vendor,
            sizes.gateway_rate,
            sizes.gateway_seconds,
            sizes.drain_seconds,
        )
        say(gateway.summary_line(self.results["gateway"]))

    async def channels(self, session: aiohttp.ClientSession) -> None:
        """A Shopify shop on the channels service: webhooks to intake orders, fulfillments, an outage."""
        sizes = self.sizes
        await self.idle()
        await self.settled()
        say(
            f"channels: {sizes.channels_orders} Shopify orders by webhook at {sizes.channels_rate:.0f}/s, shipped"
            f" at once, then {sizes.channels_orders // 4} more during a {sizes.channels_outage_seconds:.0f} s outage"
        )
        shop = await channels.set_up(session, self.system.urls, self.environment.admin_token, self.environment.run_id)
        self.results["channels"] = await channels.measure(
            session,
            self.system,
            self.environment.admin_token,
            shop,
            sizes.channels_orders,
            sizes.channels_rate,
            sizes.channels_outage_seconds,
            sizes.drain_seconds,
        )
        say(channels.summary_line(self.results["channels"]))

    async def console(self, session: aiohttp.ClientSession) -> None:
        """Every console page, signed in, with intake's tables COPY-seeded to 100,000 orders."""
        orders, loads = self.sizes.console_orders, self.sizes.console_loads
        await self.idle()
        await self.settled()
        say(f"console: seeding {orders:,} orders into intake, then each page {loads} times")
        seeded = await console.seed(session, self.system, self.merchant, orders)
        say(f"console: seeded in {seeded['build_seconds'] + seeded['copy_seconds']:.1f} s; measuring")
        measured = await console.measure(session, self.system, self.merchant, seeded["sample"], loads)
        self.results["console"] = {"seed": seeded, **measured}
        say(console.summary_line(self.results["console"]))

    async def export(self, session: aiohttp.ClientSession) -> None:
        sizes = self.sizes
        await self.idle()
        now = export.utc_now()
        say(f"export: seeding {sizes.stored_vendor_orders:,} vendor orders ({sizes.window_orders:,} in the window)")
        await self.settled()
        seeded = await export.seed(
            self.environment.database_url,
            self.merchant,
            sizes.stored_vendor_orders,
            sizes.window_orders,
            sizes.poll_orders,
            now,
        )
        say(f"export: seeded in {seeded['build_seconds'] + seeded['copy_seconds']:.1f} s; measuring")
        measured = await export.measure(
            session, self.system, self.merchant, now, sizes.window_orders, sizes.poll_orders, sizes.page_repeats
        )
        self.results["export"] = {"seed": seeded, **measured}
        if "memory" in self.results:
            peaks = self.results["memory"]["peak"]
            peaks["shipstation"] = max(peaks.get("shipstation", 0.0), measured["adapter_rss_mb"]["peak"] or 0.0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="every section, tiny sizes (for the test suite)")
    parser.add_argument("--out", default=str(DEFAULT_RESULTS), help="where the JSON results go")
    parser.add_argument("--only", help=f"comma-separated sections to run, of {','.join(SECTIONS)}")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy profiles of each service in the steady phase and the first notice step",
    )
    parser.add_argument(
        "--cleanup",
        nargs="+",
        metavar="RUN_ID",
        help="only remove what runs killed before their clean-up left behind (database, queues), then exit",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the services' logs (printed where)")
    parser.add_argument(
        "--untracked-stock",
        action="store_true",
        help="the bench vendors' stock untracked: routing sums no reservations (isolates the rest of the path)",
    )
    parser.add_argument("--ramp-rates", help="orders/s steps, comma-separated")
    parser.add_argument("--ramp-seconds", type=float)
    parser.add_argument("--ramp-fine-step", type=float, help="orders/s between the fine steps near the top (0: none)")
    parser.add_argument("--ramp-runs", type=int, help="whole ramps, one after another (the median is reported)")
    parser.add_argument("--steady-rate", type=float)
    parser.add_argument("--steady-seconds", type=float)
    parser.add_argument("--notice-rates", help="notices/s steps, comma-separated")
    parser.add_argument("--notice-seconds", type=float)
    parser.add_argument("--stored-vendor-orders", type=int)
    parser.add_argument("--gateway-rate", type=float, help="orders/s for the gateway's two vendors")
    parser.add_argument("--gateway-seconds", type=float)
    parser.add_argument("--channels-outage-seconds", type=float, help="how long the fake Shopify answers 503")
    return parser.parse_args(argv)


async def cleanup(run_ids: list[str]) -> int:
    left_over = 0
    for run_id in run_ids:
        environment = BenchEnvironment(run_id=run_id)
        environment.vendors = Merchant.for_run(run_id).vendors
        environment.extra_queues = [f"{environment.namespace}.bench.baseline"]
        left = await environment.remove(attempts=2)
        say(f"run {run_id}: " + (f"could not remove the {' and '.join(left)}" if left else "removed"))
        left_over += bool(left)
    return left_over


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.cleanup:
        raise SystemExit(1 if asyncio.run(cleanup(args.cleanup)) else 0)
    bench = Bench(args)
    import uvloop

    async def guarded() -> dict[str, Any]:
        # SIGTERM (a timeout, a CI runner) cancels the run like Ctrl-C does, so the clean-up still runs.
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await bench.run()

    failure: str | None = None
    try:
        results = uvloop.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("stopped; the bench database and namespace were removed")
        raise SystemExit(130) from None
    except Exception as error:
        # What was measured before the failure is kept (and printed), marked as incomplete.
        failure = f"{type(error).__name__}: {error}"
        say(f"failed: {failure}")
        results = bench.results
        results["error"] = failure
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    sys.stdout.write(f"\nDropship Router bench ({results['mode']}), {machine_line(results)}\n\n")
    sys.stdout.write(text_table(rows(results)) + "\n\n" + details(results) + "\n")
    sys.stdout.write(f"\nresults: {out}   ({results.get('duration_s')} s)\n")
    for key, profile in (results.get("profiles") or {}).items():
        top = ", ".join(f"{name} {pct}%" for name, pct in profile["self_percent"][:3])
        sys.stdout.write(f"profile {key}: {profile['file']} (top self: {top})\n")
    if failure is not None:
        sys.stdout.write(f"INCOMPLETE: {failure}\n")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
