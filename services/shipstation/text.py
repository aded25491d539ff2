"""Text hygiene for everything we write into ShipStation's export XML.

Stores hand us text with HTML entities (``Acme &amp; Sons``), decomposed accents, control characters
pasted from spreadsheets and fields longer than ShipStation accepts. One bad character or one field too
long fails ShipStation's whole import, so every text field passes through :func:`clean_text` first.
US and Canadian states are also turned into the two-letter codes ShipStation's carriers expect.
"""

from __future__ import annotations

import html
import re
import unicodedata

_ZERO_WIDTH_JOINER = "\u200d"
_SEPARATORS = re.compile(r"[\s.,'\u2019-]+")


# Anything outside the XML 1.0 Char production makes the document unparseable. One regex pass instead
# of a Python test per character: this runs for every text field of every exported order.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _continues_previous_character(char: str) -> bool:
    # Cutting before one of these would split what a reader sees as one character (an accent from its
    # letter, half of an emoji sequence); a slightly shorter field is better than a mangled last glyph.
    return (
        unicodedata.combining(char) != 0
        or char == _ZERO_WIDTH_JOINER
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
    )


def truncate_characters(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters (code points, as XSD ``maxLength`` counts them)."""
    if len(text) <= limit:
        return text
    cut = limit
    while cut > 0 and (_continues_previous_character(text[cut]) or text[cut - 1] == _ZERO_WIDTH_JOINER):
        cut -= 1
    return text[: cut if cut > 0 else limit]


def clean_text(value: str | None, limit: int) -> str | None:
    """Make ``value`` safe for an XML text field of at most ``limit`` characters; ``None`` if empty.

    HTML entities are decoded exactly once, forbidden XML characters dropped, the text normalised to
    NFC, stripped and truncated by characters (never bytes).
    """
    if value is None:
        return None
    unescaped = html.unescape(value)
    # Dropped before normalising: a control character between a letter and its accent would otherwise
    # block composition and leave a decomposed pair behind once it is gone.
    allowed = _NOT_XML_CHAR.sub("", unescaped)
    normalised = unicodedata.normalize("NFC", allowed).strip()
    truncated = truncate_characters(normalised, limit).rstrip()
    return truncated or None


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
