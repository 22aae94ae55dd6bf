"""OData query options, as much of them as Passgate's Graph API answers, parsed into values (pure).

Supported (https://learn.microsoft.com/graph/query-parameters):

- ``$select=a,b``: property names, case-insensitive, of the resource;
- ``$filter``: ``prop eq literal`` and ``startswith(prop, 'text')``, combined with ``and`` and parentheses;
  ``prop in ('a', 'b')`` and ``prop ne literal`` where a resource declares them (on directory objects ``ne``
  needs Graph's advanced query parameters: ``ConsistencyLevel: eventual`` and ``$count=true``);
  string literals in single quotes (``''`` escapes a quote), ``true``/``false`` for Booleans, bare numbers for
  integers; ``ge``/``le`` on date-times where a resource allows them, the value unquoted with its zone
  (``createdDateTime ge 2024-07-01T00:00:00Z``); property names (``status/errorCode`` for a nested one),
  operators and function names case-insensitive, as Graph accepts them;
- ``$top=1..999`` and an opaque, tamper-evident ``$skiptoken`` for the next page (``$skip`` where declared);
- ``$orderby=prop [asc|desc]`` on one declared property; ``$count=true`` (on directory objects only with
  ``ConsistencyLevel: eventual``: Graph silently ignores it otherwise); ``$search="prop:text"`` clauses joined
  with ``AND`` (directory objects, ``ConsistencyLevel: eventual`` required), a word-prefix match;
- ``@odata.id`` references to directory objects (``…/v1.0/directoryObjects/{id}``).

Each endpoint names the options it takes (``parse_query(supported=...)``); everything else that looks like OData
(``$expand``, ``or``, ``not`` …, or an option the collection does not take) is refused with 400 naming the part that
is not supported, rather than silently ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum, unique
from urllib.parse import urlsplit

from passgate.core.graph.errors import GraphError
from passgate.core.text import INVALID_TEXT, describe, first_unusable, first_usable_prefix

MAX_TOP = 999
MAX_FILTER_LENGTH = 2048
MAX_CLAUSES = 16
MAX_IN_VALUES = 15
MAX_SKIP = 100_000
ADVANCED_HINT = ("Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to "
                 "https://aka.ms/graph-docs/advanced-queries for more information")
SEARCH_NEEDS_EVENTUAL = ("Request with $search query parameter only works through MSGraph with a special request "
                         "header: 'ConsistencyLevel: eventual'")


@unique
class FilterKind(StrEnum):
    STRING = "string"
    BOOLEAN = "boolean"
    GUID = "guid"
    DATETIME = "datetime"  # an aware datetime (UTC), written unquoted: 2024-07-01T00:00:00Z
    INTEGER = "integer"


@dataclass(frozen=True)
class FilterProp:
    kind: FilterKind
    operators: frozenset[str]  # of "eq", "ne", "in", "startswith", "ge", "le"
    values: tuple[str, ...] | None = None  # an enumeration's members (a string outside them is refused)


Scalar = str | bool | int | datetime
Value = Scalar | tuple[Scalar, ...]  # a tuple for "in"


@dataclass(frozen=True)
class Comparison:
    property: str  # the canonical (declared) property name
    operator: str  # "eq" | "ne" | "in" | "startswith" | "ge" | "le" | "search" (a $search word prefix)
    value: Value


@dataclass(frozen=True)
class Filter:
    clauses: tuple[Comparison, ...]  # all must hold ("and")


@dataclass(frozen=True)
class QuerySpec:
    """What a resource allows in a query: used for error messages, ``$select`` and ``$filter``."""

    type_name: str  # "microsoft.graph.user"
    entity: str  # "User", as Graph names it in messages
    selectable: tuple[str, ...]
    filterable: Mapping[str, FilterProp]
    orderable: tuple[str, ...] = ()
    searchable: tuple[str, ...] = ()
    # A directory object (user, group): Graph's advanced-query rules apply (ConsistencyLevel: eventual)
    directory: bool = False


@dataclass(frozen=True)
class OrderBy:
    property: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    select: tuple[str, ...] = ()
    filter: Filter | None = None
    top: int | None = None
    after: str | None = None  # the sort key the previous page ended with ($skiptoken)
    orderby: tuple[OrderBy, ...] = ()
    count: bool = False  # answer @odata.count
    search: tuple[Comparison, ...] = ()  # all must hold
    skip: int = 0


# --- $filter ------------------------------------------------------------------------------------------

_UNSUPPORTED_OPERATORS = frozenset({"ne", "gt", "ge", "lt", "le", "or", "not", "in", "has", "add", "sub", "mul",
                                    "div", "mod"})
_UNSUPPORTED_FUNCTIONS = frozenset({"endswith", "contains", "any", "all", "tolower", "toupper", "length",
                                    "indexof", "substring", "trim", "concat"})
_WORD = re.compile(r"[A-Za-z0-9_.\-/:$@+]+")


@dataclass(frozen=True)
class _Token:
    kind: str  # "word" | "string" | "(" | ")" | ","
    text: str
    position: int


def _invalid(detail: str) -> GraphError:
    return GraphError.malformed(f"Invalid filter clause: {detail}")


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "(),":
            out.append(_Token(ch, ch, i))
            i += 1
        elif ch == "'":
            start, i, chars = i, i + 1, []
            while True:
                if i >= len(text):
                    raise _invalid(f"the string starting at position {start} is not closed with a quote")
                if text[i] == "'":
                    if i + 1 < len(text) and text[i + 1] == "'":
                        chars.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                chars.append(text[i])
                i += 1
            out.append(_Token("string", "".join(chars), start))
        else:
            found = _WORD.match(text, i)
            if not found:
                raise _invalid(f"unexpected character {ch!r} at position {i}")
            out.append(_Token("word", found.group(), i))
            i = found.end()
    return out


class _Parser:
    def __init__(self, text: str, spec: QuerySpec) -> None:
        self.tokens = _tokens(text)
        self.i = 0
        self.spec = spec
        self.by_lower = {name.lower(): name for name in spec.filterable}

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str, what: str) -> _Token:
        token = self.peek()
        if token is None:
            raise _invalid(f"expected {what} at the end")
        if token.kind != kind:
            raise _invalid(f"expected {what} at position {token.position}, found {token.text!r}")
        self.i += 1
        return token

    def parse(self) -> Filter:
        clauses = self.conjunction()
        token = self.peek()
        if token is not None:
            self.refuse_operator(token)
            raise _invalid(f"unexpected {token.text!r} at position {token.position}")
        if sum(len(c.value) if isinstance(c.value, tuple) else 1 for c in clauses) > MAX_CLAUSES * 2:
            raise GraphError.unsupported_query(f"A $filter may compare at most {MAX_CLAUSES * 2} values.")
        if len(clauses) > MAX_CLAUSES:
            raise GraphError.unsupported_query(f"A $filter may combine at most {MAX_CLAUSES} conditions.")
        return Filter(tuple(clauses))

    def conjunction(self) -> list[Comparison]:
        clauses = self.primary()
        while (token := self.peek()) is not None and token.kind == "word" and token.text.lower() == "and":
            self.i += 1
            clauses += self.primary()
        return clauses

    def refuse_operator(self, token: _Token) -> None:
        word = token.text.lower()
        if token.kind == "word" and (word in _UNSUPPORTED_OPERATORS or word in _UNSUPPORTED_FUNCTIONS):
            raise GraphError.unsupported_query(
                f"The $filter operator '{token.text}' is not supported here. Passgate supports 'eq' and "
                f"'startswith()', combined with 'and' (and 'in', 'ne' where a collection's documentation says so).")

    def primary(self) -> list[Comparison]:
        token = self.peek()
        if token is None:
            raise _invalid("expected a condition at the end")
        if token.kind == "(":
            self.i += 1
            inner = self.conjunction()
            self.take(")", "')'")
            return inner
        if token.kind != "word":
            raise _invalid(f"expected a property name at position {token.position}, found {token.text!r}")
        self.refuse_operator(token)
        if token.text.lower() == "startswith":
            self.i += 1
            self.take("(", "'(' after startswith")
            prop = self.property(self.take("word", "a property name"), "startswith")
            self.take(",", "','")
            literal = self.take("string", "a quoted string")
            self.take(")", "')'")
            return [Comparison(prop, "startswith", self.value(prop, literal))]
        self.i += 1
        operator = self.take("word", "an operator such as 'eq'")
        op = operator.text.lower()
        declared = self.by_lower.get(token.text.lower())
        if declared is None or op == "startswith" or op not in self.spec.filterable[declared].operators:
            self.refuse_operator(operator)
            if op != "eq":
                raise _invalid(f"expected 'eq' at position {operator.position}, found {operator.text!r}")
        prop = self.property(token, op)
        if op == "in":
            return [Comparison(prop, "in", self.in_list(prop))]
        value = self.peek()
        if value is None or value.kind not in ("word", "string"):
            raise _invalid(f"expected a value after '{token.text} {operator.text}'")
        self.i += 1
        return [Comparison(prop, op, self.value(prop, value))]

    def in_list(self, prop: str) -> tuple[Scalar, ...]:
        self.take("(", f"'(' after '{prop} in'")
        values: list[Scalar] = []
        while True:
            literal = self.peek()
            if literal is None or literal.kind not in ("word", "string"):
                raise _invalid(f"expected a value in the list after '{prop} in'")
            self.i += 1
            values.append(self.value(prop, literal))
            if len(values) > MAX_IN_VALUES:
                raise GraphError.unsupported_query(f"An 'in' list may hold at most {MAX_IN_VALUES} values.")
            if self.peek() is not None and self.peek().kind == ",":  # type: ignore[union-attr]
                self.i += 1
                continue
            self.take(")", "')' closing the 'in' list")
            return tuple(values)

    def property(self, token: _Token, operator: str) -> str:
        name = self.by_lower.get(token.text.lower())
        if name is None or operator not in self.spec.filterable[name].operators:
            raise GraphError.unsupported_query(
                f"Unsupported or invalid query filter clause specified for property '{token.text}' of resource "
                f"'{self.spec.entity}'.")
        return name

    def value(self, prop: str, literal: _Token) -> Scalar:
        kind = self.spec.filterable[prop].kind
        if kind is FilterKind.DATETIME:
            return _datetime_literal(prop, literal)
        if kind is FilterKind.INTEGER:
            if literal.kind == "word" and re.fullmatch(r"-?[0-9]{1,10}", literal.text):
                return int(literal.text)
            raise _invalid(f"'{prop}' is a number: write it without quotes, e.g. {prop} eq 0")
        if kind is FilterKind.BOOLEAN:
            if literal.kind == "word" and literal.text.lower() in ("true", "false"):
                return literal.text.lower() == "true"
            raise _invalid(f"'{prop}' is a Boolean: compare it with true or false, without quotes")
        if literal.kind != "string":
            raise _invalid(f"'{prop}' is a string: put the value in single quotes, found {literal.text!r}")
        allowed = self.spec.filterable[prop].values
        if allowed is not None and literal.text not in allowed:
            raise GraphError.malformed(f"Invalid filter clause: '{literal.text}' is not a valid value of '{prop}' "
                                       f"(one of: {', '.join(allowed)}).")
        if kind is FilterKind.GUID:
            try:
                return str(uuid.UUID(literal.text))
            except ValueError:
                raise GraphError.bad_request(f"Invalid object identifier '{literal.text}'.") from None
        return literal.text


def _datetime_literal(prop: str, literal: _Token) -> datetime:
    example = f"{prop} ge 2024-07-01T00:00:00Z"
    if literal.kind != "word":
        raise _invalid(f"'{prop}' is a date and time: write it without quotes, e.g. {example}")
    try:
        value = datetime.fromisoformat(literal.text.upper())
    except ValueError:
        raise _invalid(f"'{literal.text}' is not a date and time like 2024-07-01T00:00:00Z") from None
    if value.tzinfo is None or "T" not in literal.text.upper():
        raise _invalid(f"'{literal.text}' needs a time and a time zone, e.g. {example}")
    return value.astimezone(UTC)


def parse_filter(text: str, spec: QuerySpec) -> Filter:
    if len(text) > MAX_FILTER_LENGTH:
        raise GraphError.unsupported_query(f"A $filter may be at most {MAX_FILTER_LENGTH} characters long.")
    if not text.strip():
        raise _invalid("the $filter is empty")
    return _Parser(text, spec).parse()


def _quote(value: Value) -> str:
    if isinstance(value, tuple):
        return "(" + ",".join(_quote(v) for v in value) + ")"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return "'" + value.replace("'", "''") + "'"


def render_filter(value: Filter) -> str:
    """The canonical text of a filter (parse(render(f)) == f)."""
    parts = [f"startswith({c.property},{_quote(c.value)})" if c.operator == "startswith"
             else f"{c.property} {c.operator} {_quote(c.value)}" for c in value.clauses]
    return " and ".join(parts)


def _equal(actual: object, wanted: Scalar) -> bool:
    if isinstance(wanted, bool):
        return actual is wanted
    if isinstance(wanted, (int, datetime)):
        return type(actual) is type(wanted) and actual == wanted
    return isinstance(actual, str) and actual.casefold() == wanted.casefold()


SEARCH_SEPARATORS = (" ", ".", "-", "_", "@")  # where a word starts, for $search


def search_matches(actual: object, term: str) -> bool:
    """``$search`` semantics: the value, or a part of it after a separator (space . - _ @), starts with the term,
    ignoring case (a word prefix; a term with a space in it may span words)."""
    if not isinstance(actual, str):
        return False
    wanted = term.casefold()
    text = actual.casefold()
    return text.startswith(wanted) or any(sep + wanted in text for sep in SEARCH_SEPARATORS)


def clause_matches(clause: Comparison, row: Mapping[str, object]) -> bool:
    actual = row.get(clause.property)
    wanted = clause.value
    if isinstance(wanted, tuple):  # "in"
        return any(_equal(actual, v) for v in wanted)
    if clause.operator in ("eq", "ne"):
        return _equal(actual, wanted) is (clause.operator == "eq")
    if isinstance(wanted, str):  # "startswith", "search"
        if not isinstance(actual, str):
            return False
        if clause.operator == "search":
            return search_matches(actual, wanted)
        return actual.casefold().startswith(wanted.casefold())
    return (isinstance(wanted, (int, datetime)) and not isinstance(wanted, bool) and type(actual) is type(wanted)
            and _ordered(clause.operator, actual, wanted))


def matches(value: Filter, row: Mapping[str, object]) -> bool:
    """Evaluate a filter on a plain mapping (the reference semantics; strings compare case-insensitively)."""
    return all(clause_matches(c, row) for c in value.clauses)


def _ordered(operator: str, actual: object, wanted: int | datetime) -> bool:
    if operator == "ge":
        return actual >= wanted  # type: ignore[operator]
    if operator == "le":
        return actual <= wanted  # type: ignore[operator]
    return actual == wanted


def _sort_key(value: object) -> tuple[int, object]:
    if value is None:
        return (1, "")
    return (0, value.casefold() if isinstance(value, str) else value)


def evaluate(rows: Sequence[Mapping[str, object]], query: Query) -> list[Mapping[str, object]]:
    """The rows a query selects, in its order (in-memory collections: policies, strengths): ``$filter``,
    ``$search``, then ``$orderby`` (nulls last ascending, first descending; stable otherwise)."""
    chosen = [r for r in rows if (query.filter is None or matches(query.filter, r))
              and all(clause_matches(c, r) for c in query.search)]
    for order in reversed(query.orderby):
        chosen.sort(key=_sorter(order.property), reverse=order.descending)
    return chosen


def _sorter(name: str) -> Callable[[Mapping[str, object]], tuple[int, object]]:
    def key(row: Mapping[str, object]) -> tuple[int, object]:
        return _sort_key(row.get(name))

    return key


def project(row: Mapping[str, object], select: Sequence[str]) -> dict[str, object]:
    """A row with only the selected properties (all of them when nothing is selected); ``@odata.type`` stays."""
    if not select:
        return dict(row)
    return {k: v for k, v in row.items() if k in select or k == "@odata.type"}


# --- $select, $top, $skiptoken ------------------------------------------------------------------------

def parse_select(text: str, spec: QuerySpec) -> tuple[str, ...]:
    by_lower = {name.lower(): name for name in spec.selectable}
    chosen: list[str] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise GraphError.malformed("Invalid $select: an empty property name.")
        name = by_lower.get(item.lower())
        if name is None:
            raise GraphError.malformed(f"Parsing OData Select and Expand failed: Could not find a property named "
                                       f"'{item}' on type '{spec.type_name}'.")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def parse_top(text: str, *, maximum: int = MAX_TOP) -> int:
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= maximum:
        raise GraphError.malformed(f"Invalid page size specified: '{text}'. Must be between 1 and {maximum} "
                                   f"inclusive.")
    return int(value)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, b"passgate-skiptoken\x00" + payload, hashlib.sha256).digest()[:16]


def encode_skiptoken(after: str, *, key: bytes) -> str:
    """An opaque token that continues a listing after the row whose sort key is ``after``."""
    payload = json.dumps({"a": after}, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def decode_skiptoken(token: str, *, key: bytes) -> str:
    invalid = GraphError.malformed("Invalid $skiptoken: use the @odata.nextLink of the previous page unchanged.")
    try:
        payload_text, mac_text = token.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
        if not hmac.compare_digest(mac, _mac(key, payload)):
            raise invalid
        after = json.loads(payload)["a"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise invalid from None
    if not isinstance(after, str):
        raise invalid
    return after


# --- the query string as a whole ----------------------------------------------------------------------

_NOT_SUPPORTED_OPTIONS = frozenset({"$orderby", "$count", "$search", "$expand", "$skip", "$format", "$apply",
                                    "$compute", "$levels", "$deltatoken"})
COLLECTION_OPTIONS = ("$select", "$filter", "$top", "$skiptoken")  # what a directory listing takes by default
_KNOWN_OPTIONS = _NOT_SUPPORTED_OPTIONS | {"$select", "$filter", "$top", "$skiptoken"}


def _refuse_unusable(name: str, value: str) -> None:
    """NUL or a lone surrogate would reach a query (PostgreSQL refuses NUL): 400 BadRequest, ``invalid_text``."""
    bad = first_unusable(value)
    if bad is not None:
        error = GraphError.malformed(f"Query option '{first_usable_prefix(name)}' contains {describe(bad)}.")
        error.code = INVALID_TEXT
        raise error


def parse_orderby(text: str, spec: QuerySpec) -> tuple[OrderBy, ...]:
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise GraphError.malformed("Invalid $orderby: an empty property name.")
    if len(items) > 1:
        raise GraphError.unsupported_query("Passgate sorts by one property: $orderby takes one property name.")
    words = items[0].split()
    if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
        raise GraphError.malformed(f"Invalid $orderby '{items[0]}': expected a property name, then asc or desc.")
    by_lower = {name.lower(): name for name in spec.orderable}
    name = by_lower.get(words[0].lower())
    if name is None:
        allowed = ", ".join(spec.orderable) or "nothing"
        raise GraphError.unsupported_query(f"Sorting by property '{words[0]}' of resource '{spec.entity}' is not "
                                           f"supported (Passgate sorts by: {allowed}).")
    return (OrderBy(name, descending=len(words) == 2 and words[1].lower() == "desc"),)


_SEARCH_TOKEN = re.compile(r'\s*(?:"([^"]*)"|(\S+))')


def parse_search(text: str, spec: QuerySpec) -> tuple[Comparison, ...]:
    """``"displayName:wa" AND "userPrincipalName:adele"``: each clause a property and a word prefix."""
    example = '$search="displayName:adele"'
    by_lower = {name.lower(): name for name in spec.searchable}
    clauses: list[Comparison] = []
    expect_clause = True
    position = 0
    stripped = text.strip()
    if not stripped:
        raise GraphError.malformed(f"Invalid $search: it is empty; write e.g. {example}.")
    while position < len(stripped):
        found = _SEARCH_TOKEN.match(stripped, position)
        if found is None:  # only trailing blanks are left
            break
        position = found.end()
        quoted, bare = found.group(1), found.group(2)
        if expect_clause:
            if quoted is None:
                raise GraphError.malformed(f"Invalid $search: put each clause in double quotes, e.g. {example}.")
            prop, sep, term = quoted.partition(":")
            name = by_lower.get(prop.strip().lower())
            if not sep or not term.strip():
                raise GraphError.malformed(f"Invalid $search clause \"{quoted}\": write property:text, e.g. "
                                           f"{example}.")
            if name is None:
                raise GraphError.unsupported_query(
                    f"Searching property '{prop.strip()}' of resource '{spec.entity}' is not supported (Passgate "
                    f"searches: {', '.join(spec.searchable) or 'nothing'}).")
            clauses.append(Comparison(name, "search", term.strip()))
            if len(clauses) > MAX_CLAUSES:
                raise GraphError.unsupported_query(f"A $search may combine at most {MAX_CLAUSES} clauses.")
        else:
            word = (bare or "").upper()
            if word == "OR":
                raise GraphError.unsupported_query("Passgate's $search combines clauses with AND only, not OR.")
            if word != "AND":
                raise GraphError.malformed(f"Invalid $search: expected AND between clauses, found "
                                           f"{(bare if bare is not None else quoted)!r}.")
        expect_clause = not expect_clause
    if expect_clause:
        raise GraphError.malformed("Invalid $search: a clause must follow AND.")
    return tuple(clauses)


def parse_count(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise GraphError.malformed(f"Invalid $count value '{text}': expected true or false.")
    return value == "true"


def parse_skip(text: str) -> int:
    value = text.strip()
    if not value.isdigit() or int(value) > MAX_SKIP:
        raise GraphError.malformed(f"Invalid $skip value '{text}': expected a whole number from 0 to {MAX_SKIP}.")
    return int(value)


def parse_query(params: Mapping[str, Sequence[str]], spec: QuerySpec, *, collection: bool, key: bytes,
                allow_filter: bool = True, supported: Collection[str] | None = None,
                eventual: bool = False) -> Query:
    """Read the ``$`` options of a request (names case-insensitive); non-``$`` parameters are ignored.

    ``supported`` names the options this collection takes (default ``$select``, ``$filter``, ``$top``,
    ``$skiptoken``; a single item takes ``$select`` only); ``eventual`` is the ``ConsistencyLevel: eventual``
    header, which Graph's advanced queries on directory objects need.
    """
    options: dict[str, str] = {}
    for raw_name, values in params.items():
        name = raw_name.lower()
        if not name.startswith("$"):
            continue
        if len(values) != 1 or name in options:
            raise GraphError.malformed(f"Query option '{raw_name}' was specified more than once.")
        options[name] = values[0]
        _refuse_unusable(raw_name, values[0])
    if supported is not None:
        allowed = {o.lower() for o in supported}
        if not collection:
            allowed &= {"$select"}
    else:
        allowed = {"$select"} | ({"$filter", "$top", "$skiptoken"} if collection else set())
    if collection and not allow_filter:
        allowed.discard("$filter")
    for name in options:
        if name in allowed:
            continue
        if name in _KNOWN_OPTIONS:
            raise GraphError.unsupported_query(f"Query option '{name}' is not supported on this request.")
        raise GraphError.malformed(f"The query parameter '{name}' is not supported.")
    count = parse_count(options["$count"]) if "$count" in options else False
    search = parse_search(options["$search"], spec) if "$search" in options else ()
    parsed_filter = parse_filter(options["$filter"], spec) if "$filter" in options else None
    orderby = parse_orderby(options["$orderby"], spec) if "$orderby" in options else ()
    if spec.directory:
        _require_advanced(parsed_filter, orderby, search, eventual=eventual, count=count)
    return Query(
        select=parse_select(options["$select"], spec) if "$select" in options else (),
        filter=parsed_filter,
        top=parse_top(options["$top"]) if "$top" in options else None,
        after=decode_skiptoken(options["$skiptoken"], key=key) if "$skiptoken" in options else None,
        orderby=orderby,
        # Graph answers @odata.count on directory objects only with ConsistencyLevel: eventual, and silently
        # leaves it out otherwise (its "advanced query capabilities" page); elsewhere $count=true is enough.
        count=count and (eventual or not spec.directory),
        search=search,
        skip=parse_skip(options["$skip"]) if "$skip" in options else 0,
    )


def _require_advanced(parsed_filter: Filter | None, orderby: tuple[OrderBy, ...], search: tuple[Comparison, ...], *,
                      eventual: bool, count: bool) -> None:
    """Graph's advanced-query rules on directory objects: ``$search`` needs ``ConsistencyLevel: eventual``;
    ``ne``, and ``$filter`` with ``$orderby``, need that header and ``$count=true`` too."""
    if search and not eventual:
        raise GraphError.unsupported_query(SEARCH_NEEDS_EVENTUAL)
    if eventual and count:
        return
    if parsed_filter is not None and any(c.operator == "ne" for c in parsed_filter.clauses):
        raise GraphError.unsupported_query(f"Operator 'ne' is not supported because the required parameters "
                                           f"might be missing. {ADVANCED_HINT}")
    if orderby and parsed_filter is not None:
        raise GraphError.unsupported_query(f"Sorting not supported for current query. {ADVANCED_HINT}")


# --- @odata.id references -----------------------------------------------------------------------------

_REF_PATH = re.compile(r"^/(?:v1\.0|beta)/(?:directoryObjects|users)/([^/]+)/?\Z", re.IGNORECASE)
GRAPH_HOST = "graph.microsoft.com"


def parse_object_ref(value: object, *, hosts: Collection[str], what: str = "@odata.id") -> str:
    """The object id in ``https://<host>/v1.0/directoryObjects/{id}`` (also ``/beta/``, ``/users/{id}``).

    ``hosts`` are Passgate's own hosts (with port where not the default); Graph's own host is accepted too, so
    scripts written for Microsoft Graph work unchanged.
    """
    example = "https://graph.microsoft.com/v1.0/directoryObjects/{id}"
    if not isinstance(value, str) or not value:
        raise GraphError.bad_request(f"The '{what}' value must be a URL like {example}.")
    parts = urlsplit(value.strip())
    netloc = parts.netloc.lower()
    if parts.scheme not in ("https", "http") or netloc not in {GRAPH_HOST, *(h.lower() for h in hosts)}:
        raise GraphError.bad_request(f"Invalid '{what}' value '{value}': expected a URL like {example}.")
    if parts.scheme == "http" and netloc == GRAPH_HOST:
        raise GraphError.bad_request(f"Invalid '{what}' value '{value}': expected a URL like {example}.")
    found = _REF_PATH.match(parts.path)
    if not found or parts.query or parts.fragment:
        raise GraphError.bad_request(f"Invalid '{what}' value '{value}': expected a URL like {example}.")
    try:
        return str(uuid.UUID(found.group(1)))
    except ValueError:
        raise GraphError.bad_request(f"Invalid object identifier '{found.group(1)}'.") from None
