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
    decode_skiptoken,
    encode_skiptoken,
    matches,
    parse_filter,
    parse_object_ref,
    parse_query,
    parse_select,
    parse_top,
    render_filter,
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
    ("displayName ne 'x'", GraphCode.UNSUPPORTED_QUERY, "'ne'"),
    ("displayName eq 'a' or displayName eq 'b'", GraphCode.UNSUPPORTED_QUERY, "'or'"),
    ("not (accountEnabled eq true)", GraphCode.UNSUPPORTED_QUERY, "'not'"),
    ("endswith(displayName,'x')", GraphCode.UNSUPPORTED_QUERY, "'endswith'"),
    ("displayName in ('a','b')", GraphCode.UNSUPPORTED_QUERY, "'in'"),
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


def test_group_filters_use_the_group_resource() -> None:
    assert parse_filter("startswith(mailNickname,'pilot')", GROUP.query_spec).clauses[0].property == "mailNickname"
    assert "'userPrincipalName' of resource 'Group'" in refused(
        lambda: parse_filter("userPrincipalName eq 'a'", GROUP.query_spec), GraphCode.UNSUPPORTED_QUERY)


_text = st.text(alphabet=string.ascii_letters + string.digits + " '.-@_!#", max_size=20)
_clause = st.one_of(
    st.builds(Comparison, st.sampled_from(["displayName", "userPrincipalName", "mailNickname"]),
              st.sampled_from(["eq", "startswith"]), _text),
    st.builds(Comparison, st.just("accountEnabled"), st.just("eq"), st.booleans()),
    st.builds(Comparison, st.just("id"), st.just("eq"), st.uuids().map(str)),
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
    ({"$orderby": ["displayName"]}, True, GraphCode.UNSUPPORTED_QUERY, "'$orderby'"),
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
