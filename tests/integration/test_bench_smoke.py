"""``make bench`` cannot rot: its entry point runs every section with tiny sizes (``--smoke``) against
the real broker and database, in its own database and namespace, and writes a complete results file.

What is asserted are the figures that must hold at any speed: every order sent is accepted and becomes
exportable exactly once (nothing lost, nothing doubled: two vendor orders per order, no more), every
ship notice reaches the channel, every vendor order for the gateway's webhook and SFTP vendors reached
its vendor (as many delivered as were created, and as many created as orders accepted), every Shopify
webhook became one intake order and every shipment one fulfillment, also across the platform's outage
(none lost, none doubled, the backlog empty after its return), throughput is
above zero, and each latency summary counts its samples and has p50 <= p95 <= p99 <= max. Targets are
not asserted: a few seconds on a shared machine say nothing about speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from numbers import Real
from pathlib import Path
from typing import Any

import pytest

from shared.runner import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def _number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _latencies(summary: dict[str, Any], count: int) -> None:
    """A latency summary of ``count`` samples: every percentile there, none negative, in order."""
    assert summary["count"] == count, summary
    values = [summary[key] for key in ("p50", "p95", "p99", "max")]
    assert all(_number(value) for value in values), summary
    assert 0 <= values[0] <= values[1] <= values[2] <= values[3], summary


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench") / "latest.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, f"bench --smoke failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    assert "met" in done.stdout and "target" in done.stdout, done.stdout
    loaded: dict[str, Any] = json.loads(out.read_text())
    assert "error" not in loaded, loaded["error"]
    return loaded


def test_machine_is_described(results: dict[str, Any]) -> None:
    machine = results["machine"]
    assert _number(machine["cores"]) and machine["cores"] >= 1
    assert _number(machine["memory_mb"]) and machine["memory_mb"] > 0
    assert machine["cpu_model"]


def test_baselines_have_numbers(results: dict[str, Any]) -> None:
    broker, database = results["baselines"]["broker"], results["baselines"]["database"]
    for key in ("publish_per_s", "consume_per_s", "hop_per_s", "message_bytes"):
        assert _number(broker[key]) and broker[key] > 0, key
    for key in ("commits_per_s", "commits_per_s_one_connection"):
        assert _number(database[key]) and database[key] > 0, key


def test_every_order_sent_became_exportable_once(results: dict[str, Any]) -> None:
    steady = results["steady"]
    sent = steady["orders"]
    assert sent == round(results["sizes"]["steady_rate"] * results["sizes"]["steady_seconds"]) > 0, steady
    assert steady["accepted"] == steady["exportable"] == sent and steady["errors"] == {}, steady
    # Each order is split into exactly two vendor orders (one per vendor): a third would be a double.
    hops = steady["hops_s"]
    assert "error" not in hops, hops
    for hop in ("splitter_to_relay", "relay_to_adapter", "total"):
        assert hops[hop]["count"] == 2 * sent, (hop, hops[hop])


def test_throughput_and_latency_figures(results: dict[str, Any]) -> None:
    steady = results["steady"]
    assert _number(steady["completed_per_s"]) and steady["completed_per_s"] > 0, steady
    for key in ("send_to_201_s", "201_to_exportable_s", "send_to_exportable_s"):
        _latencies(steady[key], steady["orders"])
    throughput = results["throughput"]
    assert _number(throughput["sustained_per_s"]) and throughput["sustained_per_s"] >= 0
    assert _number(throughput["ratio_to_broker_hop"])
    assert throughput["steps"], throughput
    for step in throughput["steps"]:
        assert step["accepted"] == step["exportable"] == step["orders"] > 0 and step["errors"] == {}, step
        assert _number(step["completed_per_s"]) and step["completed_per_s"] > 0, step
        _latencies(step["send_to_exportable_s"], step["orders"])


def test_export_walked_the_whole_window(results: dict[str, Any]) -> None:
    export = results["export"]
    assert export["seed"]["rows"] == results["sizes"]["stored_vendor_orders"]
    assert export["window_orders_exported"] == export["window_orders_expected"] == results["sizes"]["window_orders"]
    assert export["poll_window"]["orders"] == results["sizes"]["poll_orders"]
    _latencies(export["poll_page_s"], results["sizes"]["page_repeats"])
    _latencies(export["window_pages_s"], export["window"]["pages"])
    assert _number(export["window_total_s"]) and _number(export["adapter_rss_mb"]["peak"])


def test_ship_notices_reached_the_channel(results: dict[str, Any]) -> None:
    notices = results["notices"]
    step = notices["steps"][0]
    assert step["accepted"] == step["notices"] > 0 and step["webhooks_arrived"] == step["notices"], step
    assert step["errors"] == {} and step["accepted_per_s"] > 0, step
    assert _number(notices["sustained_per_s"])
    _latencies(step["notice_to_200_s"], step["notices"])
    _latencies(step["notice_to_webhook_s"], step["notices"])


def test_gateway_delivered_every_vendor_order(results: dict[str, Any]) -> None:
    gateway = results["gateway"]
    sent = gateway["orders"]
    assert sent == round(results["sizes"]["gateway_rate"] * results["sizes"]["gateway_seconds"]) > 0, gateway
    assert gateway["accepted"] == sent and gateway["errors"] == {}, gateway
    for transport in ("webhook", "sftp"):
        figures = gateway[transport]
        # One vendor order per order for each vendor, each seen arriving at the vendor's own server.
        assert figures["vendor_orders"] == figures["delivered"] == sent, (transport, figures)
        assert _number(figures["delivered_per_s"]) and figures["delivered_per_s"] > 0, (transport, figures)
        _latencies(figures["created_to_delivered_s"], sent)
    assert gateway["webhook"]["requests"] >= sent


def test_channels_took_every_webhook_and_fulfilled_every_shipment_once(results: dict[str, Any]) -> None:
    shop = results["channels"]
    sent = results["sizes"]["channels_orders"]
    assert shop["orders"] == sent > 0, shop
    hooks = shop["webhooks"]
    assert hooks["answered_200"] == hooks["sent"] == sent and hooks["errors"] == {}, hooks
    assert hooks["tasks"]["done"] == sent and hooks["tasks"]["failed"] == hooks["tasks"]["pending"] == 0, hooks
    assert hooks["intake"] == {"orders": sent, "of_these": sent}, hooks
    _latencies(hooks["answer_s"], sent)
    _latencies(hooks["tasks"]["created_to_done_s"], sent)
    figures = shop["fulfillments"]
    assert figures["shipments"] == figures["orders"] == figures["fulfilled_once"] == sent, figures
    assert figures["duplicates"] == figures["lost"] == 0 and figures["per_s"] > 0, figures
    _latencies(figures["tasks"]["created_to_done_s"], sent)
    outage = shop["outage"]
    later = sent // 4
    # The platform was down for the whole outage and refused what was pushed meanwhile: the backlog held
    # every shipment of the batch, then emptied once it was back, with one fulfillment per order.
    assert outage["orders"] == outage["shipments_published"] == later > 0, outage
    assert outage["platform_down_s"] >= results["sizes"]["channels_outage_seconds"], outage
    assert outage["platform_503s"] > 0 and outage["backlog_peak"]["shipment"] == later, outage
    assert _number(outage["drained_after_return_s"]) and outage["failed_tasks"] == 0, outage
    assert outage["fulfilled_once"] == later and outage["duplicates"] == outage["lost"] == 0, outage
    assert outage["webhook_tasks"]["done"] == outage["shipment_tasks"]["done"] == later, outage
    assert shop["all_orders"]["fulfilled_once"] == sent + later and shop["intake_orders_at_end"] == sent + later


def test_memory_of_every_service(results: dict[str, Any]) -> None:
    memory = results["memory"]["during_steady"]
    assert set(memory) == set(SERVICES)
    assert all(_number(value) and value > 0 for value in memory.values())


def test_services_stopped_cleanly(results: dict[str, Any]) -> None:
    assert results["exit_codes"] == dict.fromkeys(SERVICES, 0)


def test_the_x12_codec_is_measured_beside_its_baselines(results: dict[str, Any]) -> None:
    codec = results["x12"]
    for rate in ("rendered_850_per_s", "render_baseline_per_s", "read_856_per_s", "read_baseline_per_s"):
        assert _number(codec[rate]) and codec[rate] > 0, (rate, codec)
    ratio = codec["rendered_850_per_s"] / codec["render_baseline_per_s"]
    assert abs(codec["render_ratio"] - ratio) < 0.005, codec
    assert codec["bytes_per_856"] > 0
