"""The ``reference`` tier: cross-checks against the reference folder named by ``DROPSHIP_REFERENCE_DIR``
(ShipStation's schemas and examples). The folder is not part of the project; without the variable
tests/conftest.py deselects this tier, and with it every file these tests read must be there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from tests.reference.support import REFERENCE_ENV

REQUIRED_FILES = (
    "shipstation/custom-store.xsd",
    "shipstation/published-shipstation.xsd",
    "shipstation/examples/export-page.xml",
    "shipstation/examples/shipnotice-partial.xml",
)


@pytest.fixture(scope="session")
def reference_folder() -> Path:
    """``$DROPSHIP_REFERENCE_DIR``, with every file the tier reads (a test fails at once otherwise)."""
    value = os.environ.get(REFERENCE_ENV)
    if not value:
        pytest.fail(f"the reference tier needs {REFERENCE_ENV}; tests/conftest.py should have deselected it")
    folder = Path(value)
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        pytest.fail(f"{REFERENCE_ENV}={value} lacks {', '.join(missing)}", pytrace=False)
    return folder


@pytest.fixture(scope="session")
def reference_strict_schema(reference_folder: Path) -> etree.XMLSchema:
    """The reference folder's strict reading of ShipStation's export schema."""
    return etree.XMLSchema(etree.parse(str(reference_folder / "shipstation" / "custom-store.xsd")))


@pytest.fixture(scope="session")
def published_schema(reference_folder: Path) -> etree.XMLSchema:
    """ShipStation's own published schema; pass it documents through ``without_undocumented_elements``."""
    return etree.XMLSchema(etree.parse(str(reference_folder / "shipstation" / "published-shipstation.xsd")))


@pytest.fixture(scope="session")
def reference_examples(reference_folder: Path) -> Path:
    return reference_folder / "shipstation" / "examples"
