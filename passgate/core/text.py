"""Text Passgate can store and show: no NUL and no lone UTF-16 surrogate, anywhere.

Two kinds of character reach Python strings but not the database or a response:

- U+0000 (NUL): PostgreSQL refuses it in ``text``/``varchar`` columns and ``\\u0000`` in ``jsonb``.
- U+D800..U+DFFF (a lone surrogate): UTF-8 has no encoding for it. Python's ``json`` module decodes
  ``"\\ud800"`` into one, and command-line arguments carry undecodable bytes as ``\\udc80``..``\\udcff``
  (surrogateescape), so either fails at the first ``.encode("utf-8")``: the database driver, or the response.

Every edge refuses such text with :class:`UnusableText` (``invalid_text``): JSON bodies and files through
:func:`strict_loads`, everything else (form fields, query strings, headers, path segments, command-line arguments)
through :func:`check_text` / :func:`first_unusable`. Readers of stored data use :class:`ScrubbingJSONDecoder`, which
replaces what an older version may have stored with U+FFFD, so showing it never fails; the audit writer stores
:func:`replace_unusable` text, so a refusal of such text is itself recorded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar

from passgate.core.errors import InvalidInput

INVALID_TEXT: Final = "invalid_text"
# An adapter marks a view (a function attribute) that refuses unusable text itself, in its own protocol's words (the
# Graph API, the OAuth endpoints); the web's input middleware checks every other request's query, form and headers.
CHECKS_OWN_TEXT: Final = "passgate_checks_own_text"
MALFORMED_JSON: Final = "malformed_json"
REPLACEMENT: Final = "\ufffd"

F = TypeVar("F", bound=Callable[..., Any])

_UNUSABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# NUL or a surrogate written as a JSON escape (json.dumps, and so Django's JSONField, escapes them).
_ESCAPED = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def checks_own_text(view: F) -> F:
    """Mark a view as refusing unusable text itself (see :data:`CHECKS_OWN_TEXT`)."""
    setattr(view, CHECKS_OWN_TEXT, True)
    return view


class UnusableText(InvalidInput):
    """A string holds NUL or a lone surrogate. ``target`` names where (a JSON path, a field, a header)."""

    code = INVALID_TEXT

    def __init__(self, where: str, character: str) -> None:
        where = replace_unusable(where)
        self.target = where
        self.character = character
        super().__init__(f"{where or 'The value'} contains {describe(character)}, which Passgate doesn't "
                         "accept; remove it and try again.")


def describe(character: str) -> str:
    """``U+0000 (NUL)`` or ``U+D800 (a lone UTF-16 surrogate)``."""
    point = f"U+{ord(character):04X}"
    return f"{point} (NUL)" if character == "\x00" else f"{point} (a lone UTF-16 surrogate)"


def first_unusable(value: str) -> str | None:
    """The first NUL or lone surrogate in ``value``, or None."""
    found = _UNUSABLE.search(value)
    return found.group() if found else None


def check_text(value: str, where: str) -> str:
    """``value`` unchanged, or :class:`UnusableText` naming ``where``."""
    bad = first_unusable(value)
    if bad is not None:
        raise UnusableText(where, bad)
    return value


def check_pairs(pairs: Iterable[tuple[str, Iterable[str]]], *, where: Callable[[str], str] = str) -> None:
    """Check names and values of form-like input (a query string, a form, OAuth parameters): the first unusable
    one raises :class:`UnusableText` naming the parameter (``where(name)``)."""
    for name, values in pairs:
        label = where(first_usable_prefix(name))
        check_text(name, label)
        for value in values:
            check_text(value, label)


def first_usable_prefix(value: str, limit: int = 40) -> str:
    """``value`` cut before its first unusable character and to ``limit`` characters: safe to show and store."""
    found = _UNUSABLE.search(value)
    return (value[:found.start()] if found else value)[:limit]


# --- JSON -------------------------------------------------------------------------------------------------------

def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    shown = first_usable_prefix(key, 64)
    return f"{path}.{shown}" if path else shown


def check_json(value: object, where: str = "") -> object:
    """``value`` unchanged if no string or key in it (at any depth) holds NUL or a lone surrogate; else
    :class:`UnusableText` naming the JSON path (``passkeyProfiles[0].name``)."""
    stack: list[tuple[object, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            check_text(item, path)
        elif isinstance(item, Mapping):
            for key, child in item.items():
                here = _join(path, key)
                if isinstance(key, str):
                    check_text(key, here)
                stack.append((child, here))
        elif isinstance(item, list | tuple):
            stack.extend((child, _join(path, n)) for n, child in enumerate(item))
    return value


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def strict_loads(data: bytes | str, *, what: str = "The request body") -> Any:
    """Parse JSON text (bytes must be UTF-8) the way every edge of Passgate does: RFC 8259 JSON only (no NaN or
    Infinity), and no NUL or lone surrogate in any string or key. Raises :class:`InvalidInput` (``malformed_json``)
    for anything that is not JSON, :class:`UnusableText` (``invalid_text``) naming the JSON path otherwise."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidInput(f"{what} is nested too deeply", code=MALFORMED_JSON) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, integers too long to convert, NaN
        raise InvalidInput(f"{what} is not JSON: {_shown(exc)}", code=MALFORMED_JSON) from None
    return check_json(value) if may_hold_unusable(text) else value


def _shown(exc: ValueError) -> str:
    return replace_unusable(str(exc))[:200]


# --- reading and recording what is stored -------------------------------------------------------------------------

def scrub(value: str) -> str:
    """``value`` with each lone surrogate replaced by U+FFFD (NUL is kept: it can be shown)."""
    return _SURROGATE.sub(REPLACEMENT, value) if _SURROGATE.search(value) else value


def replace_unusable(value: str) -> str:
    """``value`` with each NUL and lone surrogate replaced by U+FFFD: text any database stores and any page shows."""
    return _UNUSABLE.sub(REPLACEMENT, value) if _UNUSABLE.search(value) else value


def map_strings(value: object, fix: Callable[[str], str]) -> Any:
    """A copy of a JSON value with ``fix`` applied to every string and key (lists, tuples and dicts at any depth)."""
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, Mapping):
        return {fix(k) if isinstance(k, str) else k: map_strings(v, fix) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_strings(v, fix) for v in value]
    return value


def may_hold_unusable(json_text: str) -> bool:
    """Whether JSON text may decode to a string with NUL or a lone surrogate (false: it certainly does not).

    Only an escape can put one there (JSON refuses a raw NUL in a string) or a raw lone surrogate in the text
    itself; this is a fast pre-check so the common case (nothing to find) costs no walk over the value."""
    if _ESCAPED.search(json_text):
        return True
    if json_text.isascii():
        return False
    try:
        json_text.encode("utf-8")
    except UnicodeEncodeError:  # a raw lone surrogate
        return True
    return False


class ScrubbingJSONDecoder(json.JSONDecoder):
    """For stored JSON documents (Django ``JSONField(decoder=...)``): lone surrogates that an older version stored
    come back as U+FFFD, so every page, API answer and command that shows the document can encode it."""

    def decode(self, s: str, *args: Any, **kwargs: Any) -> Any:
        value = super().decode(s, *args, **kwargs)
        return map_strings(value, scrub) if may_hold_unusable(s) else value
