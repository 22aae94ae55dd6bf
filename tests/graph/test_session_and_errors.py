"""Signed-in administrators on the API (session + CSRF), and Graph's error envelope for every kind of failure."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from passgate.audit.models import AuditEvent
from passgate.directory.models import DirectoryRole, SecurityGroup
from tests.graph.conftest import Api, error_of, issue_token, sign_in_session

pytestmark = pytest.mark.django_db
GROUP = {"displayName": "Pilot", "mailEnabled": False, "mailNickname": "pilot", "securityEnabled": True}


def csrf_token(client: Client) -> str:
    """What a page gives the browser: the CSRF cookie (the security-info page sets it)."""
    assert client.get("/security-info").status_code == 200
    return str(client.cookies["passgate_csrf"].value)


@pytest.fixture
def strict_admin(make_user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    sign_in_session(client, make_user(upn="admin@contoso.com", roles=(DirectoryRole.USER_ADMINISTRATOR,)))
    return client


def test_session_writes_without_a_csrf_token_are_refused(strict_admin: Client) -> None:
    api = Api(strict_admin)
    assert api.get("/v1.0/groups").status_code == 200  # reads need no token
    for response in (api.post("/v1.0/groups", GROUP), api.patch("/v1.0/groups/x", {}), api.delete("/v1.0/users/x")):
        status, code, message = error_of(response)
        assert (status, code) == (403, "Authorization_RequestDenied")
        assert message.startswith("CSRF Failed")
    assert not SecurityGroup.objects.exists()


def test_session_writes_with_the_csrf_token_work(strict_admin: Client) -> None:
    token = csrf_token(strict_admin)
    api = Api(strict_admin)
    assert error_of(api.post("/v1.0/groups", GROUP, HTTP_X_CSRFTOKEN="wrong" * 7))[:2] == (
        403, "Authorization_RequestDenied")
    response = api.post("/v1.0/groups", GROUP, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    row = AuditEvent.objects.get(activity="group.add")
    assert row.actor_name == "admin@contoso.com"


def test_a_bearer_token_needs_no_csrf_token_even_beside_a_session(strict_admin: Client) -> None:
    api = Api(strict_admin, issue_token("Group.ReadWrite.All"))
    assert api.post("/v1.0/groups", GROUP).status_code == 201
    assert AuditEvent.objects.get(activity="group.add").actor_name == "app:Test app"  # the token wins


def test_a_broken_token_is_not_rescued_by_a_session(strict_admin: Client) -> None:
    response = Api(strict_admin, "garbage").get("/v1.0/groups")
    assert error_of(response)[:2] == (401, "InvalidAuthenticationToken")
    assert response["WWW-Authenticate"] == 'Bearer realm="passgate", error="invalid_token"'


def test_people_without_an_admin_role_are_refused_and_audited(client: Client, make_user: Any) -> None:
    sign_in_session(client, make_user(upn="pat@contoso.com"))
    assert error_of(Api(client).get("/v1.0/users"))[:2] == (403, "Authorization_RequestDenied")
    row = AuditEvent.objects.get(activity="graph.users.read")
    assert (row.result, row.reason, row.actor_name) == ("failure", "authorization_denied", "pat@contoso.com")


def test_a_temporary_access_pass_session_never_reaches_the_api(client: Client, make_user: Any) -> None:
    from passgate.web import session as web_session

    sign_in_session(client, make_user(roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,)))
    s = client.session
    s[web_session.METHOD] = "tap"
    s.save()
    for path in ("/v1.0/users", "/beta/me/authentication/methods", "/v1.0/nothing-here", "/v1.0"):
        response = client.get(path)  # JSON for the API's clients, never a redirect to Security info
        status, code, message = error_of(response)
        assert (status, code) == (401, "InvalidAuthenticationToken"), path
        assert "Temporary Access Pass" in message
        assert response["Content-Type"] == "application/json"
    assert client.get("/admin").url == "/security-info"  # pages still send a pass session to Security info


def test_the_api_refuses_a_temporary_access_pass_session_itself(rf: Any, make_user: Any) -> None:
    """Should the middleware ever let one through, the Graph API's own session check refuses it."""
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework import exceptions
    from rest_framework.request import Request

    from passgate.graph_api.authentication import GraphSessionAuthentication

    django_request = rf.get("/v1.0/users")
    django_request.user = make_user(roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    django_request.session = SessionStore()
    django_request.session["pg_method"] = "tap"
    with pytest.raises(exceptions.AuthenticationFailed, match="Temporary Access Pass"):
        GraphSessionAuthentication().authenticate(Request(django_request))
    django_request.session["pg_method"] = "passkey"
    principal, _ = GraphSessionAuthentication().authenticate(Request(django_request))
    assert principal.caller.roles == frozenset({DirectoryRole.GLOBAL_ADMINISTRATOR.value})


def test_a_disabled_administrator_is_anonymous(client: Client, make_user: Any) -> None:
    admin = make_user(roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    sign_in_session(client, admin)
    admin.account_enabled = False
    admin.save()
    assert error_of(client.get("/v1.0/users"))[:2] == (401, "InvalidAuthenticationToken")


# --- the envelope -----------------------------------------------------------------------------------------

def test_every_failure_has_graphs_envelope_and_request_ids(app_api: Any) -> None:
    api = app_api("User.Read.All")
    anonymous = Api(api.client)
    cases = [
        (anonymous.get("/v1.0/users"), 401, "InvalidAuthenticationToken", "Access token is empty."),
        (Api(api.client, "").get("/v1.0/users"), 401, "InvalidAuthenticationToken", "Access token is empty."),
        (api.post("/v1.0/groups", GROUP), 403, "Authorization_RequestDenied",
         "Insufficient privileges to complete the operation."),
        (api.get("/v1.0/users/nobody@contoso.com"), 404, "Request_ResourceNotFound",
         "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not "
         "present."),
        (api.request("PUT", "/v1.0/users", {}), 405, "Request_BadRequest",
         "Specified HTTP method is not allowed for the request target."),
        (api.request("OPTIONS", "/v1.0/users"), 405, "Request_BadRequest",
         "Specified HTTP method is not allowed for the request target."),
        (api.get("/v1.0/me/drive"), 400, "BadRequest", "Resource not found for the segment 'drive'."),
        (api.get("/v1.0/users/x/manager"), 400, "BadRequest", "Resource not found for the segment 'manager'."),
        (api.get("/beta/"), 400, "BadRequest", "Resource not found for the segment ''."),
        (anonymous.get("/v1.0/me"), 401, "InvalidAuthenticationToken", "Access token is empty."),
    ]
    for response, status, code, message in cases:
        assert error_of(response) == (status, code, message), response.content
        assert response["Content-Type"] == "application/json"
        date = response.json()["error"]["innerError"]["date"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", date)


def test_client_request_id_is_echoed(app_api: Any) -> None:
    api = app_api("User.Read.All")
    ok = api.get("/v1.0/users", HTTP_CLIENT_REQUEST_ID="7f4e9b0a-aaaa-bbbb-cccc-0123456789ab")
    assert ok["client-request-id"] == "7f4e9b0a-aaaa-bbbb-cccc-0123456789ab"
    assert ok["request-id"] != ok["client-request-id"]
    failed = api.get("/v1.0/users/none@contoso.com", HTTP_CLIENT_REQUEST_ID="abc")
    assert failed.json()["error"]["innerError"]["client-request-id"] == "abc" == failed["client-request-id"]


def test_the_accept_header_does_not_matter(app_api: Any) -> None:
    api = app_api("User.Read.All")
    assert api.get("/v1.0/users", HTTP_ACCEPT="text/html").status_code == 200
    assert api.get("/v1.0/users", HTTP_ACCEPT="application/xml")["Content-Type"] == "application/json"


def test_the_handler_maps_any_passgate_error_and_keeps_a_target(rf: Any) -> None:
    """Endpoints added later raise core errors (policy validation, policy denials) and get Graph's envelope."""
    from passgate.core.errors import PolicyDenied
    from passgate.core.policy.errors import PolicyValidationError
    from passgate.graph_api.errors import graph_exception_handler

    request = rf.get("/v1.0/policies/authenticationMethodsPolicy")
    invalid = graph_exception_handler(
        PolicyValidationError("At most 3 passkey profiles", target="passkeyProfiles[3]"), {"request": request})
    assert invalid.status_code == 400
    assert invalid.data["error"]["code"] == "Request_BadRequest"
    assert invalid.data["error"]["target"] == "passkeyProfiles[3]"
    denied = graph_exception_handler(PolicyDenied("Not allowed by policy"), {"request": request})
    assert (denied.status_code, denied.data["error"]["code"]) == (400, "Request_BadRequest")
    assert denied.data["error"]["message"] == "Not allowed by policy"
    crashed = graph_exception_handler(RuntimeError("boom"), {"request": request})
    assert (crashed.status_code, crashed.data["error"]["code"]) == (500, "generalException")
    assert "boom" not in crashed.data["error"]["message"]
