"""The services' OpenAPI documents against the running services: each serves its own without auth, every
route is documented (and nothing else), and schemathesis, with real credentials and every check it has,
finds nothing on intake and the ShipStation adapter: no 5xx, no answer that departs from the document
(status code, content type, headers, body schema), no request the document calls invalid accepted, no
request it calls valid refused, auth enforced where it is declared."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, GenerationMode
from schemathesis import Case as GenericCase
from schemathesis.checks import CHECKS as CHECK_REGISTRY
from schemathesis.checks import CheckFunction, load_all_checks

from shared.countries import COUNTRIES_REQUIRING_STATE
from shared.openapi import service_document
from shared.service import Runtime
from shared.settings import ServiceName
from shared.throttle import AUTH_LIMITER_KEY
from tests.conftest import RunningSystem
from tests.support import basic_auth, order_payload, unique

SERVICES: tuple[ServiceName, ...] = ("intake", "splitter", "shipstation", "tracking")
load_all_checks()
CHECKS: list[CheckFunction] = [check for check in CHECK_REGISTRY.get_all() if not isinstance(check, type)]
"""Every check schemathesis has (``--checks all``). Its registry's type also admits check classes, which
it holds none of: the filter narrows the type, and the assertion below says nothing was dropped."""
assert len(CHECKS) == len(CHECK_REGISTRY.get_all()), "a schemathesis check is a class now: run it too"
Case = GenericCase[APIOperation[Any, Any, Any, Any]]
Adjustment = Callable[[Case, bool], Case]
EXAMPLES_PER_OPERATION = 25
"""Enough to reach every documented answer of every operation; the whole run stays well under a minute."""


@pytest.mark.parametrize("service", SERVICES)
async def test_each_service_serves_its_document_without_auth(system: RunningSystem, service: ServiceName) -> None:
    async with system.api.session.get(system.url(service) + "/openapi.json") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == service_document(service)


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_is_documented_and_nothing_else(system: RunningSystem, service: ServiceName) -> None:
    runtime = getattr(system, service)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in runtime.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {
        (method, path) for path, operations in service_document(service)["paths"].items() for method in operations
    }
    assert served == documented


@contextlib.contextmanager
def _no_auth_throttle(*runtimes: Runtime) -> Iterator[None]:
    """The failed-authentication throttle off while fuzzing. Excluded for a reason: ``ignored_auth``
    probes every operation without credentials and with wrong ones, all from 127.0.0.1, and after 20 of
    those within a minute the throttle rightly answers 429 to everything, documented and therefore
    passing every check while hiding every other answer. The throttle is tested on its own
    (test_hostile_input.py)."""
    limiters = [runtime.app[AUTH_LIMITER_KEY] for runtime in runtimes]
    limits = [limiter.limit for limiter in limiters]
    for limiter in limiters:
        limiter.limit = 0
    try:
        yield
    finally:
        for limiter, limit in zip(limiters, limits, strict=True):
            limiter.limit = limit


def _applying(tweak: Adjustment) -> Callable[[tuple[Case, bool]], Case]:
    return lambda drawn: tweak(*drawn)


def _run_schemathesis(
    document: dict[str, Any],
    base_url: str,
    headers_for: Callable[[str], dict[str, str]],
    adjust: Callable[[str], Adjustment | None],
) -> tuple[list[str], dict[str, set[int]]]:
    """Fuzz every operation of ``document`` (valid and invalid data); answers the failures found and
    the status codes each operation answered.

    ``adjust(label)`` may change each generated case (it gets a fair coin to decide with).

    Runs in a thread of its own: ``requests`` blocks, and the services answer on the test's event loop.
    """
    schema = schemathesis.openapi.from_dict(document)
    session = requests.Session()
    failures: list[str] = []
    answered: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid document raises right here
        headers = headers_for(operation.label)
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
            operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
        )
        tweak = adjust(operation.label)
        if tweak is not None:
            strategy = st.tuples(strategy, st.booleans()).map(_applying(tweak))

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk at length
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Case) -> None:
            response = case.call(base_url=base_url, session=session, timeout=15)
            answered.setdefault(case.operation.label, set()).add(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as error:  # schemathesis reports failures as a BaseExceptionGroup
            failures.append(f"{operation.label}: {error}")
    session.close()
    return failures, answered


def _is_positive(case: Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


def _meet_the_rules_a_schema_cannot_say(body: dict[str, Any], channel: str) -> None:
    """An order is refused with 422 for what no JSON schema can express: a channel that does not exist,
    discounts above the subtotal, line ids used twice, a state missing where the country needs one."""
    body.update(channel=channel, discounts=[])
    lines = body.get("lines")
    for index, line in enumerate(lines if isinstance(lines, list) else []):
        if isinstance(line, dict) and "line_id" in line:
            line["line_id"] = f"L{index}"
    ship_to = body.get("ship_to")
    if isinstance(ship_to, dict) and ship_to.get("country") in COUNTRIES_REQUIRING_STATE and not ship_to.get("state"):
        ship_to["state"] = "XX"


# Schemathesis' own strategies touch the global random module, which Hypothesis merely warns about.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_schemathesis_finds_nothing_on_intake(system: RunningSystem) -> None:
    api = system.api
    channel = unique("fuzz-")
    await api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": "Fuzzed"})
    order = await api.ok("POST", "intake", "/v1/orders", order_payload(channel, [("FUZZ-SKU", 1, "10.00")]))
    # The admin token on every operation: it acts for any channel, and a fuzzed key rotation cannot lock
    # the run out (nor count failed authentications against 127.0.0.1).
    admin = {"Authorization": f"Bearer {system.env.admin_token}"}

    def real_ids(case: Case, coin: bool) -> Case:
        """Every valid order meets the rules a schema cannot say, and half the valid cases aim at things
        that exist, so the 2xx answers are checked too. Invalid cases stay as generated: changing one
        could make it valid, and it would then be rightly accepted."""
        if not _is_positive(case):
            return case
        if isinstance(case.body, dict) and case.operation.label == "POST /v1/orders":
            _meet_the_rules_a_schema_cannot_say(case.body, channel)
        if not coin:
            return case
        if "order_id" in case.path_parameters:
            case.path_parameters["order_id"] = order["id"]
        if "code" in case.path_parameters:
            case.path_parameters["code"] = channel
        return case

    started = time.perf_counter()
    with _no_auth_throttle(system.intake):
        failures, answered = await asyncio.to_thread(
            _run_schemathesis, service_document("intake"), system.url("intake"), lambda _: admin, lambda _: real_ids
        )
    assert failures == [], "\n\n".join(failures)
    # The fuzzing got past validation to the answers that matter, so their bodies were checked too.
    reached = {label: min(codes) for label, codes in answered.items()}
    assert reached["POST /v1/orders"] < 300 and reached["GET /v1/orders/{order_id}"] == 200, answered
    assert 202 in answered["POST /v1/orders/{order_id}/cancel"], answered
    assert time.perf_counter() - started < 60


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_schemathesis_finds_nothing_on_the_shipstation_adapter(system: RunningSystem) -> None:
    api = system.api
    vendor, spare = unique("fuzz-ss-"), unique("fuzz-spare-")
    for code in (vendor, spare):
        await api.ok("PUT", "splitter", f"/v1/vendors/{code}", {"name": "Fuzzed", "kind": "shipstation"})
    credentials = await api.ok("POST", "shipstation", f"/v1/shipstation/{vendor}/credentials")
    await api.ok("POST", "shipstation", f"/v1/shipstation/{spare}/credentials")
    shipstation_auth = basic_auth(credentials["username"], credentials["password"])
    admin = {"Authorization": f"Bearer {system.env.admin_token}"}

    def headers_for(label: str) -> dict[str, str]:
        return shipstation_auth if label.endswith("/shipstation/{vendor}") else admin

    def the_vendor(case: Case, coin: bool) -> Case:
        # Always the vendor whose credentials are sent: another vendor's 401 would count as a failed
        # login from 127.0.0.1, and enough of those lock the suite out.
        case.path_parameters["vendor"] = vendor
        if not _is_positive(case) or not isinstance(case.query, dict):
            return case
        if coin and case.method == "GET":
            # Half the GETs are exports of a window with orders in it, so that the XML answer is checked too.
            case.query.update(action="export", start_date="01/01/2026 00:00", end_date="12/31/2099 23:59")
        elif str(case.query.get("action", "")).lower() == "shipnotify":
            # What the document cannot say either: a notice must name its order, in the query or the XML.
            case.query.setdefault("order_number", "FUZZ-1")
        elif str(case.query.get("action", "")).lower() == "export":
            # What one document cannot say: an export needs start_date and end_date (shipnotify has
            # neither), on a day that exists, the start not after the end. Those refusals are covered
            # by the hostile-input tests.
            case.query.update(start_date="11/30/2026 00:00", end_date="11/30/2026 23:59")
        return case

    def the_spare(case: Case, coin: bool) -> Case:
        # Half the admin operations on a real vendor; not the fuzzed one, whose password must stay.
        if coin:
            case.path_parameters["vendor"] = spare
        if _is_positive(case) and isinstance(case.body, dict) and isinstance(case.body.get("timezone"), str):
            # The IANA names the machine's tzdata knows are not in the document (it would differ by machine).
            case.body["timezone"] = "America/Chicago"
        return case

    def adjust(label: str) -> Adjustment | None:
        if label.endswith(" /shipstation/{vendor}"):
            return the_vendor
        return the_spare if "{vendor}" in label else None

    document = service_document("shipstation")
    started = time.perf_counter()
    with _no_auth_throttle(system.shipstation):
        failures, answered = await asyncio.to_thread(
            _run_schemathesis, document, system.url("shipstation"), headers_for, adjust
        )
    assert failures == [], "\n\n".join(failures)
    assert 200 in answered["GET /shipstation/{vendor}"] and 200 in answered["POST /shipstation/{vendor}"], answered
    assert 201 in answered["POST /v1/shipstation/{vendor}/credentials"], answered
    assert 200 in answered["PUT /v1/shipstation/{vendor}/settings"], answered
    assert time.perf_counter() - started < 60


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_schemathesis_finds_nothing_on_the_splitter_and_tracking(system: RunningSystem) -> None:
    api = system.api
    vendor = unique("fuzz-v-")
    await api.ok("PUT", "splitter", f"/v1/vendors/{vendor}", {"name": "Fuzzed", "kind": "webhook"})
    channel = unique("fuzz-")
    await api.ok("PUT", "intake", f"/v1/channels/{channel}", {"name": "Fuzzed"})
    order = await api.ok("POST", "intake", "/v1/orders", order_payload(channel, [("FUZZ-SKU", 1, "10.00")]))
    admin = {"Authorization": f"Bearer {system.env.admin_token}"}

    def real_things(case: Case, coin: bool) -> Case:
        """Valid catalog entries name a vendor that exists, each once (what a schema cannot say); half
        the valid cases aim at an order and a vendor that exist, so the 2xx answers are checked too."""
        if not _is_positive(case):
            return case
        drawn = case.body.get("sources") if isinstance(case.body, dict) else None
        if isinstance(case.body, dict) and isinstance(drawn, list):
            sources = [source for source in drawn if isinstance(source, dict)]
            case.body["sources"] = [{**source, "vendor": vendor} for source in sources[:1]]
        items = case.body.get("items") if isinstance(case.body, dict) else None
        if isinstance(items, list):
            # A stock item names a product, by the vendor's SKU or ours (one or the other: no schema says so).
            for item in items:
                if isinstance(item, dict) and not item.get("sku") and not item.get("vendor_sku"):
                    item["sku"] = "FUZZ-SKU"
        if isinstance(case.query, dict) and "cursor" in case.query:
            del case.query["cursor"]  # a cursor is one a page answered (fuzzed in test_catalog_admin.py)
        if case.path.endswith("/release") and isinstance(case.body, dict):
            case.body["overrides"] = {}  # an override names a line of the order (422 otherwise: documented)
        if case.path == "/v1/catalog:import":
            case.body = "sku,vendor\nFUZZ-SKU,nobody\n"  # a CSV file with a header (fuzzed there too)
        if coin and "order_id" in case.path_parameters:
            case.path_parameters["order_id"] = order["id"]
        if coin and "code" in case.path_parameters and case.method == "GET":
            case.path_parameters["code"] = vendor
        return case

    started = time.perf_counter()
    for service in ("splitter", "tracking"):
        with _no_auth_throttle(getattr(system, service)):
            failures, answered = await asyncio.to_thread(
                _run_schemathesis,
                service_document(service),
                system.url(service),
                lambda _: admin,
                lambda _: real_things,
            )
        assert failures == [], "\n\n".join(failures)
        assert any(code < 300 for codes in answered.values() for code in codes), (service, answered)
    assert time.perf_counter() - started < 90
