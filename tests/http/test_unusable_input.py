"""The web's edges: NUL and lone surrogates in JSON bodies, form fields, query strings and headers are refused with
a 400 (the JSON error, or a page naming the field), audited with reason code ``invalid_text``, and change nothing;
on PostgreSQL too, where NUL used to reach a query or a row and answer 500. Then property tests: arbitrary text in
the bodies and queries of a few representative routes never gives a 5xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from passgate.access.models import StrengthPolicy
from passgate.audit.models import AuditEvent, SignInEvent
from passgate.directory.models import DirectoryRole, SecurityGroup, User
from tests.admin.conftest import start_session

pytestmark = pytest.mark.django_db

HTTP_PROPERTY = hsettings(max_examples=40, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
characters = st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)
texts = st.text(characters, max_size=12) | st.sampled_from(["\x00", "a\x00b", "\ud800", "x" * 500, "\u202e"])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | texts,
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(texts, c, max_size=3), max_leaves=8)


def refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(result="failure", reason="invalid_text"))


@pytest.fixture
def admin(make_user: Any) -> Client:
    user = make_user(upn="root@contoso.com", display_name="Root", roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    return start_session(Client(raise_request_exception=False), user)


@pytest.mark.parametrize("escape", ["\\ud800", "\\u0000"])
def test_a_web_json_body_with_unusable_text_is_refused_and_audited(client: Client, escape: str) -> None:
    body = '{"hint": "x' + escape + '"}'
    response = client.post("/signin/passkey/options", data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_text" and "hint contains U+" in error["message"]
    [row] = refusals()
    assert row.activity == "passkey.signIn"


def test_form_fields_with_nul_are_refused_naming_the_field(admin: Client) -> None:
    response = admin.post("/admin/groups/new", {"display_name": "Pilot", "description": "first\x00second"})
    assert response.status_code == 400
    assert b"The form field &#x27;description&#x27; contains U+0000 (NUL)" in response.content
    assert not SecurityGroup.objects.exists()
    [row] = refusals()
    assert (row.activity, row.actor_name, row.details["path"]) == ("request.refuse", "root@contoso.com",
                                                                   "/admin/groups/new")


def test_strength_forms_with_nul_are_refused(admin: Client) -> None:
    response = admin.post("/admin/methods/strengths/new", {
        "name": "Keys", "description": "\x00", "combinations": "fido2"})
    assert response.status_code == 400 and not StrengthPolicy.objects.exists()
    assert len(refusals()) == 1


@pytest.mark.parametrize("path", ["/admin/users?q=%00", "/admin/groups?q=a%00", "/admin/audit?activity=%00",
                                  "/admin/sign-ins?user=%00", "/signin?login_hint=%00", "/signin/tap?upn=%00"])
def test_query_strings_with_nul_are_refused(admin: Client, path: str) -> None:
    response = admin.get(path)
    assert response.status_code == 400, response.content[:200]
    assert b"The query parameter" in response.content and b"U+0000 (NUL)" in response.content
    assert len(refusals()) == 1


def test_a_header_with_nul_is_refused_and_the_audit_row_keeps_a_clean_copy(client: Client, make_user: Any) -> None:
    make_user(upn="pat@contoso.com")
    response = client.post("/signin/tap", {"upn": "pat@contoso.com", "tap": "x"}, HTTP_USER_AGENT="Bot\x00/1")
    assert response.status_code == 400
    [row] = refusals()
    assert row.user_agent == "Bot\ufffd/1"
    assert not SignInEvent.objects.exists()


def test_a_tap_sign_in_with_a_nul_in_the_user_name_is_refused(client: Client, make_user: Any) -> None:
    make_user(upn="pat@contoso.com")
    response = client.post("/signin/tap", {"upn": "pat@contoso.com\x00", "tap": "ABCD-EFGH-JKMN-PQRS"})
    assert response.status_code == 400 and b"upn" in response.content
    assert len(refusals()) == 1


def test_json_requests_get_the_json_error(admin: Client) -> None:
    response = admin.get("/admin/users?q=%00", HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_text"


# --- property tests over HTTP ------------------------------------------------------------------------------------

def _no_server_error(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])


@HTTP_PROPERTY
@given(body=json_values)
def test_any_json_to_the_web_json_endpoints_never_gives_a_5xx(admin: Client, body: Any) -> None:
    for path in ("/signin/passkey/options", "/security-info/passkeys/options", "/signin/reauth/options"):
        text = json.dumps(body)
        _no_server_error(admin.post(path, data=text, content_type="application/json"))


@HTTP_PROPERTY
@given(q=texts, page=texts)
def test_any_query_to_admin_searches_never_gives_a_5xx(admin: Client, q: str, page: str) -> None:
    query = f"q={quote(q, errors='surrogatepass')}&page={quote(page, errors='surrogatepass')}"
    for path in ("/admin/users", "/admin/groups", "/admin/audit", "/admin/sign-ins"):
        _no_server_error(admin.get(f"{path}?{query}"))


@HTTP_PROPERTY
@given(name=texts, description=texts)
def test_any_text_in_admin_forms_never_gives_a_5xx_or_stores_unusable_text(admin: Client, name: str,
                                                                           description: str) -> None:
    fields = {"display_name": name.encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
              "description": description.encode("utf-8", "surrogatepass").decode("utf-8", "replace")}
    _no_server_error(admin.post("/admin/groups/new", fields))
    _no_server_error(admin.post("/admin/users/new", {"upn": fields["display_name"] + "@contoso.com",
                                                     "display_name": fields["description"]}))
    for text in [*SecurityGroup.objects.values_list("display_name", "description"),
                 *User.objects.values_list("display_name", "user_principal_name")]:
        assert all("\x00" not in t for t in text)
