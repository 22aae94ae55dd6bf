"""/users: $orderby, $count, $search and the in/ne operators, with Graph's advanced-query rules
(ConsistencyLevel: eventual, $count=true), and every refusal audited."""

from __future__ import annotations

from typing import Any

import pytest

from tests.graph.conftest import ORIGIN, Api, error_of

EVENTUAL = {"HTTP_CONSISTENCYLEVEL": "eventual"}


@pytest.fixture
def api(app_api: Any) -> Api:
    return app_api("User.Read.All")


@pytest.fixture
def people(make_user: Any) -> dict[str, Any]:
    made = {
        "adele": make_user(upn="AdeleV@contoso.com", display_name="Adele Vance"),
        "alex": make_user(upn="AlexW@contoso.com", display_name="alex Wilber"),
        "diego": make_user(upn="DiegoS@contoso.com", display_name="Diego Siciliani"),
        "zoe": make_user(upn="aaron@contoso.com", display_name="Zoë van der Berg"),
    }
    made["diego"].account_enabled = False
    made["diego"].save()
    return made


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [u["displayName"] for u in response.json()["value"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("$orderby=displayName", ["Adele Vance", "alex Wilber", "Diego Siciliani", "Zoë van der Berg"]),
    ("$orderby=displayName desc", ["Zoë van der Berg", "Diego Siciliani", "alex Wilber", "Adele Vance"]),
    ("$orderby=userPrincipalName", ["Zoë van der Berg", "Adele Vance", "alex Wilber", "Diego Siciliani"]),
    ("$orderby=userPrincipalName desc", ["Diego Siciliani", "alex Wilber", "Adele Vance", "Zoë van der Berg"]),
    ("$filter=displayName in ('adele vance', 'Diego Siciliani', 'nobody')", ["Adele Vance", "Diego Siciliani"]),
    ("$filter=userPrincipalName in ('ALEXW@contoso.com') and accountEnabled eq true", ["alex Wilber"]),
    ("$filter=accountEnabled in (false)", ["Diego Siciliani"]),
])
def test_orderby_and_in_work_by_default(api: Api, people: dict[str, Any], query: str, expected: list[str]) -> None:
    assert names(api.get(f"/v1.0/users?{query}")) == expected


def test_filter_by_id_in(api: Api, people: dict[str, Any]) -> None:
    ids = f"'{people['alex'].id}','{people['zoe'].id}'"
    assert names(api.get(f"/v1.0/users?$filter=id in ({ids})")) == ["Zoë van der Berg", "alex Wilber"]


@pytest.mark.parametrize(("query", "expected", "count"), [
    ("$filter=accountEnabled ne true", ["Diego Siciliani"], 1),
    ("$filter=displayName ne 'Adele Vance'", ["Zoë van der Berg", "alex Wilber", "Diego Siciliani"], 3),
    ("$filter=startswith(displayName,'a')&$orderby=displayName desc", ["alex Wilber", "Adele Vance"], 2),
    ("$search=\"displayName:van\"", ["Zoë van der Berg", "Adele Vance"], 2),
    ("$search=\"displayName:wil\" AND \"userPrincipalName:alex\"", ["alex Wilber"], 1),
    ("$search=\"displayName:ance\"", [], 0),  # a word prefix, not a substring
    ("$search=\"displayName:a\"&$filter=accountEnabled eq true&$orderby=displayName",
     ["Adele Vance", "alex Wilber"], 2),
    ("", ["Zoë van der Berg", "Adele Vance", "alex Wilber", "Diego Siciliani"], 4),
])
def test_advanced_queries_with_consistency_level_and_count(api: Api, people: dict[str, Any], query: str,
                                                            expected: list[str], count: int) -> None:
    response = api.get(f"/v1.0/users?$count=true&{query}", **EVENTUAL)
    assert names(response) == expected
    body = response.json()
    assert body["@odata.count"] == count
    assert list(body)[:2] == ["@odata.context", "@odata.count"]


def test_count_counts_every_match_not_the_page(api: Api, make_user: Any) -> None:
    for n in range(5):
        make_user(upn=f"u{n}@contoso.com", display_name=f"Counted {n}")
    body = api.get("/v1.0/users?$count=true&$top=2&$filter=startswith(displayName,'Counted')", **EVENTUAL).json()
    assert body["@odata.count"] == 5 and len(body["value"]) == 2 and "@odata.nextLink" in body


def test_count_without_consistency_level_is_left_out_as_graph_does(api: Api, people: dict[str, Any]) -> None:
    body = api.get("/v1.0/users?$count=true").json()
    assert "@odata.count" not in body and len(body["value"]) == 4


def test_paging_in_display_name_order(api: Api, make_user: Any) -> None:
    made = [make_user(upn=f"p{n:02d}@contoso.com", display_name=f"Same {n % 3}").user_principal_name
            for n in range(12)]
    url: str | None = "/v1.0/users?$orderby=displayName desc&$top=5&$select=displayName,userPrincipalName"
    seen: list[tuple[str, str]] = []
    while url is not None:
        body = api.get(url).json()
        seen += [(u["displayName"], u["userPrincipalName"]) for u in body["value"]]
        link = body.get("@odata.nextLink")
        url = link.removeprefix(ORIGIN) if link else None
    assert len(seen) == 12 and {upn for _, upn in seen} == set(made)
    assert seen == sorted(seen, key=lambda r: (r[0].lower(), r[1].lower()), reverse=True)


@pytest.mark.parametrize(("query", "headers", "expected", "fragment"), [
    ("$filter=accountEnabled ne true", {}, (400, "Request_UnsupportedQuery"),
     "Operator 'ne' is not supported because the required parameters might be missing."),
    ("$filter=accountEnabled ne true", EVENTUAL, (400, "Request_UnsupportedQuery"), "$count=true"),
    ("$filter=accountEnabled ne true&$count=true", {}, (400, "Request_UnsupportedQuery"), "ConsistencyLevel"),
    ("$search=\"displayName:adele\"", {}, (400, "Request_UnsupportedQuery"),
     "Request with $search query parameter only works through MSGraph with a special request header: "
     "'ConsistencyLevel: eventual'"),
    ("$search=displayName:adele", EVENTUAL, (400, "BadRequest"), "double quotes"),
    ("$search=\"jobTitle:boss\"", EVENTUAL, (400, "Request_UnsupportedQuery"), "'jobTitle'"),
    ("$search=\"displayName:a\" OR \"displayName:b\"", EVENTUAL, (400, "Request_UnsupportedQuery"), "not OR"),
    ("$filter=accountEnabled eq true&$orderby=displayName", {}, (400, "Request_UnsupportedQuery"),
     "Sorting not supported for current query."),
    ("$orderby=createdDateTime", EVENTUAL, (400, "Request_UnsupportedQuery"), "'createdDateTime'"),
    ("$filter=displayName in ()", {}, (400, "BadRequest"), "expected a value in the list"),
    ("$filter=id in ('nope')", {}, (400, "Request_BadRequest"), "Invalid object identifier 'nope'."),
    ("$count=yes", EVENTUAL, (400, "BadRequest"), "Invalid $count value 'yes'"),
    ("$filter=not(accountEnabled eq true)&$count=true", EVENTUAL, (400, "Request_UnsupportedQuery"), "'not'"),
])
@pytest.mark.usefixtures("people")
def test_refusals_name_the_problem_and_are_audited(api: Api, query: str, headers: dict[str, str],
                                                   expected: tuple[int, str], fragment: str) -> None:
    from passgate.audit.models import AuditEvent

    before = set(AuditEvent.objects.values_list("pk", flat=True))
    status, code, message = error_of(api.get(f"/v1.0/users?{query}", **headers))
    assert (status, code) == expected
    assert fragment in message
    new = list(AuditEvent.objects.exclude(pk__in=before))
    assert [(e.activity, e.result, e.reason, e.details["where"]) for e in new] == [
        ("graph.users.read", "failure", f"graph_{code}", "query")]


def test_group_members_take_in_too(app_api: Any, people: dict[str, Any]) -> None:
    from passgate.audit.services import Actor
    from passgate.directory.services import group_add_member, group_create

    group = group_create(display_name="Pilots", actor=Actor.system("test"))
    for key in ("adele", "alex", "diego"):
        group_add_member(group=group, user=people[key], actor=Actor.system("test"))
    api = app_api("Group.Read.All")
    url = f"/v1.0/groups/{group.id}/members?$filter=displayName in ('Adele Vance','Diego Siciliani','Zoë van der Berg')"
    assert names(api.get(url)) == ["Adele Vance", "Diego Siciliani"]
    status, code, _ = error_of(api.get(f"/v1.0/groups/{group.id}/members?$count=true", **EVENTUAL))
    assert (status, code) == (400, "Request_UnsupportedQuery")


def test_a_skiptoken_belongs_to_its_order(api: Api, make_user: Any) -> None:
    for n in range(3):
        make_user(upn=f"o{n}@contoso.com", display_name=f"Ordered {n}")
    by_name = api.get("/v1.0/users?$orderby=displayName&$top=1").json()["@odata.nextLink"]
    by_upn = api.get("/v1.0/users?$top=1").json()["@odata.nextLink"]
    name_token = by_name.split("$skiptoken=")[1]
    upn_token = by_upn.split("$skiptoken=")[1]
    for url in (f"/v1.0/users?$top=1&$skiptoken={name_token}",
                f"/v1.0/users?$orderby=displayName&$top=1&$skiptoken={upn_token}"):
        status, code, message = error_of(api.get(url))
        assert (status, code) == (400, "BadRequest") and "another order" in message
