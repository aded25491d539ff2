"""Fitting free text into a vendor's format: what every vendor edge does to names, addresses and notes.

Channels hand us text as their stores hold it: HTML entities (``Acme &amp; Sons``), decomposed
accents, control characters pasted from spreadsheets, fields longer than any vendor format accepts.
Intake takes it as sent; each vendor edge (ShipStation's XML, a CSV file, an X12 element) fits it to
its own limits with :func:`clean_text`. Pure: no I/O.
"""

from __future__ import annotations

import html
import re
import unicodedata

_ZERO_WIDTH_JOINER = "\u200d"

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
    """Fit ``value`` to a text field of at most ``limit`` characters; ``None`` if nothing is left.

    Safe for XML 1.0, the strictest of the vendor formats, and so for CSV and X12 as well: HTML
    entities are decoded exactly once, characters XML cannot carry (C0 controls but tab, CR and LF;
    lone surrogates; U+FFFE/U+FFFF) dropped, the text normalised to NFC, stripped and truncated by
    characters (never bytes).
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
