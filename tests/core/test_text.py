"""core.text: the strict JSON loader every edge uses, the text checks, and what readers of stored data do."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.errors import InvalidInput
from passgate.core.text import (
    INVALID_TEXT,
    MALFORMED_JSON,
    REPLACEMENT,
    ScrubbingJSONDecoder,
    UnusableText,
    check_json,
    check_pairs,
    check_text,
    first_unusable,
    map_strings,
    may_hold_unusable,
    replace_unusable,
    scrub,
    strict_loads,
)

PROPERTY = settings(max_examples=400, deadline=None, database=None)
LONE = "\ud800"

# Any code point, lone surrogates and NUL included (st.text() leaves surrogates out by default).
any_text = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=15,
)


def _usable(value: Any) -> bool:
    found: list[bool] = []
    map_strings(value, lambda s: found.append(first_unusable(s) is None) or s)
    return all(found)


@pytest.mark.parametrize(("text", "path"), [
    ('{"displayName": "\\ud800"}', "displayName"),
    ('{"displayName": "a\\u0000b"}', "displayName"),
    ('{"passkeyProfiles": [{"name": "ok"}, {"name": "\\udfff"}]}', "passkeyProfiles[1].name"),
    ('{"a\\u0000": 1}', "a"),
    ('["x", ["\\ud83d"]]', "[1][0]"),
    ('"\\u0000"', ""),
])
def test_strict_loads_refuses_nul_and_lone_surrogates_naming_the_path(text: str, path: str) -> None:
    with pytest.raises(UnusableText) as refused:
        strict_loads(text.encode())
    assert refused.value.code == INVALID_TEXT and refused.value.target == path
    assert "U+" in refused.value.message and first_unusable(refused.value.message) is None


def test_strict_loads_keeps_surrogate_pairs_and_everything_else() -> None:
    assert strict_loads('{"emoji": "\\ud83d\\ude00", "n": [1, 2.5, null, true]}') == {
        "emoji": "\N{GRINNING FACE}", "n": [1, 2.5, None, True]}


@pytest.mark.parametrize("raw", [b"{", b"NaN", b'{"a": Infinity}', b"\xff", "\ufeff{}".encode(), b"1" * 5000,
                                 b"[" * 100_000])
def test_strict_loads_refuses_what_is_not_json(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        strict_loads(raw)
    assert refused.value.code == MALFORMED_JSON and not isinstance(refused.value, UnusableText)


@PROPERTY
@given(json_values)
def test_strict_loads_answers_a_usable_value_or_names_the_unusable_text(value: Any) -> None:
    text = json.dumps(value)  # ensure_ascii: lone surrogates and NUL become \\u escapes, as clients send them
    try:
        loaded = strict_loads(text.encode())
    except UnusableText:
        assert not _usable(value)
    else:
        assert loaded == value and _usable(loaded)


@PROPERTY
@given(st.binary(max_size=60) | any_text.map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_strict_loads_on_any_bytes_returns_or_raises_invalid_input(raw: bytes) -> None:
    try:
        loaded = strict_loads(raw)
    except InvalidInput as exc:
        assert exc.code in (INVALID_TEXT, MALFORMED_JSON)
    else:
        assert _usable(loaded)


@PROPERTY
@given(any_text)
def test_check_text_and_first_unusable_agree(value: str) -> None:
    bad = first_unusable(value)
    if bad is None:
        assert check_text(value, "x") == value
    else:
        assert bad == "\x00" or 0xD800 <= ord(bad) <= 0xDFFF
        with pytest.raises(UnusableText):
            check_text(value, "x")


def test_check_pairs_names_the_parameter() -> None:
    check_pairs([("q", ["fine"]), ("page", ["2"])])
    with pytest.raises(UnusableText) as refused:
        check_pairs([("q", ["fine"]), ("display_name", ["a\x00"])], where=lambda n: f"The field '{n}'")
    assert refused.value.target == "The field 'display_name'"
    with pytest.raises(UnusableText) as refused:
        check_pairs([("na\x00me", [])], where=lambda n: f"The field '{n}'")
    assert refused.value.target == "The field 'na'"


@PROPERTY
@given(json_values)
def test_replacing_makes_any_value_storable_and_scrubbing_makes_it_encodable(value: Any) -> None:
    stored = map_strings(value, replace_unusable)
    assert _usable(stored)
    json.dumps(stored, ensure_ascii=False).encode("utf-8")
    shown = map_strings(value, scrub)
    json.dumps(shown, ensure_ascii=False).encode("utf-8")  # NUL stays (it can be shown); surrogates go
    check_json(map_strings(value, replace_unusable))


@PROPERTY
@given(json_values)
def test_the_stored_json_decoder_reads_back_what_was_stored_with_lone_surrogates_replaced(value: Any) -> None:
    stored = json.dumps(value)  # what Django's JSONField writes
    read = json.loads(stored, cls=ScrubbingJSONDecoder)
    assert read == map_strings(json.loads(stored), scrub)
    json.dumps(read, ensure_ascii=False).encode("utf-8")
    if not may_hold_unusable(stored):
        assert read == json.loads(stored)


def test_the_stored_json_decoder_on_a_row_an_older_version_wrote() -> None:
    stored = '{"name": "Keys \\ud800", "\\udc00k": ["\\ud83d\\ude00", "nul\\u0000kept"]}'
    assert json.loads(stored, cls=ScrubbingJSONDecoder) == {
        "name": f"Keys {REPLACEMENT}", f"{REPLACEMENT}k": ["\N{GRINNING FACE}", "nul\x00kept"]}


def test_unusable_text_message_is_itself_usable() -> None:
    error = UnusableText(f"a{LONE}b", LONE)
    assert "U+D800 (a lone UTF-16 surrogate)" in error.message and first_unusable(error.message) is None
    assert error.target == f"a{REPLACEMENT}b"
    assert UnusableText("x", "\x00").message.startswith("x contains U+0000 (NUL)")
