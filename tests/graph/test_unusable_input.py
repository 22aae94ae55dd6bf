"""The Graph API's edges: NUL and lone surrogates in bodies, query strings and path parameters, and ids that are not
ids (too long, not a GUID) are refused with Graph's envelope, change nothing and are audited; on PostgreSQL too
(where NUL and over-long values used to reach the database and answer 500)."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import passgate.graph_api.views  # noqa: F401 - registers every endpoint in ENDPOINTS
from passgate.access.models import AccessPolicy, StrengthPolicy
from passgate.apps.models import AppRegistration
from passgate.audit.models import AuditEvent
from passgate.credentials.models import Passkey, PolicyVersion, TemporaryAccessPass
from passgate.directory.models import DirectoryRole, GroupMembership, SecurityGroup, User
from passgate.graph_api.registry import ENDPOINTS
from tests.graph.conftest import Api, error_of

pytestmark = pytest.mark.django_db

BAD = "@@BAD@@"  # replaced in the JSON text by a \\u escape
ESCAPES = {"lone surrogate": "\\ud800", "NUL": "\\u0000"}
CA = "/v1.0/identity/conditionalAccess/policies"
STRENGTHS = "/v1.0/policies/authenticationStrengthPolicies"
FIDO2 = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
MODELS = (User, SecurityGroup, GroupMembership, StrengthPolicy, AccessPolicy, AppRegistration, PolicyVersion,
          TemporaryAccessPass, Passkey)


def state() -> dict[str, list[dict[str, Any]]]:
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in MODELS}


def failures(reason: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(result="failure", reason=reason).order_by("occurred_at"))


@pytest.fixture
def api(admin_api: Any) -> Api:
    return admin_api(DirectoryRole.GLOBAL_ADMINISTRATOR, upn="root@contoso.com")


@pytest.fixture
def world(api: Api, make_user: Any) -> dict[str, str]:
    user = make_user(upn="alice@contoso.com")
    group = api.post("/v1.0/groups", {"displayName": "Pilot", "mailEnabled": False, "mailNickname": "pilot",
                                      "securityEnabled": True}).json()
    strength = api.post(STRENGTHS, {"displayName": "Keys", "allowedCombinations": ["fido2"]}).json()
    policy = api.post(CA, {"displayName": "Payroll", "state": "disabled",
                           "conditions": {"users": {"includeUsers": ["All"]},
                                          "applications": {"includeApplications": [str(uuid.uuid4())]}},
                           "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}).json()
    app = api.post("/v1.0/applications", {"displayName": "Wiki"}).json()
    return {"user": str(user.pk), "group": group["id"], "strength": strength["id"], "policy": policy["id"],
            "app": app["id"]}


BODIES: list[tuple[str, str, str, str, str]] = [
    # method, path ({name} from world), body with BAD, the error's target, the operation audited
    ("POST", "/v1.0/users", '{"accountEnabled": true, "displayName": "A@@BAD@@", "mailNickname": "a", '
                            '"userPrincipalName": "a@contoso.com"}', "displayName", "users.write"),
    ("PATCH", "/v1.0/users/{user}", '{"displayName": "@@BAD@@"}', "displayName", "users.write"),
    ("POST", "/v1.0/groups", '{"displayName": "G", "description": "@@BAD@@", "mailEnabled": false, '
                             '"mailNickname": "g", "securityEnabled": true}', "description", "groups.write"),
    ("PATCH", "/v1.0/groups/{group}", '{"displayName": "@@BAD@@"}', "displayName", "groups.write"),
    ("POST", "/v1.0/groups/{group}/members/$ref",
     '{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/@@BAD@@"}', "@odata.id", "groups.write"),
    ("POST", STRENGTHS, '{"displayName": "@@BAD@@", "allowedCombinations": ["fido2"]}', "displayName",
     "strengths.write"),
    ("PATCH", STRENGTHS + "/{strength}", '{"description": "x@@BAD@@"}', "description", "strengths.write"),
    ("POST", CA, '{"displayName": "@@BAD@@", "state": "disabled"}', "displayName", "access.write"),
    ("PATCH", CA + "/{policy}", '{"conditions": {"users": {"excludeUsers": ["@@BAD@@"]}}}',
     "conditions.users.excludeUsers[0]", "access.write"),
    ("POST", "/v1.0/applications", '{"displayName": "@@BAD@@"}', "displayName", "applications.write"),
    ("PATCH", "/v1.0/applications/{app}", '{"web": {"redirectUris": ["https://a.test/@@BAD@@"]}}',
     "web.redirectUris[0]", "applications.write"),
    ("POST", "/v1.0/applications/{app}/addPassword", '{"passwordCredential": {"displayName": "@@BAD@@"}}',
     "passwordCredential.displayName", "applications.write"),
    ("PATCH", FIDO2, '{"passkeyProfiles": [{"name": "Keys @@BAD@@", "passkeyTypes": "deviceBound"}]}',
     "passkeyProfiles[0].name", "policy.write"),
    ("PATCH", "/v1.0/policies/authenticationMethodsPolicy", '{"x@@BAD@@": 1}', "x", "policy.write"),
    ("POST", "/v1.0/users/{user}/authentication/temporaryAccessPassMethods", '{"startDateTime": "@@BAD@@"}',
     "startDateTime", "methods.write"),
    ("POST", "/v1.0/users/{user}/authentication/fido2Methods", '{"displayName": "@@BAD@@"}', "displayName",
     "methods.write"),
]


@pytest.mark.parametrize("escape", list(ESCAPES.values()), ids=list(ESCAPES))
@pytest.mark.parametrize("case", BODIES, ids=[f"{m} {p}" for m, p, *_ in BODIES])
def test_unusable_text_in_any_body_is_refused_audited_and_changes_nothing(
        api: Api, world: dict[str, str], escape: str, case: tuple[str, str, str, str, str]) -> None:
    method, path, body, target, operation = case
    before = state()
    response = api.request(method, path.format(**world), body.replace(BAD, escape))
    status, code, message = error_of_target(response, target)
    assert (status, code) == (400, "Request_BadRequest")
    assert ("U+D800" if "d800" in escape else "U+0000") in message
    assert state() == before
    [row] = failures("invalid_text")
    assert row.activity == f"graph.{operation}" and row.actor_name == "root@contoso.com"
    assert row.details["where"] == "body"


def error_of_target(response: Any, target: str) -> tuple[int, str, str]:
    """(status, code, message) of Graph's envelope with an ``error.target`` (the offending JSON path)."""
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "target", "innerError"}, body
    assert body["error"]["target"] == target, body
    return response.status_code, body["error"]["code"], body["error"]["message"]


@pytest.mark.parametrize("query", ["$filter=displayName%20eq%20'a%00'", "$select=id%00", "$top=1%00",
                                   "other=%00", "%00=1"])
def test_unusable_text_in_the_query_string_is_refused_and_audited(api: Api, query: str) -> None:
    status, code, message = error_of(api.get(f"/v1.0/users?{query}"))
    assert status == 400 and code in ("BadRequest", "Request_BadRequest") and "U+0000 (NUL)" in message
    [row] = failures("invalid_text")
    assert row.activity == "graph.users.read" and row.details["where"] == "query"


# --- ids ---------------------------------------------------------------------------------------------------------

WELL_FORMED = {"user-id": "alice@contoso.com", "authenticationMethodConfiguration-id": "fido2",
               "challengeTimeoutInMinutes": "30"}
NOT_IDS = {"65 characters": "a" * 65, "a long UPN": "a" * 300 + "@contoso.com", "NUL": "%00",
           "a GUID and more": str(uuid.UUID(int=1)) + "0", "10,000 characters": "b" * 10_000}
CASES = [(e.method, e.path, param) for e in ENDPOINTS if e.path_params for param in e.path_params]


def _url(route: str, bad_param: str, bad: str) -> str:
    path = route
    for param in ("{" + p + "}" for p in [*WELL_FORMED, *(p for _m, r, p in CASES if r == route)]):
        name = param.strip("{}")
        value = bad if name == bad_param else WELL_FORMED.get(name, str(uuid.UUID(int=7)))
        path = path.replace(param, value)
    return "/v1.0" + path


@pytest.mark.parametrize("bad", list(NOT_IDS.values()), ids=list(NOT_IDS))
@pytest.mark.parametrize(("method", "route", "param"), CASES, ids=[f"{m} {r} {p}" for m, r, p in CASES])
def test_every_path_parameter_that_is_not_an_id_is_refused_in_graphs_envelope_and_audited(
        api: Api, method: str, route: str, param: str, bad: str) -> None:
    body = {} if method in ("POST", "PATCH") else None
    response = api.request(method, _url(route, param, bad), body)
    status, code, message = error_of(response)
    expected = (400, "Request_BadRequest") if param == "challengeTimeoutInMinutes" else (404,
                                                                                         "Request_ResourceNotFound")
    assert (status, code) == expected, (response.status_code, response.content[:300])
    assert len(message) < 300
    [row] = failures("malformed_id")
    assert row.details["where"] == "{" + param + "}" and row.actor_name == "root@contoso.com"


@pytest.mark.parametrize("path", [f"{CA}/{'a' * 65}", f"{STRENGTHS}/{'a' * 65}",
                                  f"/v1.0/identity/conditionalAccess/authenticationStrength/policies/{'a' * 65}"])
def test_over_long_policy_ids_from_the_review(api: Api, path: str) -> None:
    """The review's reproduction: PATCH and DELETE answered 500 on PostgreSQL while writing the audit row."""
    for response in (api.patch(path, {"displayName": "x"}), api.delete(path)):
        assert error_of(response)[:2] == (404, "Request_ResourceNotFound")
    assert len(failures("malformed_id")) == 2


def test_well_formed_ids_still_reach_the_handlers(api: Api, world: dict[str, str]) -> None:
    assert api.get(f"/v1.0/users/{world['user']}").status_code == 200
    assert api.get("/v1.0/users/ALICE@contoso.com").status_code == 200
    assert api.get(f"/v1.0/users/{world['user'].upper()}").status_code == 200
    assert api.get(f"{CA}/{world['policy']}").status_code == 200
    assert api.get(FIDO2.replace("fido2", "Fido2")).status_code == 200
    assert error_of(api.get(f"{CA}/{uuid.uuid4()}"))[0] == 404  # well-formed, unknown: the handler says so
    assert not failures("malformed_id")


def test_json_body_nested_too_deeply_or_not_json_is_unreadable(api: Api) -> None:
    for raw in ("[" * 50_000, '{"a": NaN}', "{"):
        status, code, _ = error_of(api.request("POST", "/v1.0/groups", raw))
        assert (status, code) == (400, "BadRequest")
    assert len(failures("graph_BadRequest")) == 3


def test_an_endpoint_with_an_unlisted_path_parameter_cannot_be_registered() -> None:
    from passgate.graph_api.registry import endpoint

    with pytest.raises(KeyError, match=r"core\.graph\.ids"):
        endpoint("GET", "/things/{thing-id}", operation=None, summary="x", tag="x", responses={200: None})(
            lambda call, thing_id: None)


def test_a_stored_surrogate_would_have_been_refused_as_json_text_too(api: Api) -> None:
    """Clients that send raw (unescaped) UTF-8 cannot produce a lone surrogate: the bytes are not UTF-8."""
    raw = '{"displayName": "\ud800"}'.encode("utf-8", "surrogatepass")
    response = api.request("PATCH", FIDO2, raw)
    assert error_of(response)[:2] == (400, "BadRequest")
    assert json.loads(response.content)["error"]["message"].startswith("Unable to read JSON")


# --- property tests over HTTP: arbitrary text and lengths on representative routes never give a 5xx -------------

HTTP_PROPERTY = hsettings(max_examples=40, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
characters = st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)
texts = (st.text(characters, max_size=12) | st.sampled_from(["\x00", "\ud800", "\udfff", "x" * 3000])
         | st.integers(0, 400).map(lambda n: "a" * n))
json_values = st.recursive(st.none() | st.booleans() | st.integers() | texts,
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(texts, c, max_size=3), max_leaves=8)


def _no_server_error(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"code", "message", "innerError"}


@HTTP_PROPERTY
@given(body=json_values, key=texts, value=json_values)
def test_any_json_to_graph_writes_never_gives_a_5xx(api: Api, world: dict[str, str], body: Any, key: str,
                                                    value: Any) -> None:
    group = {"displayName": "G", "mailEnabled": False, "mailNickname": "g", "securityEnabled": True, key: value}
    for method, path, sent in (("POST", "/v1.0/groups", group), ("POST", "/v1.0/groups", body),
                               ("PATCH", f"/v1.0/users/{world['user']}", {"displayName": value}),
                               ("PATCH", f"{CA}/{world['policy']}", {key: value}),
                               ("POST", STRENGTHS, {"displayName": value, "allowedCombinations": ["fido2"]}),
                               ("PATCH", FIDO2, {"passkeyProfiles": [{"name": value, "passkeyTypes": "synced"}]})):
        _no_server_error(api.request(method, path, json.dumps(sent)))


@HTTP_PROPERTY
@given(text=texts, key=texts)
def test_any_query_or_id_on_graph_never_gives_a_5xx(api: Api, text: str, key: str) -> None:
    quoted, id_ = quote(text, errors="surrogatepass"), quote(key, safe="", errors="surrogatepass")
    for path in (f"/v1.0/users?$filter=displayName eq '{quoted}'", f"/v1.0/users?$filter=startswith(mail,'{quoted}')",
                 f"/v1.0/groups?$top={quoted}", f"/v1.0/auditLogs/signIns?$filter=userId eq '{quoted}'",
                 f"/v1.0/users/{id_}", f"{CA}/{id_}", f"/v1.0/applications(appId='{id_}')",
                 f"/v1.0/users/{id_}/authentication/methods"):
        _no_server_error(api.get(path))
    _no_server_error(api.delete(f"{STRENGTHS}/{id_}"))
