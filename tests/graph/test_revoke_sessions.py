"""POST /users/{id}/revokeSignInSessions and /me/revokeSignInSessions: Graph's answer, signInSessionsValidFromDateTime,
who may call it, and that the person's sessions and app tokens really end."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from passgate.audit.models import AuditEvent
from passgate.directory.models import DirectoryRole, User
from tests.graph.conftest import ORIGIN, Api, error_of, sign_in_session

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    sign_in_session(client, user)
    assert client.get("/security-info").status_code == 200
    return client


def test_revoke_answers_like_graph_and_ends_the_persons_sessions(app_api: Any, make_user: Any) -> None:
    pat = make_user(upn="pat@contoso.com")
    pats_browser = signed_in(pat)
    api = app_api("User.RevokeSessions.All")
    response = api.post(f"/v1.0/users/{pat.user_principal_name}/revokeSignInSessions")
    assert response.status_code == 200, response.content
    assert response.json() == {"@odata.context": f"{ORIGIN}/v1.0/$metadata#Edm.Boolean", "value": True}
    assert response["Content-Type"] == "application/json" and response["request-id"]
    assert pats_browser.get("/security-info").status_code == 302
    row = AuditEvent.objects.get(activity="user.revokeSignInSessions")
    assert (row.actor_name, row.target_id, row.details["reason"]) == ("app:Test app", str(pat.pk),
                                                                       "revokeSignInSessions")


def test_signin_sessions_valid_from_is_on_the_user_when_selected(app_api: Any, make_user: Any) -> None:
    pat = make_user()
    api = app_api("User.ReadWrite.All")
    url = f"/v1.0/users/{pat.pk}?$select=id,signInSessionsValidFromDateTime"
    assert api.get(url).json()["signInSessionsValidFromDateTime"] is None
    assert "signInSessionsValidFromDateTime" not in api.get(f"/v1.0/users/{pat.pk}").json()  # only on $select
    assert api.post(f"/beta/users/{pat.pk}/revokeSignInSessions").status_code == 200
    value = api.get(url).json()["signInSessionsValidFromDateTime"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value)
    stored = User.objects.get(pk=pat.pk).sign_in_sessions_valid_from
    assert stored is not None and value == stored.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_property_cannot_be_written(app_api: Any, make_user: Any) -> None:
    pat = make_user()
    response = app_api("User.ReadWrite.All").patch(f"/v1.0/users/{pat.pk}",
                                                   {"signInSessionsValidFromDateTime": "2030-01-01T00:00:00Z"})
    assert error_of(response)[:2] == (400, "Request_BadRequest")
    assert User.objects.get(pk=pat.pk).sign_in_sessions_valid_from is None


def test_disabling_through_graph_revokes_sessions(app_api: Any, make_user: Any) -> None:
    pat = make_user()
    pats_browser = signed_in(pat)
    api = app_api("User.ReadWrite.All")
    assert api.patch(f"/v1.0/users/{pat.pk}", {"accountEnabled": False}).status_code == 204
    assert api.patch(f"/v1.0/users/{pat.pk}", {"accountEnabled": True}).status_code == 204
    assert pats_browser.get("/security-info").status_code == 302
    row = AuditEvent.objects.get(activity="user.revokeSignInSessions")
    assert row.details["reason"] == "accountDisabled"


def test_unknown_user_is_404_and_changes_nothing(app_api: Any) -> None:
    response = app_api("User.RevokeSessions.All").post("/v1.0/users/nobody@contoso.com/revokeSignInSessions")
    assert error_of(response)[:2] == (404, "Request_ResourceNotFound")
    assert not AuditEvent.objects.filter(activity="user.revokeSignInSessions").exists()


def test_an_app_never_revokes_an_administrators_sessions(app_api: Any, make_user: Any) -> None:
    admin = make_user(roles=(DirectoryRole.USER_ADMINISTRATOR,))
    response = app_api("User.RevokeSessions.All", "User.ReadWrite.All").post(
        f"/v1.0/users/{admin.pk}/revokeSignInSessions")
    assert error_of(response)[:2] == (403, "Authorization_RequestDenied")
    assert User.objects.get(pk=admin.pk).sign_in_sessions_valid_from is None
    refusal = AuditEvent.objects.get(activity="graph.users.revokeSessions")
    assert (refusal.result, refusal.reason) == ("failure", "authorization_denied")


@pytest.mark.parametrize(("caller", "target", "allowed"), [
    (DirectoryRole.USER_ADMINISTRATOR, None, True),
    (DirectoryRole.AUTHENTICATION_ADMINISTRATOR, None, True),
    (DirectoryRole.AUTHENTICATION_ADMINISTRATOR, DirectoryRole.AUTHENTICATION_ADMINISTRATOR, True),
    (DirectoryRole.AUTHENTICATION_ADMINISTRATOR, DirectoryRole.USER_ADMINISTRATOR, False),
    (DirectoryRole.USER_ADMINISTRATOR, DirectoryRole.GLOBAL_ADMINISTRATOR, False),
    (DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.GLOBAL_ADMINISTRATOR, True),
])
def test_administrators_revoke_whom_their_role_outranks(admin_api: Any, make_user: Any, caller: DirectoryRole,
                                                        target: DirectoryRole | None, allowed: bool) -> None:
    person = make_user(roles=(target,) if target else ())
    response = admin_api(caller).post(f"/v1.0/users/{person.pk}/revokeSignInSessions")
    if allowed:
        assert response.status_code == 200, response.content
    else:
        assert error_of(response)[:2] == (403, "Authorization_RequestDenied")
    assert (User.objects.get(pk=person.pk).sign_in_sessions_valid_from is not None) is allowed


def test_me_revokes_the_callers_own_sessions_this_one_included(client: Client, make_user: Any) -> None:
    pat = make_user()
    sign_in_session(client, pat)
    other_browser = signed_in(pat)
    response = Api(client).post("/v1.0/me/revokeSignInSessions")
    assert response.status_code == 200, response.content
    assert response.json()["value"] is True
    assert other_browser.get("/security-info").status_code == 302
    after = Api(client).get("/v1.0/me/authentication/methods")
    assert error_of(after)[:2] == (401, "InvalidAuthenticationToken")  # JSON, never a redirect
    row = AuditEvent.objects.get(activity="user.revokeSignInSessions")
    assert row.actor_id == pat.pk and row.target_id == str(pat.pk)


def test_me_is_for_people_not_apps(app_api: Any) -> None:
    response = app_api("User.RevokeSessions.All").post("/v1.0/me/revokeSignInSessions")
    assert error_of(response) == (400, "BadRequest", "/me request is only valid with delegated authentication flow.")
