"""The database query for /users' $filter and $search (directory.selectors) selects exactly the users the pure
reference evaluator (core.graph.odata.matches, search_matches) selects: eq, in, ne, startswith and word-prefix
search, on property values with odd letter cases, separators and accents."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passgate.core.graph.odata import Comparison, Filter, clause_matches, matches
from passgate.directory.selectors import user_list
from passgate.graph_api.representations import user_json

NAMES = ["Adele Vance", "alex wilber", "Diego Siciliani", "Zoë van der Berg", "Lee-Ann O'Neil", "MEGAN bowen"]
WORDS = ["a", "ad", "AL", "van", "ber", "o'", "ann", "neil", "meg", "Zoë", "die", "x", "le", "ance", "van der",
         "user1.", "contoso"]
# Upper-cased values stay ASCII: SQLite's LIKE folds ASCII letters only (see the known gap below)
ASCII_NAMES = [n for n in NAMES if n.isascii()]


@pytest.fixture
def directory(make_user: Any) -> list[dict[str, Any]]:
    made = []
    for n, name in enumerate(NAMES):
        alias = "".join(ch for ch in name.split()[0].lower() if ch.isascii() and ch.isalnum())
        user = make_user(upn=f"user{n}.{alias}@contoso.com", display_name=name)
        if n % 2:
            user.account_enabled = False
            user.save()
        made.append(user)
    return [user_json(u, ("id", "displayName", "userPrincipalName", "mailNickname", "accountEnabled")) for u in made]


_strings = st.sampled_from(["displayName", "mailNickname", "userPrincipalName"])
_value = st.one_of(st.sampled_from(NAMES), st.sampled_from(WORDS), st.sampled_from([n.upper() for n in ASCII_NAMES]))
_clause = st.one_of(
    st.builds(Comparison, _strings, st.sampled_from(["eq", "ne", "startswith"]), _value),
    st.builds(Comparison, _strings, st.just("in"), st.lists(_value, min_size=1, max_size=3).map(tuple)),
    st.builds(Comparison, st.just("accountEnabled"), st.sampled_from(["eq", "ne"]), st.booleans()),
)
_search = st.builds(Comparison, _strings, st.just("search"), st.sampled_from(WORDS))


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.lists(_clause, max_size=3), search=st.lists(_search, max_size=2))
def test_database_and_reference_select_the_same_users(directory: list[dict[str, Any]], where: list[Comparison],
                                                       search: list[Comparison]) -> None:
    found = {str(u.id) for u in user_list(where=where, search=search)}
    expected = {row["id"] for row in directory
                if matches(Filter(tuple(where)), row) and all(clause_matches(c, row) for c in search)}
    assert found == expected


@pytest.mark.django_db
@pytest.mark.xfail(condition=connection.vendor == "sqlite", strict=True,
                   reason="SQLite's LIKE folds ASCII letters only: 'ZOË' does not find 'Zoë' (PostgreSQL does)")
def test_non_ascii_letters_compare_case_insensitively(directory: list[dict[str, Any]]) -> None:
    for clause in (Comparison("displayName", "eq", "ZOË VAN DER BERG"), Comparison("displayName", "search", "ZOË"),
                   Comparison("displayName", "startswith", "zoË")):
        found = user_list(where=[clause] if clause.operator != "search" else [],
                          search=[clause] if clause.operator == "search" else [])
        assert [u.display_name for u in found] == ["Zoë van der Berg"], clause
