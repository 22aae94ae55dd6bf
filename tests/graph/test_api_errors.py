"""A program calling Passgate's APIs gets JSON back whatever goes wrong, never an HTML page or a redirect to one:
Graph's error envelope under /v1.0, /beta and /openapi.json, RFC 6749 §5.2 errors on the OAuth and OpenID Connect
endpoints programs call. Each way a request used to get HTML or a redirect is sent here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.utils import timezone

from passgate.directory.models import DirectoryRole
from tests.graph.conftest import Api, error_of, sign_in_session

pytestmark = pytest.mark.django_db


def length_matches(response: Any) -> None:
    """A Content-Length set for the page an error started as must have followed the body that replaced it: an
    HTTP client reads exactly that many bytes (too many: it waits, then fails; too few: truncated JSON)."""
    if response.has_header("Content-Length"):
        assert int(response["Content-Length"]) == len(response.content), (response["Content-Length"],
                                                                          len(response.content))


def graph_error(response: Any) -> tuple[int, str, str]:
    assert response["Content-Type"] == "application/json", (response.status_code, response.content[:200])
    assert not response.has_header("Location")
    length_matches(response)
    return error_of(response)


def oauth_error(response: Any) -> tuple[int, str]:
    assert response["Content-Type"] == "application/json", (response.status_code, response.content[:200])
    length_matches(response)
    body = response.json()
    assert set(body) == {"error", "error_description"} and body["error_description"], body
    return response.status_code, body["error"]


@pytest.fixture
def api(app_api: Any) -> Api:
    return app_api("User.ReadWrite.All")


# --- sessions that can't be used ---------------------------------------------------------------------------------

@pytest.mark.parametrize("ending", ["idle", "lifetime", "revoked", "disabled"])
def test_a_session_that_has_ended_gets_401_json_not_a_redirect(client: Client, make_user: Any,
                                                               ending: str) -> None:
    from passgate.audit.services import Actor
    from passgate.directory.services import user_revoke_sign_in_sessions, user_set_enabled

    admin = make_user(roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    sign_in_session(client, admin)
    assert client.get("/v1.0/users").status_code == 200
    session = client.session
    if ending == "idle":
        session["pg_last_seen"] = (timezone.now() - timedelta(hours=2)).isoformat()
    elif ending == "lifetime":
        session["pg_auth_time"] = (timezone.now() - timedelta(days=2)).isoformat()
    session.save()
    if ending == "revoked":
        user_revoke_sign_in_sessions(user=admin, actor=Actor.system("test"))
    elif ending == "disabled":
        make_user(roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))  # not the last one
        user_set_enabled(user=admin, enabled=False, actor=Actor.system("test"))
    for method in ("GET", "POST", "DELETE"):
        response = Api(client).request(method, "/v1.0/users")
        assert graph_error(response)[:2] == (401, "InvalidAuthenticationToken"), method


# --- Django's own answers, before or around the views ---------------------------------------------------------------

def test_the_version_roots_without_a_slash_are_graph_answers_not_redirects(api: Api) -> None:
    for path in ("/v1.0", "/beta"):
        assert graph_error(api.get(path)) == (400, "BadRequest", "Resource not found for the segment ''.")
        assert graph_error(api.post(path))[:2] == (400, "BadRequest")
    assert graph_error(Api(api.client).get("/v1.0"))[:2] == (401, "InvalidAuthenticationToken")


def test_a_wrong_method_on_openapi_json_is_a_graph_405(client: Client) -> None:
    assert client.get("/openapi.json").status_code == 200
    for method in ("POST", "PUT", "DELETE"):
        response = client.generic(method, "/openapi.json")
        assert graph_error(response) == (405, "Request_BadRequest",
                                         "Specified HTTP method is not allowed for the request target."), method
        assert "GET" in response["Allow"]
    assert graph_error(client.get("/openapi.json/extra"))[:2] == (404, "Request_ResourceNotFound")


def test_methods_nobody_serves_are_graph_405(api: Api) -> None:
    for method in ("PUT", "TRACE", "FROBNICATE"):
        response = api.client.generic(method, "/v1.0/users", HTTP_AUTHORIZATION=f"Bearer {api.token}")
        assert graph_error(response)[:2] == (405, "Request_BadRequest"), method


def test_a_host_not_allowed_is_a_graph_400(api: Api) -> None:
    response = api.get("/v1.0/users", HTTP_HOST="evil.example")
    assert graph_error(response)[:2] == (400, "BadRequest")
    page = Client().get("/signin", HTTP_HOST="evil.example")  # a page keeps Django's HTML answer
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_too_many_query_parameters_is_a_graph_400(api: Api) -> None:
    query = urlencode([("x", str(n)) for n in range(1100)])
    assert graph_error(api.get(f"/v1.0/users?{query}")) == (400, "BadRequest",
                                                             "The request has too many parameters.")


@pytest.mark.parametrize("path", ["/v1.0/users/%", "/v1.0/users/%ZZ", "/v1.0/users/%E0%A4%A", "/v1.0/%FF%FE",
                                  "/v1.0/users?$filter=%", "/v1.0/users?$filter=%E0%A4%A", "/beta/%"])
def test_bad_percent_encoding_is_a_graph_answer(api: Api, path: str) -> None:
    status, _code, _message = graph_error(api.get(path))
    assert 400 <= status < 500


def test_the_token_endpoint_answers_oauth_json_to_what_django_refuses(client: Client) -> None:
    too_many = urlencode([(f"f{n}", "x") for n in range(1100)])
    response = client.post("/oauth2/v2.0/token", data=too_many, content_type="application/x-www-form-urlencoded")
    assert oauth_error(response) == (400, "invalid_request")
    too_big = urlencode({"grant_type": "client_credentials", "padding": "x" * 300_000})
    response = client.post("/contoso/oauth2/v2.0/token", data=too_big,
                           content_type="application/x-www-form-urlencoded")
    assert oauth_error(response) == (413, "invalid_request")
    assert response["Cache-Control"] == "no-store"
    assert oauth_error(client.get("/oauth2/v2.0/authorize")) == (404, "invalid_request")


def test_openid_connect_endpoints_for_programs_answer_json(client: Client) -> None:
    for path in ("/oidc/jwks", "/.well-known/openid-configuration"):
        response = client.post(path)
        assert oauth_error(response) == (405, "invalid_request"), path
        assert response["Allow"] == "GET"
    assert oauth_error(client.get("/.well-known/nothing")) == (404, "invalid_request")
    # pages for people keep their pages
    assert client.get("/oidc/authorize")["Content-Type"].startswith("text/html")
    assert client.get("/no-such-page")["Content-Type"].startswith("text/html")


# --- a crash anywhere -------------------------------------------------------------------------------------------

class Crash:
    """A stand-in for any fault outside a view (a database gone, a bug in a middleware): raises when asked to."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get("X-Test-Crash"):
            raise RuntimeError("boom")
        return self.get_response(request)


def test_a_crash_outside_the_api_views_is_a_graph_500(api: Api, settings: Any) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.graph.test_api_errors.Crash"]
    api.client.raise_request_exception = False
    response = api.get("/v1.0/users", HTTP_X_TEST_CRASH="1")
    assert graph_error(response) == (500, "generalException", "An unspecified error has occurred.")
    assert b"boom" not in response.content and response["request-id"]
    oauth = api.client.post("/oauth2/v2.0/token", HTTP_X_TEST_CRASH="1")
    assert oauth_error(oauth) == (500, "server_error")
    page = api.client.get("/signin", HTTP_X_TEST_CRASH="1")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
