"""Element values both ways: our text, money and dates written as X12 elements, and a partner's
elements read back as numbers and dates.

X12 has no escape character, so a separator inside our data would break the document: text is
transliterated to ASCII (NFKD, plus the letters NFKD cannot decompose), the separators and control
characters in it become spaces, the basic character set is uppercased, and the value is cut to the
element's maximum length. An order is never refused for its text. Pure: standard library only.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from services.gateway.x12.settings import Delimiters

_NO_DECOMPOSITION = str.maketrans(
    {
        "\u00df": "ss", "\u1e9e": "SS", "\u00c6": "AE", "\u00e6": "ae", "\u00d8": "O", "\u00f8": "o",
        "\u0152": "OE", "\u0153": "oe", "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d",
        "\u00d0": "D", "\u00f0": "d", "\u00de": "TH", "\u00fe": "th", "\u0131": "i", "\u20ac": "EUR",
        "\u2018": "'", "\u2019": "'", "\u201a": ",", "\u201c": '"', "\u201d": '"', "\u201e": '"',
        "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u00d7": "x",
    }
)  # fmt: skip
"""Letters and signs NFKD leaves whole (sharp s, ligatures, stroked letters, typographic quotes and
dashes): written as their usual ASCII spelling instead of being dropped."""

BASIC_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !\"&'()*+,-./:;?=")
"""The X12 basic character set (uppercase letters, digits, space and these special characters)."""

_SPACES = re.compile(r"\s+")


def clean_text(value: str | None, delimiters: Delimiters, *, charset: str = "extended", limit: int = 80) -> str:
    """``value`` as a safe element: printable ASCII, no delimiter, at most ``limit`` characters; may be
    empty when nothing printable is left (an emoji-only name)."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKD", html.unescape(value).translate(_NO_DECOMPOSITION))
    ascii_text = text.encode("ascii", "ignore").decode("ascii")
    forbidden = {delimiters.element, delimiters.segment, delimiters.component}
    if delimiters.repetition is not None:
        forbidden.add(delimiters.repetition)
    if charset == "basic":
        ascii_text = ascii_text.upper()
        kept = "".join(char if char in BASIC_CHARACTERS and char not in forbidden else " " for char in ascii_text)
    else:
        kept = "".join(char if char.isprintable() and char not in forbidden else " " for char in ascii_text)
    return _SPACES.sub(" ", kept).strip()[:limit].rstrip()


def format_decimal(value: Decimal) -> str:
    """An X12 ``R`` (decimal) value: plain digits, no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def format_date(moment: date | datetime) -> str:
    """CCYYMMDD; a datetime is taken in UTC first."""
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    return day.strftime("%Y%m%d")


def format_time(moment: datetime) -> str:
    """HHMM in UTC."""
    return moment.astimezone(UTC).strftime("%H%M")


def parse_date(value: str) -> date | None:
    """CCYYMMDD or YYMMDD (the ISA's form, read as 20YY); ``None`` for anything else."""
    if not value.isdigit() or len(value) not in (6, 8):
        return None
    digits = value if len(value) == 8 else "20" + value
    try:
        return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def parse_time(value: str) -> time | None:
    """HHMM, HHMMSS or HHMMSSd..: the forms X12 ``TM`` elements take; ``None`` for anything else."""
    digits = value[:6]
    if not digits.isdigit() or len(digits) not in (4, 6):
        return None
    try:
        return time(int(digits[0:2]), int(digits[2:4]), int(digits[4:6]) if len(digits) == 6 else 0)
    except ValueError:
        return None


def parse_datetime(day: str, clock: str = "") -> datetime | None:
    """A date element and an optional time element as an aware UTC datetime (X12 times carry no zone
    unless a time code says so; partners send UTC or their own and we take them as UTC)."""
    parsed_day = parse_date(day)
    if parsed_day is None:
        return None
    parsed_time = parse_time(clock) if clock else time(0, 0)
    return datetime.combine(parsed_day, parsed_time or time(0, 0), tzinfo=UTC)


def parse_decimal(value: str) -> Decimal | None:
    """An ``R`` value (``12``, ``12.5``, ``-3``, ``.5``); ``None`` when it is not a finite number."""
    if not value or not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", value):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_quantity(value: str) -> int | None:
    """A quantity of whole units (``3`` or ``3.0``); ``None`` when it is not a whole number."""
    number = parse_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)
