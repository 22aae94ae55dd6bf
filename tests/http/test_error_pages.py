"""Passgate's own 400, 403, 404 and 500 pages (issue 14 item 10): the product's layout, a way home, no database
or signed-in person needed; the APIs keep their JSON errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.urls import get_resolver

from tests.http.conftest import http_tap_sign_in

pytestmark = pytest.mark.django_db

TITLES = {400: "This request couldn't be read", 403: "You can't open this page", 404: "Page not found",
          500: "Something went wrong"}


def assert_error_page(response: Any, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert f"<h1>{TITLES[status]}</h1>".replace("'", "&#x27;") in page
    assert '<a class="button primary" href="/" id="go-home">Go to the start page</a>' in page
    assert "passgate/passgate.css" in page and 'class="brand"' in page  # the product's layout
    assert "Traceback" not in page and "Django" not in page


def test_debug_is_off() -> None:
    assert settings.DEBUG is False  # otherwise Django shows its technical pages instead


@pytest.mark.parametrize("path", ["/admin/users/not-a-uuid", "/no-such-page", "/admin/conditional-access/1234"])
def test_a_malformed_or_unknown_address_gets_the_404_page(path: str) -> None:
    assert_error_page(Client().get(path), 404)


def test_the_404_page_for_a_signed_in_person_is_the_same_page(make_user: Any, issue_tap: Any) -> None:
    user = make_user(upn="kim@contoso.com")
    client = Client()
    http_tap_sign_in(client, user.user_principal_name, issue_tap(user))
    assert_error_page(client.get("/security-info/nothing-here"), 404)


def test_a_bad_host_header_gets_the_400_page_on_a_web_path_and_json_on_the_api() -> None:
    assert_error_page(Client().get("/signin", HTTP_HOST="bad host!"), 400)
    api = Client().get("/v1.0/me", HTTP_HOST="bad host!")
    assert api.status_code == 400 and api["Content-Type"] == "application/json"


@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_each_handler_renders_without_the_database(status: int) -> None:
    handler = get_resolver().resolve_error_handler(status)
    request = RequestFactory().get("/somewhere")
    with connection.execute_wrapper(refuse_every_query):
        response = handler(request) if status == 500 else handler(request, Exception("refused"))
    assert_error_page(response, status)


def refuse_every_query(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    raise OperationalError("the database is down (test)")


@pytest.fixture
def boom_urls(settings: Any) -> Iterator[None]:
    settings.ROOT_URLCONF = "tests.http.boom_urls"
    yield


def test_the_500_page_renders_when_the_database_is_down(boom_urls: None) -> None:
    client = Client(raise_request_exception=False)
    assert client.get("/boom").status_code == 200
    with connection.execute_wrapper(refuse_every_query):
        assert_error_page(client.get("/boom"), 500)


def test_api_paths_keep_their_json_errors() -> None:
    missing = Client().get("/v1.0/no-such-resource")
    assert missing.status_code in (401, 404) and missing["Content-Type"] == "application/json"
    oauth = Client().get("/oauth2/v2.0/no-such-endpoint")
    assert oauth["Content-Type"] == "application/json"
