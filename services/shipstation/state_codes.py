"""US states and Canadian provinces as the two-letter codes ShipStation's carriers expect.

Stores send ``Illinois``, ``QUÉBEC`` or ``new   york``; ShipStation's ``ShipTo/State`` should carry
``IL``, ``QC``, ``NY`` (other countries' states go out as written, only cleaned).
"""

from __future__ import annotations

import re
import unicodedata

from shared.text import clean_text

_SEPARATORS = re.compile(r"[\s.,'\u2019-]+")


def _fold_name(name: str) -> str:
    without_accents = "".join(char for char in unicodedata.normalize("NFKD", name) if unicodedata.combining(char) == 0)
    return _SEPARATORS.sub(" ", without_accents.casefold()).strip()


_US_STATES: dict[str, str] = {
    "alabama": "AL",
    "alaska": "AK",
    "arizona": "AZ",
    "arkansas": "AR",
    "california": "CA",
    "colorado": "CO",
    "connecticut": "CT",
    "delaware": "DE",
    "district of columbia": "DC",
    "washington dc": "DC",
    "washington d c": "DC",
    "florida": "FL",
    "georgia": "GA",
    "hawaii": "HI",
    "idaho": "ID",
    "illinois": "IL",
    "indiana": "IN",
    "iowa": "IA",
    "kansas": "KS",
    "kentucky": "KY",
    "louisiana": "LA",
    "maine": "ME",
    "maryland": "MD",
    "massachusetts": "MA",
    "michigan": "MI",
    "minnesota": "MN",
    "mississippi": "MS",
    "missouri": "MO",
    "montana": "MT",
    "nebraska": "NE",
    "nevada": "NV",
    "new hampshire": "NH",
    "new jersey": "NJ",
    "new mexico": "NM",
    "new york": "NY",
    "north carolina": "NC",
    "north dakota": "ND",
    "ohio": "OH",
    "oklahoma": "OK",
    "oregon": "OR",
    "pennsylvania": "PA",
    "rhode island": "RI",
    "south carolina": "SC",
    "south dakota": "SD",
    "tennessee": "TN",
    "texas": "TX",
    "utah": "UT",
    "vermont": "VT",
    "virginia": "VA",
    "washington": "WA",
    "west virginia": "WV",
    "wisconsin": "WI",
    "wyoming": "WY",
    # Territories and military "states" that US carriers address like states.
    "american samoa": "AS",
    "guam": "GU",
    "northern mariana islands": "MP",
    "puerto rico": "PR",
    "virgin islands": "VI",
    "us virgin islands": "VI",
    "u s virgin islands": "VI",
    "united states virgin islands": "VI",
    "united states minor outlying islands": "UM",
    "federated states of micronesia": "FM",
    "micronesia": "FM",
    "marshall islands": "MH",
    "palau": "PW",
    "armed forces americas": "AA",
    "armed forces europe": "AE",
    "armed forces africa": "AE",
    "armed forces canada": "AE",
    "armed forces middle east": "AE",
    "armed forces pacific": "AP",
}

_CANADIAN_PROVINCES: dict[str, str] = {
    "alberta": "AB",
    "british columbia": "BC",
    "colombie britannique": "BC",
    "manitoba": "MB",
    "new brunswick": "NB",
    "nouveau brunswick": "NB",
    "newfoundland and labrador": "NL",
    "newfoundland & labrador": "NL",
    "newfoundland": "NL",
    "terre neuve et labrador": "NL",
    "nova scotia": "NS",
    "nouvelle ecosse": "NS",
    "northwest territories": "NT",
    "territoires du nord ouest": "NT",
    "nunavut": "NU",
    "ontario": "ON",
    "prince edward island": "PE",
    "ile du prince edouard": "PE",
    "quebec": "QC",
    "saskatchewan": "SK",
    "yukon": "YT",
    "yukon territory": "YT",
}

_STATE_CODES_BY_COUNTRY: dict[str, dict[str, str]] = {
    "US": _US_STATES,
    "CA": _CANADIAN_PROVINCES,
}

STATE_FIELD_LIMIT = 100


def us_ca_state_code(country: str | None, state: str | None) -> str | None:
    """The two-letter code for a US state or Canadian province written out in full.

    Names match case-insensitively and without accents ("Québec", "QUEBEC", "quebec" → ``QC``). Known
    codes are upper-cased; anything else, and every other country's state, comes back only cleaned.
    """
    cleaned = clean_text(state, STATE_FIELD_LIMIT)
    if cleaned is None:
        return None
    country_code = (clean_text(country, 10) or "").upper()
    names_to_codes = _STATE_CODES_BY_COUNTRY.get(country_code)
    if names_to_codes is None:
        return cleaned
    folded = _fold_name(cleaned)
    code = names_to_codes.get(folded)
    if code is not None:
        return code
    upper = folded.replace(" ", "").upper()
    if len(upper) == 2 and upper in names_to_codes.values():
        return upper
    return cleaned
