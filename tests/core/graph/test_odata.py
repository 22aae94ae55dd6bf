"""OData parsing (pure): $filter, $select, $top, $skiptoken, whole query strings, @odata.id references."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core.graph.errors import GraphCode, GraphError
from passgate.core.graph.odata import (
    Comparison,
    Filter,
    FilterKind,
    FilterProp,
    OrderBy,
    Query,
    QuerySpec,
    decode_skiptoken,
    encode_skiptoken,
    evaluate,
    matches,
    parse_filter,
    parse_object_ref,
    parse_orderby,
    parse_query,
    parse_search,
    parse_select,
    parse_top,
    render_filter,
    search_matches,
)
from passgate.core.graph.resources import GROUP, USER

SPEC = USER.query_spec
KEY = b"k" * 32
GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def refused(call: object, code: GraphCode) -> str:
    with pytest.raises(GraphError) as info:
        call()  # type: ignore[operator]
    assert info.value.status == 400
    assert info.value.graph_code is code, info.value.message
    return info.value.message


# --- $filter ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("userPrincipalName eq 'adelev@contoso.com'", [Comparison("userPrincipalName", "eq", "adelev@contoso.com")]),
    ("startswith(displayName,'A')", [Comparison("displayName", "startswith", "A")]),
    ("startsWith(displayName, 'Ad') and accountEnabled eq true",
     [Comparison("displayName", "startswith", "Ad"), Comparison("accountEnabled", "eq", True)]),
    ("(accountEnabled eq false) and (mailNickname eq 'x')",
     [Comparison("accountEnabled", "eq", False), Comparison("mailNickname", "eq", "x")]),
    ("AccountEnabled EQ TRUE", [Comparison("accountEnabled", "eq", True)]),  # names and keywords any case
    ("displayName eq 'O''Brien'", [Comparison("displayName", "eq", "O'Brien")]),
    (f"id eq '{GUID.upper()}'", [Comparison("id", "eq", GUID)]),
    ("((displayName eq 'a'))", [Comparison("displayName", "eq", "a")]),
    ("displayName eq ''", [Comparison("displayName", "eq", "")]),
])
def test_filters_graph_accepts(text: str, expected: list[Comparison]) -> None:
    assert parse_filter(text, SPEC) == Filter(tuple(expected))


@pytest.mark.parametrize(("text", "code", "names"), [
    ("jobTitle eq 'x'", GraphCode.UNSUPPORTED_QUERY, "'jobTitle' of resource 'User'"),
    ("nosuch eq 'x'", GraphCode.UNSUPPORTED_QUERY, "'nosuch'"),
    ("startswith(accountEnabled,'t')", GraphCode.UNSUPPORTED_QUERY, "'accountEnabled'"),
    ("startswith(id,'0')", GraphCode.UNSUPPORTED_QUERY, "'id'"),
    ("displayName eq 'a' or displayName eq 'b'", GraphCode.UNSUPPORTED_QUERY, "'or'"),
    ("not (accountEnabled eq true)", GraphCode.UNSUPPORTED_QUERY, "'not'"),
    ("endswith(displayName,'x')", GraphCode.UNSUPPORTED_QUERY, "'endswith'"),
    ("displayName gt 'a'", GraphCode.UNSUPPORTED_QUERY, "'gt'"),
    ("displayName in 'a'", GraphCode.BAD_REQUEST, "'(' after 'displayName in'"),
    ("displayName in ('a',)", GraphCode.BAD_REQUEST, "expected a value in the list"),
    ("displayName in ('a' 'b')", GraphCode.BAD_REQUEST, "')' closing the 'in' list"),
    ("accountEnabled in ('true')", GraphCode.BAD_REQUEST, "true or false"),
    ("displayName in (" + ",".join(["'a'"] * 16) + ")", GraphCode.UNSUPPORTED_QUERY, "at most 15 values"),
    ("startswith(displayName,'a') ne 'b'", GraphCode.UNSUPPORTED_QUERY, "'ne'"),
    ("accountEnabled eq 'true'", GraphCode.BAD_REQUEST, "true or false"),
    ("displayName eq Adele", GraphCode.BAD_REQUEST, "single quotes"),
    ("displayName eq 'unterminated", GraphCode.BAD_REQUEST, "not closed"),
    ("displayName eq", GraphCode.BAD_REQUEST, "expected a value"),
    ("displayName 'x'", GraphCode.BAD_REQUEST, "expected an operator"),
    ("displayName gtx 'x'", GraphCode.BAD_REQUEST, "expected 'eq'"),
    ("(displayName eq 'x'", GraphCode.BAD_REQUEST, "')'"),
    ("displayName eq 'x')", GraphCode.BAD_REQUEST, "unexpected ')'"),
    ("displayName eq 'x' and", GraphCode.BAD_REQUEST, "expected a condition"),
    ("displayName eq 'x' ; drop", GraphCode.BAD_REQUEST, "unexpected character ';'"),
    ("", GraphCode.BAD_REQUEST, "empty"),
    ("id eq 'not-a-guid'", GraphCode.REQUEST_BAD_REQUEST, "Invalid object identifier 'not-a-guid'"),
    (" and ".join(["accountEnabled eq true"] * 17), GraphCode.UNSUPPORTED_QUERY, "at most 16"),
    ("displayName eq '" + "x" * 3000 + "'", GraphCode.UNSUPPORTED_QUERY, "at most 2048"),
])
def test_bad_filters_name_the_problem(text: str, code: GraphCode, names: str) -> None:
    message = refused(lambda: parse_filter(text, SPEC), code)
    assert names in message


def test_in_and_ne_on_users() -> None:
    assert parse_filter("displayName IN ('a', 'O''B') and accountEnabled ne false", SPEC) == Filter((
        Comparison("displayName", "in", ("a", "O'B")), Comparison("accountEnabled", "ne", False)))
    assert parse_filter(f"id in ('{GUID.upper()}')", SPEC).clauses == (Comparison("id", "in", (GUID,)),)


@pytest.mark.parametrize("text", ["displayName ne 'x'", "displayName in ('a','b')"])
def test_groups_take_neither_in_nor_ne(text: str) -> None:
    refused(lambda: parse_filter(text, GROUP.query_spec), GraphCode.UNSUPPORTED_QUERY)


def test_group_filters_use_the_group_resource() -> None:
    assert parse_filter("startswith(mailNickname,'pilot')", GROUP.query_spec).clauses[0].property == "mailNickname"
    assert "'userPrincipalName' of resource 'Group'" in refused(
        lambda: parse_filter("userPrincipalName eq 'a'", GROUP.query_spec), GraphCode.UNSUPPORTED_QUERY)


_text = st.text(alphabet=string.ascii_letters + string.digits + " '.-@_!#", max_size=20)
_strings = st.sampled_from(["displayName", "userPrincipalName", "mailNickname"])
_clause = st.one_of(
    st.builds(Comparison, _strings, st.sampled_from(["eq", "ne", "startswith"]), _text),
    st.builds(Comparison, _strings, st.just("in"), st.lists(_text, min_size=1, max_size=4).map(tuple)),
    st.builds(Comparison, st.just("accountEnabled"), st.sampled_from(["eq", "ne"]), st.booleans()),
    st.builds(Comparison, st.just("accountEnabled"), st.just("in"), st.lists(st.booleans(), min_size=1,
                                                                             max_size=2).map(tuple)),
    st.builds(Comparison, st.just("id"), st.sampled_from(["eq", "ne"]), st.uuids().map(str)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_clause, min_size=1, max_size=6))
def test_render_then_parse_round_trips(clauses: list[Comparison]) -> None:
    value = Filter(tuple(clauses))
    assert parse_filter(render_filter(value), SPEC) == value


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_with_400(text: str) -> None:
    try:
        parse_filter(text, SPEC)
    except GraphError as exc:
        assert exc.status == 400
        assert exc.graph_code in (GraphCode.BAD_REQUEST, GraphCode.UNSUPPORTED_QUERY, GraphCode.REQUEST_BAD_REQUEST)


@settings(max_examples=200, deadline=None)
@given(prefix=_text, name=_text)
def test_startswith_matches_case_insensitively(prefix: str, name: str) -> None:
    value = parse_filter(render_filter(Filter((Comparison("displayName", "startswith", prefix),))), SPEC)
    assert matches(value, {"displayName": name}) == name.casefold().startswith(prefix.casefold())


_row = st.fixed_dictionaries({"displayName": _text, "userPrincipalName": _text, "mailNickname": _text,
                              "accountEnabled": st.booleans(), "id": st.uuids().map(str)})


@settings(max_examples=300, deadline=None)
@given(clause=_clause, row=_row)
def test_ne_is_not_eq_and_in_is_any_eq(clause: Comparison, row: dict[str, object]) -> None:
    def holds(c: Comparison) -> bool:
        return matches(Filter((c,)), row)

    if clause.operator == "ne":
        assert holds(clause) is not holds(Comparison(clause.property, "eq", clause.value))
    if clause.operator == "in":
        assert isinstance(clause.value, tuple)
        assert holds(clause) == any(holds(Comparison(clause.property, "eq", v)) for v in clause.value)


# --- $orderby, $search, $count and the advanced-query rules ------------------------------------------

def test_orderby_one_declared_property() -> None:
    assert parse_orderby("DisplayName desc", SPEC) == (OrderBy("displayName", descending=True),)
    assert parse_orderby(" userPrincipalName ", SPEC) == (OrderBy("userPrincipalName"),)
    assert parse_orderby("displayName ASC", SPEC) == (OrderBy("displayName"),)


@pytest.mark.parametrize(("text", "code", "names"), [
    ("createdDateTime", GraphCode.UNSUPPORTED_QUERY, "'createdDateTime'"),
    ("displayName,userPrincipalName", GraphCode.UNSUPPORTED_QUERY, "one property"),
    ("displayName up", GraphCode.BAD_REQUEST, "asc or desc"),
    ("displayName asc desc", GraphCode.BAD_REQUEST, "asc or desc"),
    ("", GraphCode.BAD_REQUEST, "empty"),
])
def test_orderby_refusals(text: str, code: GraphCode, names: str) -> None:
    assert names in refused(lambda: parse_orderby(text, SPEC), code)


def test_search_clauses() -> None:
    assert parse_search('"displayName:ade" AND "mailNickname:av"', SPEC) == (
        Comparison("displayName", "search", "ade"), Comparison("mailNickname", "search", "av"))
    assert parse_search('"DISPLAYNAME:van der"', SPEC) == (Comparison("displayName", "search", "van der"),)


@pytest.mark.parametrize(("text", "code", "names"), [
    ("displayName:ade", GraphCode.BAD_REQUEST, "double quotes"),
    ('"ade"', GraphCode.BAD_REQUEST, "property:text"),
    ('"displayName:"', GraphCode.BAD_REQUEST, "property:text"),
    ('"jobTitle:boss"', GraphCode.UNSUPPORTED_QUERY, "'jobTitle'"),
    ('"displayName:a" OR "displayName:b"', GraphCode.UNSUPPORTED_QUERY, "not OR"),
    ('"displayName:a" "displayName:b"', GraphCode.BAD_REQUEST, "expected AND"),
    ('"displayName:a" AND', GraphCode.BAD_REQUEST, "must follow AND"),
    ("  ", GraphCode.BAD_REQUEST, "empty"),
])
def test_search_refusals(text: str, code: GraphCode, names: str) -> None:
    assert names in refused(lambda: parse_search(text, SPEC), code)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_search_text_parses_or_is_refused_with_400(text: str) -> None:
    try:
        clauses = parse_search(text, SPEC)
    except GraphError as exc:
        assert exc.status == 400
        assert exc.graph_code in (GraphCode.BAD_REQUEST, GraphCode.UNSUPPORTED_QUERY)
    else:
        assert clauses and all(c.operator == "search" and c.value for c in clauses)


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=8), min_size=1, max_size=4),
       pick=st.integers(min_value=0, max_value=3), cut=st.integers(min_value=1, max_value=8))
def test_search_matches_the_start_of_any_word(words: list[str], pick: int, cut: int) -> None:
    value = " ".join(words)
    word = words[pick % len(words)]
    assert search_matches(value, word[:cut].upper())
    assert not search_matches(value, "#" + word)


def _query(params: dict[str, list[str]], *, eventual: bool = False, supported: tuple[str, ...] = (
        "$select", "$filter", "$top", "$skiptoken", "$orderby", "$count", "$search")) -> Query:
    return parse_query(params, SPEC, collection=True, key=KEY, supported=supported, eventual=eventual)


def test_advanced_queries_need_consistency_level_and_count() -> None:
    ne = {"$filter": ["accountEnabled ne true"]}
    assert "Operator 'ne'" in refused(lambda: _query(ne), GraphCode.UNSUPPORTED_QUERY)
    assert "Operator 'ne'" in refused(lambda: _query(ne, eventual=True), GraphCode.UNSUPPORTED_QUERY)
    assert "Operator 'ne'" in refused(lambda: _query({**ne, "$count": ["true"]}), GraphCode.UNSUPPORTED_QUERY)
    assert _query({**ne, "$count": ["true"]}, eventual=True).count is True
    search = {"$search": ['"displayName:a"']}
    assert "ConsistencyLevel: eventual" in refused(lambda: _query(search), GraphCode.UNSUPPORTED_QUERY)
    assert _query(search, eventual=True).search == (Comparison("displayName", "search", "a"),)
    both = {"$filter": ["accountEnabled eq true"], "$orderby": ["displayName"]}
    assert "Sorting not supported" in refused(lambda: _query(both, eventual=True), GraphCode.UNSUPPORTED_QUERY)
    assert _query({**both, "$count": ["true"]}, eventual=True).orderby == (OrderBy("displayName"),)
    assert _query({"$orderby": ["displayName"]}).orderby == (OrderBy("displayName"),)  # alone: by default


def test_count_without_consistency_level_is_left_out_as_graph_does() -> None:
    assert _query({"$count": ["true"]}).count is False
    assert _query({"$count": ["TRUE"]}, eventual=True).count is True
    assert _query({"$count": ["false"]}, eventual=True).count is False
    refused(lambda: _query({"$count": ["1"]}), GraphCode.BAD_REQUEST)


def test_a_collection_without_query_options_refuses_them_all() -> None:
    for name in ("$select", "$filter", "$top", "$orderby", "$count", "$search", "$skip", "$expand"):
        assert f"'{name}'" in refused(lambda name=name: _query({name: ["x"]}, supported=()),
                                      GraphCode.UNSUPPORTED_QUERY)


def test_evaluate_filters_searches_and_sorts_in_memory() -> None:
    rows = [{"displayName": "b", "state": "enabled"}, {"displayName": "A", "state": "disabled"},
            {"displayName": None, "state": "enabled"}, {"displayName": "c", "state": "enabled"}]
    spec = QuerySpec("microsoft.graph.x", "X", ("displayName", "state"),
                     {"state": FilterProp(FilterKind.STRING, frozenset({"eq"}), ("enabled", "disabled"))},
                     orderable=("displayName",))
    query = parse_query({"$filter": ["state eq 'enabled'"], "$orderby": ["displayName desc"]}, spec,
                        collection=True, key=KEY, supported=("$filter", "$orderby"))
    assert [r["displayName"] for r in evaluate(rows, query)] == [None, "c", "b"]
    query = parse_query({"$orderby": ["displayName"]}, spec, collection=True, key=KEY, supported=("$orderby",))
    assert [r["displayName"] for r in evaluate(rows, query)] == ["A", "b", "c", None]
    assert "'bogus' is not a valid value of 'state'" in refused(
        lambda: parse_filter("state eq 'bogus'", spec), GraphCode.BAD_REQUEST)


# --- $select, $top, $skiptoken -----------------------------------------------------------------------

def test_select_keeps_order_drops_duplicates_and_canonicalises_names() -> None:
    assert parse_select("displayName, ID,accountenabled,displayName", SPEC) == ("displayName", "id", "accountEnabled")


@pytest.mark.parametrize("text", ["nosuch", "displayName,,id", ""])
def test_select_refuses_unknown_or_empty_names(text: str) -> None:
    message = refused(lambda: parse_select(text, SPEC), GraphCode.BAD_REQUEST)
    if text == "nosuch":
        assert message == ("Parsing OData Select and Expand failed: Could not find a property named 'nosuch' on "
                           "type 'microsoft.graph.user'.")


@pytest.mark.parametrize("text", ["1", "10", "999", " 5 "])
def test_top_in_range(text: str) -> None:
    assert parse_top(text) == int(text)


@pytest.mark.parametrize("text", ["0", "1000", "-1", "ten", "1.5", "", "1e3"])
def test_top_out_of_range(text: str) -> None:
    message = refused(lambda: parse_top(text), GraphCode.BAD_REQUEST)
    assert message == f"Invalid page size specified: '{text}'. Must be between 1 and 999 inclusive."


@given(st.text(max_size=120))
def test_skiptoken_round_trips(after: str) -> None:
    assert decode_skiptoken(encode_skiptoken(after, key=KEY), key=KEY) == after


def test_skiptoken_is_tamper_evident() -> None:
    token = encode_skiptoken("adele@contoso.com", key=KEY)
    payload, mac = token.split(".")
    forged = encode_skiptoken("zzz", key=b"other key" * 4).split(".")[0] + "." + mac
    for bad in (forged, payload + ".AAAA", "garbage", "", token + ".x", token.replace(".", "")):
        refused(lambda bad=bad: decode_skiptoken(bad, key=KEY), GraphCode.BAD_REQUEST)
    refused(lambda: decode_skiptoken(token, key=b"another key" * 3), GraphCode.BAD_REQUEST)


# --- the query string ---------------------------------------------------------------------------------

def test_query_reads_the_dollar_options_case_insensitively() -> None:
    query = parse_query({"$Select": ["displayName"], "$top": ["5"], "$FILTER": ["accountEnabled eq true"],
                         "api-version": ["x"]}, SPEC, collection=True, key=KEY)
    assert query.select == ("displayName",) and query.top == 5
    assert query.filter == Filter((Comparison("accountEnabled", "eq", True),))
    token = encode_skiptoken("b@contoso.com", key=KEY)
    assert parse_query({"$skiptoken": [token]}, SPEC, collection=True, key=KEY).after == "b@contoso.com"


@pytest.mark.parametrize(("params", "collection", "code", "names"), [
    ({"$orderby": ["displayName"]}, True, GraphCode.UNSUPPORTED_QUERY, "'$orderby'"),  # not by default
    ({"$count": ["true"]}, True, GraphCode.UNSUPPORTED_QUERY, "'$count'"),
    ({"$expand": ["memberOf"]}, False, GraphCode.UNSUPPORTED_QUERY, "'$expand'"),
    ({"$top": ["5"]}, False, GraphCode.UNSUPPORTED_QUERY, "'$top'"),
    ({"$filter": ["accountEnabled eq true"]}, False, GraphCode.UNSUPPORTED_QUERY, "'$filter'"),
    ({"$bogus": ["1"]}, True, GraphCode.BAD_REQUEST, "'$bogus'"),
    ({"$top": ["5", "6"]}, True, GraphCode.BAD_REQUEST, "more than once"),
    ({"$top": ["5"], "$TOP": ["6"]}, True, GraphCode.BAD_REQUEST, "more than once"),
])
def test_query_refuses_what_it_does_not_support(params: dict[str, list[str]], collection: bool, code: GraphCode,
                                                names: str) -> None:
    assert names in refused(lambda: parse_query(params, SPEC, collection=collection, key=KEY), code)


# --- @odata.id ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    f"https://graph.microsoft.com/v1.0/directoryObjects/{GUID}",
    f"https://graph.microsoft.com/beta/directoryObjects/{GUID}",
    f"https://graph.microsoft.com/v1.0/users/{GUID}",
    f"https://id.contoso.test/v1.0/directoryObjects/{GUID.upper()}",
    f"http://localhost:8000/v1.0/directoryObjects/{GUID}",
    f"https://GRAPH.microsoft.com/v1.0/DirectoryObjects/{GUID}/",
])
def test_object_refs_accepted(url: str) -> None:
    assert parse_object_ref(url, hosts=("id.contoso.test", "localhost:8000")) == GUID


@pytest.mark.parametrize(("value", "names"), [
    (f"https://evil.example/v1.0/directoryObjects/{GUID}", "expected a URL like"),
    (f"http://graph.microsoft.com/v1.0/directoryObjects/{GUID}", "expected a URL like"),
    (f"https://graph.microsoft.com/v2.0/directoryObjects/{GUID}", "expected a URL like"),
    (f"https://graph.microsoft.com/v1.0/groups/{GUID}", "expected a URL like"),
    (f"https://graph.microsoft.com/v1.0/directoryObjects/{GUID}?x=1", "expected a URL like"),
    ("https://graph.microsoft.com/v1.0/directoryObjects/nope", "Invalid object identifier 'nope'"),
    (GUID, "expected a URL like"),
    (42, "must be a URL"),
    ("", "must be a URL"),
])
def test_object_refs_refused(value: object, names: str) -> None:
    message = refused(lambda: parse_object_ref(value, hosts=("id.contoso.test",)), GraphCode.REQUEST_BAD_REQUEST)
    assert names in message
