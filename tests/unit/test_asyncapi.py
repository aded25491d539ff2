"""The committed AsyncAPI document is what the code generates: it cannot drift from the contracts."""

from __future__ import annotations

import json
from pathlib import Path

from shared.asyncapi import DOCUMENTED_QUEUES, build_document
from shared.messaging.subscriptions import PUBLICATIONS

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


def test_committed_asyncapi_document_is_current() -> None:
    committed = json.loads(DOCUMENT.read_text())
    assert committed == build_document(), "docs/asyncapi.json is stale: run `make asyncapi` and commit it"


def test_document_names_every_event_and_queue() -> None:
    document = build_document()
    channels = set(document["channels"])
    assert {p.event.event_type for p in PUBLICATIONS} <= channels
    assert {spec.name for spec in DOCUMENTED_QUEUES} <= channels
    schemas = document["components"]["schemas"]
    for publication in PUBLICATIONS:
        envelope = schemas[publication.event.__name__]
        for field in ("message_id", "type", "schema_version", "occurred_at", "correlation_id", "causation_id"):
            assert field in envelope["properties"], (publication.event.__name__, field)
