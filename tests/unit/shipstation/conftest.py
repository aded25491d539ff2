"""Fixtures for the ShipStation adapter's unit tests: the reference schemas and examples.

The reference folder (``shared`` beside the repository root, read-only) holds ShipStation's schemas;
``DROPSHIP_REFERENCE_DIR`` points elsewhere when the checkout lives somewhere else.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from tests.unit.shipstation.support import reference_dir


@pytest.fixture(scope="session")
def shipstation_reference_dir() -> Path:
    folder = reference_dir() / "shipstation"
    if not folder.is_dir():
        if os.environ.get("DROPSHIP_REFERENCE_DIR"):
            pytest.fail(f"DROPSHIP_REFERENCE_DIR has no shipstation/ folder: {folder}")
        pytest.skip(f"reference material not found at {folder}; set DROPSHIP_REFERENCE_DIR")
    return folder


def _load_schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


@pytest.fixture(scope="session")
def custom_store_schema(shipstation_reference_dir: Path) -> etree.XMLSchema:
    """Our strict reading of ShipStation's schema: every export page must pass it."""
    return _load_schema(shipstation_reference_dir / "custom-store.xsd")


@pytest.fixture(scope="session")
def published_schema(shipstation_reference_dir: Path) -> etree.XMLSchema:
    """ShipStation's own schema; pass it documents through ``without_undocumented_elements``."""
    return _load_schema(shipstation_reference_dir / "published-shipstation.xsd")


@pytest.fixture(scope="session")
def examples_dir(shipstation_reference_dir: Path) -> Path:
    return shipstation_reference_dir / "examples"
