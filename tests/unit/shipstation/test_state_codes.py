"""US and Canadian states written out in full become the two-letter codes ShipStation's carriers expect."""

from __future__ import annotations

import pytest

from services.shipstation.state_codes import us_ca_state_code


@pytest.mark.parametrize(
    ("country", "state", "expected"),
    [
        ("US", "Illinois", "IL"),
        ("US", "ILLINOIS", "IL"),
        ("us", "  new   york ", "NY"),
        ("US", "District of Columbia", "DC"),
        ("US", "Washington, D.C.", "DC"),
        ("US", "Washington", "WA"),
        ("US", "Puerto Rico", "PR"),
        ("US", "Armed Forces Europe", "AE"),
        ("US", "il", "IL"),
        ("US", "IL", "IL"),
        ("US", "Ill.", "Ill."),
        ("US", "Rhode &amp; Island", "Rhode & Island"),
        ("CA", "Québec", "QC"),
        ("CA", "QUÉBEC", "QC"),
        ("CA", "Quebec", "QC"),
        ("CA", "Que\u0301bec", "QC"),
        ("CA", "Ontario", "ON"),
        ("CA", "Newfoundland and Labrador", "NL"),
        ("CA", "Prince Edward Island", "PE"),
        ("CA", "Île-du-Prince-Édouard", "PE"),
        ("CA", "Northwest Territories", "NT"),
        ("CA", "qc", "QC"),
        ("CA", "Illinois", "Illinois"),
        ("US", "Ontario", "Ontario"),
        ("DE", "Bayern", "Bayern"),
        ("MX", "Jalisco", "Jalisco"),
        ("GB", " Greater\x00 London ", "Greater London"),
        ("AU", "nsw", "nsw"),
        ("US", None, None),
        ("US", "   ", None),
        (None, "Texas", "Texas"),
    ],
)
def test_us_ca_state_code(country: str | None, state: str | None, expected: str | None) -> None:
    assert us_ca_state_code(country, state) == expected
