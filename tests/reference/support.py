"""What the reference tier shares: the variable that names the reference folder, and how a document
is prepared for ShipStation's published schema."""

from __future__ import annotations

from lxml import etree

REFERENCE_ENV = "DROPSHIP_REFERENCE_DIR"
"""Names the reference folder; without it tests/conftest.py deselects the ``reference`` tier."""

# Elements ShipStation documents but its published XSD does not know yet.
UNDOCUMENTED_IN_PUBLISHED_XSD = ("CurrencyCode", "UPC", "Dimensions")


def without_undocumented_elements(document: bytes) -> etree._ElementTree:
    """The document minus what the published XSD lags behind on, ready for ``published_schema``."""
    root = etree.fromstring(document)
    for name in UNDOCUMENTED_IN_PUBLISHED_XSD:
        for element in list(root.iter(name)):
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)
    return etree.ElementTree(root)
