"""Fixtures for the ShipStation adapter's unit tests: the project's own export schema and examples.

Both live in the repository (``services/shipstation/schema/`` and ``tests/fixtures/shipstation/``), so
these tests run in any clone. Cross-checks against ShipStation's published schema are the
``reference`` tier (tests/reference).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.unit.shipstation.support import EXAMPLES_DIR, export_schema


@pytest.fixture(scope="session")
def custom_store_schema() -> etree.XMLSchema:
    """Our strict schema: every export page must pass it."""
    return export_schema()


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES_DIR
