"""A page's Content-Security-Policy ``form-action``: ``'self'``, plus the origin its forms really end at after their
redirects (Chromium applies form-action to every redirect after a form submission, tests/browser/
test_content_security_policy.py shows it): the app's registered redirect URI when the page continues that app's
authorization request, the registered post-logout redirect URI on the sign-out confirmation. Nothing else: not an
unregistered URI, not a URI of another client, not an outside ``next``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.test import Client

from tests.oidc.conftest import POST_LOGOUT_URI, RelyingParty, passkey_sign_in, tap_sign_in

pytestmark = pytest.mark.django_db

RP_ORIGIN = "https://rp.example.org"


def form_action(response: Any) -> list[str]:
    found = re.search(r"(?:^|; )form-action ([^;]*)", response["Content-Security-Policy"])
    assert found, response["Content-Security-Policy"]
    return found.group(1).split()


def authorize_path(rp: RelyingParty, **params: Any) -> str:
    return "/oidc/authorize?" + urlencode(rp.authorize_params(**params))


def test_the_sign_in_pages_of_an_authorization_request_may_send_their_forms_on_to_the_app(make_rp: Any,
                                                                                          make_user: Any,
                                                                                          issue_tap: Any) -> None:
    rp = make_rp(Client())
    response = rp.authorize()
    assert response.status_code == 302 and response["Location"].startswith("/signin?")
    sign_in = rp.browser.get(response["Location"])
    assert form_action(sign_in) == ["'self'", RP_ORIGIN]
    next_url = authorize_path(rp)
    tap_page = rp.browser.get("/signin/tap?" + urlencode({"next": next_url}))
    assert tap_page.status_code == 200 and form_action(tap_page) == ["'self'", RP_ORIGIN]
    user = make_user(upn="pat@contoso.com")
    wrong = tap_sign_in(rp.browser, user.user_principal_name, "WRONG-PASS", next_url)  # next in the form only
    assert wrong.status_code == 400 and form_action(wrong) == ["'self'", RP_ORIGIN]
    right = tap_sign_in(rp.browser, user.user_principal_name, issue_tap(user), next_url)
    assert right.status_code == 302 and right["Location"] == next_url  # ... and on to the app, which the CSP allows


def test_a_nested_next_is_followed_to_the_authorization_request(make_rp: Any, person: Any) -> None:
    """Confirm it's you (reauth) → the add-a-passkey prompt → the authorization request → the app."""
    rp = make_rp(Client())
    passkey_sign_in(rp.browser, person[1])
    prompt = "/signin/add-passkey?" + urlencode({"next": authorize_path(rp)})
    reauth = rp.browser.get("/signin/reauth?" + urlencode({"next": prompt}))
    assert reauth.status_code == 200 and form_action(reauth) == ["'self'", RP_ORIGIN]
    too_deep = authorize_path(rp)  # three pages in between: more than any real chain
    for _ in range(4):
        too_deep = "/signin/reauth?" + urlencode({"next": too_deep})
    assert form_action(rp.browser.get(too_deep)) == ["'self'"]


@pytest.mark.parametrize("change", ["unregistered redirect URI", "another client's redirect URI", "no client",
                                    "client id in capitals", "two redirect URIs", "outside next",
                                    "scheme-relative next"])
def test_nothing_but_a_registered_redirect_uri_joins_form_action(make_rp: Any, change: str) -> None:
    rp = make_rp(Client())
    make_rp(Client(), name="Other", redirect_uris=("https://other.example.net/cb",))
    path = {
        "unregistered redirect URI": lambda: authorize_path(rp, redirect_uri="https://attacker.example.net/cb"),
        "another client's redirect URI": lambda: authorize_path(rp, redirect_uri="https://other.example.net/cb"),
        "no client": lambda: authorize_path(rp, client_id=None),
        "client id in capitals": lambda: authorize_path(rp, client_id=rp.client_id.upper()),
        "two redirect URIs": lambda: authorize_path(rp) + "&redirect_uri=" + quote(rp.redirect_uri, safe=""),
        "outside next": lambda: RP_ORIGIN + authorize_path(rp),
        "scheme-relative next": lambda: "//rp.example.org" + authorize_path(rp),
    }[change]()
    response = rp.browser.get("/signin/tap?" + urlencode({"next": path}))
    assert response.status_code == 200 and form_action(response) == ["'self'"]


def test_the_sign_out_confirmation_may_send_its_form_on_to_the_registered_post_logout_uri(
        rp: RelyingParty, make_user: Any) -> None:
    from tests.services.support import authenticator_for, register

    hint = rp.tokens()["id_token"]  # Pat's, from Pat's browser
    sam = make_user(upn="sam@contoso.com", display_name="Sam")
    sams_auth = authenticator_for(sam, sign_count=1)
    register(sam, sams_auth)
    sams_browser = Client()
    passkey_sign_in(sams_browser, sams_auth)
    params = {"id_token_hint": hint, "post_logout_redirect_uri": POST_LOGOUT_URI}
    confirm = sams_browser.get("/oidc/logout?" + urlencode(params))  # not Sam's hint: ask Sam
    assert confirm.status_code == 200 and b'id="logout-confirm"' in confirm.content
    assert form_action(confirm) == ["'self'", RP_ORIGIN]
    without_target = sams_browser.get("/oidc/logout?" + urlencode({"id_token_hint": hint}))
    assert without_target.status_code == 200 and form_action(without_target) == ["'self'"]
    signed_out = sams_browser.post("/oidc/logout/confirm", {**params, "action": "signout"})
    assert signed_out.status_code == 302 and signed_out["Location"] == POST_LOGOUT_URI
