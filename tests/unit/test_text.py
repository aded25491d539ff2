"""Fitting channel text to a vendor field: entity decoding, normalisation, forbidden characters, truncation."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from shared.text import clean_text, truncate_characters


@pytest.mark.parametrize(
    ("raw", "limit", "expected"),
    [
        pytest.param(None, 10, None, id="none"),
        pytest.param("", 10, None, id="empty"),
        pytest.param("  \t\n ", 10, None, id="whitespace-only"),
        pytest.param("\x00\x08", 10, None, id="only-forbidden"),
        pytest.param("Acme &amp; Sons", 100, "Acme & Sons", id="amp"),
        pytest.param("&pound;10 &euro;5 &#233;&#x4E2D;", 100, "£10 €5 é中", id="entities"),
        pytest.param("&amp;amp;", 100, "&amp;", id="decoded-exactly-once"),
        pytest.param("AT&T", 100, "AT&T", id="bare-ampersand-kept"),
        pytest.param("e\u0301", 100, "é", id="nfc"),
        pytest.param("e\x01\u0301", 100, "é", id="nfc-after-dropping-control"),
        pytest.param("a\x0bb\x0cc\x7fd", 100, "abc\x7fd", id="c0-dropped-del-kept"),
        pytest.param("x\ufffey\uffffz", 100, "xyz", id="non-characters-dropped"),
        pytest.param("lone\ud800surrogate\udfff", 100, "lonesurrogate", id="lone-surrogates-dropped"),
        pytest.param("tab\there\r\nline", 100, "tab\there\r\nline", id="tab-cr-lf-kept"),
        pytest.param("  Name  ", 100, "Name", id="stripped"),
        pytest.param("abcdef", 3, "abc", id="truncated"),
        pytest.param("ab    cdef", 4, "ab", id="no-trailing-space-after-cut"),
        pytest.param("äöüßéèê", 4, "äöüß", id="truncated-by-characters"),
        pytest.param("漢字かな交じり", 3, "漢字か", id="cjk"),
        pytest.param("🎁🎁🎁", 2, "🎁🎁", id="astral-plane"),
        pytest.param("a]]>b", 10, "a]]>b", id="cdata-terminator-is-just-text"),
        pytest.param("مرحبا שלום", 100, "مرحبا שלום", id="rtl-kept"),
        pytest.param("Gift 🎁 👍🏽", 100, "Gift 🎁 👍🏽", id="emoji-kept"),
    ],
)
def test_clean_text(raw: str | None, limit: int, expected: str | None) -> None:
    assert clean_text(raw, limit) == expected


def test_truncation_does_not_split_a_letter_from_its_accent() -> None:
    # x with cedilla and breve has no precomposed form: it stays three code points after NFC.
    text = "ab" + "x\u0327\u0306"
    assert unicodedata.normalize("NFC", text) == text

    assert truncate_characters(text, 3) == "ab"
    assert truncate_characters(text, 4) == "ab"
    assert truncate_characters(text, 5) == text


def test_truncation_does_not_split_an_emoji_sequence() -> None:
    family = "👩\u200d👩\u200d👧"
    assert truncate_characters("ok " + family, 5) == "ok "
    assert truncate_characters("ok 👍🏽", 4) == "ok "


def test_truncation_of_unbreakable_text_still_respects_the_limit() -> None:
    text = "\u0301" * 10  # nothing but combining marks: no clean place to cut
    assert len(truncate_characters(text, 4)) == 4


CONTROL_AND_EDGE_CHARACTERS = ["\t", "\r", "\n", "\x00", "\x1b", "\ud800", "\udfff", "\ufffe", "\uffff"]
MARKUP_AND_SCRIPTS = [
    "&amp;",
    "&pound;",
    "&#0;",
    "&#xD800;",
    "]]>",
    "<",
    "🎁",
    "\u200d",
    "👍🏽",
    "\u05e9",
    "\u0627",
]
awkward_pieces = st.sampled_from(["a", "é", "e\u0301", " ", *CONTROL_AND_EDGE_CHARACTERS, *MARKUP_AND_SCRIPTS])
awkward_text = st.one_of(st.text(), st.lists(awkward_pieces, max_size=30).map("".join))


@given(awkward_text, st.integers(min_value=1, max_value=50))
def test_cleaned_text_is_always_xml_safe_and_within_the_limit(raw: str, limit: int) -> None:
    cleaned = clean_text(raw, limit)

    if cleaned is not None:
        assert 0 < len(cleaned) <= limit
        assert cleaned == cleaned.strip()
        element = etree.Element("T")
        element.text = cleaned  # lxml refuses text XML cannot carry
        assert etree.fromstring(etree.tostring(element)).text == cleaned
