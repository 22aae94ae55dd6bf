"""What a session has proven (recorded at every sign-in, appended at every re-authentication), TAP sessions signing
in to apps (middleware), the TAP page honouring ``next``, ``acr_values`` with the step-up page, and the step-up page
on its own (the strengths a caller names, validated)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from unittest.mock import patch
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from django.test import Client

from passgate.apps.models import AuthorizationCode
from passgate.core import totp
from passgate.core.access.methods import AuthMethodMode, authentication_from_json
from passgate.core.access.strengths import (
    MULTIFACTOR_ID,
    PHISHING_RESISTANT_MFA_ID,
    AuthenticationStrength,
    Fido2CombinationConfiguration,
)
from passgate.core.oidc import LOOP_LIMIT, LOOP_WINDOW_SECONDS
from passgate.credentials import oath
from passgate.web import session as web_session
from tests.oidc.conftest import RelyingParty, audit, passkey_sign_in, query_of, tap_sign_in, verify_id_token
from tests.services.support import authenticator_for, challenge_of, register

pytestmark = pytest.mark.django_db
PASSWORDLESS_ID = "00000000-0000-0000-0000-000000000003"


def recorded(client: Client) -> Any:
    auth = authentication_from_json(client.session[web_session.AUTHENTICATION])
    assert auth is not None
    return auth


def post_json(client: Client, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


# --- recording ---------------------------------------------------------------------------------------------

def test_a_passkey_sign_in_records_fido2_with_model_and_binding(client: Client, make_user: Any) -> None:
    user = make_user()
    synced = authenticator_for(user, sign_count=1)
    register(user, synced)
    passkey_sign_in(client, synced)
    auth = recorded(client)
    assert auth.user_id == str(user.pk) and len(auth.methods) == 1
    use = auth.methods[0]
    assert use.mode is AuthMethodMode.FIDO2 and use.device_bound is False and use.aaguid
    assert client.session[web_session.AUTH_TIME] and client.session[web_session.METHOD] == "passkey"
    other = Client()
    bound = authenticator_for(user, sign_count=1, backup_eligible=False)
    register(user, bound, name="Security key")
    passkey_sign_in(other, bound)
    assert recorded(other).methods[0].device_bound is True
    assert other.session[web_session.SID] != client.session[web_session.SID]


@pytest.mark.parametrize(("usable_once", "mode"), [(True, AuthMethodMode.TAP_ONE_TIME),
                                                    (False, AuthMethodMode.TAP_MULTI_USE)])
def test_a_tap_sign_in_records_which_pass(client: Client, make_user: Any, issue_tap: Any, usable_once: bool,
                                         mode: AuthMethodMode) -> None:
    user = make_user()
    assert tap_sign_in(client, user.user_principal_name, issue_tap(user, usable_once=usable_once)).status_code == 302
    assert [m.mode for m in recorded(client).methods] == [mode]


def test_re_authentications_are_appended(client: Client, make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    auth = authenticator_for(user, sign_count=1)
    register(user, auth)
    tap_sign_in(client, user.user_principal_name, issue_tap(user))
    sid = client.session[web_session.SID]
    # a passkey
    options = post_json(client, "/signin/reauth/options", {})
    auth.sign_count += 1
    assert post_json(client, "/signin/reauth/verify",
                     {"credential": auth.assert_(challenge=challenge_of(options.json()))}).status_code == 200
    # a Temporary Access Pass
    assert client.post("/signin/reauth/tap", {"tap": issue_tap(user, usable_once=False)}).status_code == 302
    # an authenticator-app code
    enrolment = oath.software_oath_enrol_begin(user=user)
    text = enrolment.secret_text.replace(" ", "")
    seed = base64.b32decode(text + "=" * (-len(text) % 8))
    oath.software_oath_enrol_complete(user=user, method_id=enrolment.method.id, code=totp.code_at(seed, time.time()
                                                                                                 - 30))
    assert client.post("/signin/reauth/code", {"code": totp.code_at(seed, time.time())}).status_code == 302
    assert [m.mode for m in recorded(client).methods] == [
        AuthMethodMode.TAP_ONE_TIME, AuthMethodMode.FIDO2, AuthMethodMode.TAP_MULTI_USE, AuthMethodMode.SOFTWARE_OATH]
    assert client.session[web_session.SID] == sid  # one OpenID Connect session throughout


def test_a_session_from_before_the_record_signs_in_again(rp: RelyingParty) -> None:
    session = rp.browser.session
    del session[web_session.AUTHENTICATION]
    session.save()
    response = rp.authorize()
    target = urlsplit(response["Location"])
    assert target.path == "/signin" and parse_qs(target.query)["prompt"] == ["login"]


# --- TAP sessions and apps ----------------------------------------------------------------------------------

def test_the_tap_page_honours_next(make_rp: Any, make_user: Any, issue_tap: Any, client: Client) -> None:
    user = make_user(upn="new@contoso.com")
    rp = make_rp(client)
    sign_in_url = rp.authorize()["Location"]
    page = client.get(sign_in_url)
    tap_link = page.content.split(b'id="tap-link" href="')[1].split(b'"')[0].decode().replace("&amp;", "&")
    next_url = parse_qs(urlsplit(sign_in_url).query)["next"][0]
    assert parse_qs(urlsplit(tap_link).query)["next"] == [next_url]
    form = client.get(tap_link)
    assert f'name="next" value="{next_url}"'.replace("&", "&amp;").encode() in form.content
    assert b"to continue" in form.content
    response = tap_sign_in(client, user.user_principal_name, issue_tap(user), next_url)
    assert response.status_code == 302 and response["Location"] == next_url


def test_the_tap_page_refuses_an_open_redirect(client: Client, make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = tap_sign_in(Client(), user.user_principal_name, issue_tap(user), evil)
        assert response["Location"] == "/security-info"


def test_a_tap_session_signs_in_to_an_app(make_rp: Any, make_user: Any, issue_tap: Any, client: Client) -> None:
    """The middleware lets a TAP session through to the authorization endpoint only; the ID token says what it
    proved: acr Multifactor authentication (a one-time pass), amr otp."""
    user = make_user()
    rp = make_rp(client)
    tap_sign_in(client, user.user_principal_name, issue_tap(user))
    assert client.get("/admin")["Location"] == "/security-info"  # still scoped
    # public JSON for programs is not a page: answered as to anyone, never redirected to Security info
    assert client.get("/.well-known/openid-configuration")["Content-Type"] == "application/json"
    # No passkey yet and the policy requires one (isRegistrationRequired): asked to add one first; "Not now".
    interrupt = rp.authorize()["Location"]
    assert interrupt.startswith("/signin/add-passkey?next=")
    page = client.get(interrupt)
    assert b"Add a passkey" in page.content and b"3 times left" in page.content
    back = client.post(interrupt, {"next": parse_qs(urlsplit(interrupt).query)["next"][0]})
    assert back.status_code == 302 and back["Location"].startswith("/oidc/authorize?")
    claims = verify_id_token(rp.tokens()["id_token"], audience=rp.client_id)
    assert claims["acr"] == MULTIFACTOR_ID and claims["amr"] == ["mfa", "otp"]  # the two agree


def test_the_add_a_passkey_interrupt_can_be_put_off_three_times_then_is_required(
        make_rp: Any, make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    for left in (3, 2, 1, 0):
        client = Client()
        rp = make_rp(client)
        tap_sign_in(client, user.user_principal_name, issue_tap(user))
        interrupt = rp.authorize()["Location"]
        assert interrupt.startswith("/signin/add-passkey?")
        next_url = parse_qs(urlsplit(interrupt).query)["next"][0]
        if left:
            assert client.post(interrupt, {"next": next_url})["Location"] == next_url
            assert "code" in query_of(client.get(next_url)["Location"])  # not asked again this session
        else:
            page = client.get(interrupt)
            assert b'id="no-more-snoozes"' in page.content and b'id="not-now"' not in page.content
            refused = client.post(interrupt, {"next": next_url})
            assert refused.status_code == 400 and b"requires a passkey now" in refused.content
            assert client.get(next_url)["Location"].startswith("/signin/add-passkey?")
    assert [a.result for a in audit("passkey.registrationSnooze")] == ["success"] * 3 + ["failure"]


def test_a_multi_use_pass_is_reported_too(make_rp: Any, make_user: Any, issue_tap: Any, client: Client) -> None:
    user = make_user()
    register(user, authenticator_for(user))  # has a passkey: no add-a-passkey interrupt
    rp = make_rp(client)
    tap_sign_in(client, user.user_principal_name, issue_tap(user, usable_once=False))
    claims = verify_id_token(rp.tokens()["id_token"], audience=rp.client_id)
    assert claims["acr"] == MULTIFACTOR_ID and claims["amr"] == ["mfa", "otp"]  # the two agree


# --- acr_values and step-up ---------------------------------------------------------------------------------

def step_up_with_passkey(client: Client, auth: Any, page_url: str) -> Any:
    page = client.get(page_url)
    verify = page.content.split(b'data-verify="')[1].split(b'"')[0].decode().replace("&amp;", "&")
    next_url = parse_qs(urlsplit(page_url).query)["next"][0]
    options = post_json(client, "/signin/step-up/options", {})
    auth.sign_count += 1
    credential = auth.assert_(challenge=challenge_of(options.json()))
    return post_json(client, f"{verify}&next={quote(next_url, safe='')}", {"credential": credential})


def test_acr_values_lead_to_the_step_up_page_and_back(make_rp: Any, tap_person: Any) -> None:
    _, auth, client = tap_person
    rp = make_rp(client)
    response = rp.authorize(acr_values=PHISHING_RESISTANT_MFA_ID)
    target = urlsplit(response["Location"])
    assert target.path == "/signin/step-up"
    query = parse_qs(target.query)
    assert query["strength"] == [PHISHING_RESISTANT_MFA_ID]
    assert query["next"][0].startswith("/oidc/authorize?")
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"Phishing-resistant MFA" in page.content and b"passkey" in page.content
    assert b'id="stepup-button"' in page.content
    done = step_up_with_passkey(client, auth, response["Location"])
    assert done.status_code == 200 and done.json()["redirect"] == query["next"][0]
    code = query_of(client.get(query["next"][0])["Location"])["code"]
    claims = verify_id_token(rp.redeem(code).json()["id_token"], audience=rp.client_id)
    assert claims["acr"] == PHISHING_RESISTANT_MFA_ID
    assert claims["amr"] == ["hwk", "mfa", "otp", "user"]
    assert [m.mode for m in recorded(client).methods] == [AuthMethodMode.TAP_ONE_TIME, AuthMethodMode.FIDO2]


def test_an_essential_acr_in_the_claims_parameter_leads_to_the_step_up_page(make_rp: Any, tap_person: Any) -> None:
    """OIDC Core §5.5.1.1: what mod_auth_openidc sends for "Require claim acr:" with OIDCPathAuthRequestParams
    claims=...; the same step-up as acr_values, and the ID token's acr is the value asked for."""
    _, auth, client = tap_person
    rp = make_rp(client)
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": [PHISHING_RESISTANT_MFA_ID]}}})
    response = rp.authorize(claims=claims)
    target = urlsplit(response["Location"])
    assert target.path == "/signin/step-up"
    assert parse_qs(target.query)["strength"] == [PHISHING_RESISTANT_MFA_ID]
    done = step_up_with_passkey(client, auth, response["Location"])
    code = query_of(client.get(done.json()["redirect"])["Location"])["code"]
    assert verify_id_token(rp.redeem(code).json()["id_token"], audience=rp.client_id)["acr"] == \
        PHISHING_RESISTANT_MFA_ID


def test_a_claims_acr_value_comes_before_acr_values(make_rp: Any, tap_person: Any) -> None:
    _, _, client = tap_person
    rp = make_rp(client)
    claims = json.dumps({"id_token": {"acr": {"value": MULTIFACTOR_ID}}})
    tokens = rp.tokens(claims=claims, acr_values=PASSWORDLESS_ID)
    assert verify_id_token(tokens["id_token"], audience=rp.client_id)["acr"] == MULTIFACTOR_ID


@pytest.mark.parametrize("claims", ["{", "[]", '{"id_token": []}', '{"id_token": {"acr": "x"}}',
                                    '{"id_token": {"acr": {"values": "x"}}}', '{"id_token": {"acr": {"values": [5]}}}',
                                    '{"id_token": {"acr": {"essential": "yes"}}}', '{"userinfo": 1}'])
def test_a_malformed_claims_parameter_is_invalid_request(make_rp: Any, tap_person: Any, claims: str) -> None:
    _, _, client = tap_person
    rp = make_rp(client)
    answer = query_of(rp.authorize(claims=claims)["Location"])
    assert answer["error"] == "invalid_request" and answer["state"] == rp.state
    assert audit("oidc.authorize", reason="claims_invalid")


def test_the_first_satisfied_requested_strength_is_the_acr(make_rp: Any, tap_person: Any) -> None:
    _, _, client = tap_person
    rp = make_rp(client)
    tokens = rp.tokens(acr_values=f"{PHISHING_RESISTANT_MFA_ID} {MULTIFACTOR_ID}")
    assert verify_id_token(tokens["id_token"], audience=rp.client_id)["acr"] == MULTIFACTOR_ID


def test_prompt_none_with_an_unmet_strength_is_interaction_required(make_rp: Any, tap_person: Any) -> None:
    _, _, client = tap_person
    rp = make_rp(client)
    response = rp.authorize(acr_values=PHISHING_RESISTANT_MFA_ID, prompt="none")
    answer = query_of(response["Location"])
    assert answer["error"] == "interaction_required" and answer["state"] == rp.state
    assert audit("oidc.authorize", reason="strength_not_met")


def test_a_satisfied_strength_skips_the_page(rp: RelyingParty) -> None:
    page = rp.browser.get("/signin/step-up?" + urlencode({"strength": PASSWORDLESS_ID, "next": "/security-info"}))
    assert page.status_code == 302 and page["Location"] == "/security-info"


@pytest.mark.parametrize("query", [
    {"next": "/"}, {"strength": "not-a-strength", "next": "/"}, {"strength": "11111111-1111-1111-1111-111111111111"},
])
def test_the_step_up_page_refuses_strengths_it_does_not_know(rp: RelyingParty, query: dict[str, str]) -> None:
    response = rp.browser.get("/signin/step-up?" + urlencode(query))
    assert response.status_code == 400
    assert audit("stepUp", result="failure")


def test_the_step_up_page_never_redirects_off_site(rp: RelyingParty) -> None:
    response = rp.browser.get("/signin/step-up?" + urlencode({"strength": MULTIFACTOR_ID,
                                                              "next": "https://evil.example/"}))
    assert response["Location"] == "/"


def test_the_step_up_page_needs_a_session(db: Any) -> None:
    response = Client().get("/signin/step-up?" + urlencode({"strength": MULTIFACTOR_ID}))
    assert response.status_code == 302 and response["Location"].startswith("/signin?next=")


def test_a_passkey_that_does_not_meet_the_strength_says_why(tap_person: Any, monkeypatch: Any) -> None:
    """A caller (later: Conditional Access) names a custom strength that allows one passkey model only; Pat's
    passkey is another model: the page says so before and after the attempt, and nothing continues."""
    from passgate.web.views import stepup

    only_yubikeys = AuthenticationStrength(
        id="5b1f6c2e-7f1a-4f7e-9a39-0c8f0a3f9d11", display_name="Security keys from one vendor", description="",
        policy_type="custom", requirements_satisfied="mfa", allowed_combinations=("fido2",),
        combination_configurations=(Fido2CombinationConfiguration(
            id="c3f4e1a2-0d5b-4a8e-9b2c-6e7f8a9b0c1d", allowed_aaguids=("cb69481e-8ff7-4039-93ec-0a2729a154a8",)),))
    monkeypatch.setattr(stepup, "known_strengths", lambda: {only_yubikeys.id: only_yubikeys})
    _, auth, client = tap_person
    url = stepup.step_up_url([only_yubikeys.id], "/security-info")
    page = client.get(url)
    assert b"Security keys from one vendor" in page.content and b"allows only these passkey models" in page.content
    response = step_up_with_passkey(client, auth, url)
    assert response.status_code == 403 and response.json()["error"]["code"] == "strength_not_met"
    assert "Security keys from one vendor" in response.json()["error"]["message"]
    assert audit("stepUp", reason="strength_not_met")
    assert AuthMethodMode.FIDO2 in recorded(client).modes  # the passkey still counts for what it is


# --- a relying party that keeps sending the person back ---------------------------------------------------------

def test_a_relying_party_that_keeps_sending_the_person_back_is_stopped_with_a_page(rp: RelyingParty) -> None:
    """mod_auth_openidc with "Require claim acr:" and no acr_values rejects every ID token and starts again: after
    LOOP_LIMIT codes within the window the next request gets a page naming what the app asked for and what the
    sign-in met, instead of another round trip (283 of them in 20 s before)."""
    for _ in range(LOOP_LIMIT):
        assert "code" in query_of(rp.authorize()["Location"])
    page = rp.authorize()
    assert page.status_code == 400
    text = page.content.decode()
    assert "Example RP keeps sending you back" in text
    assert "The app didn't ask for any particular sign-in strength." in text
    assert "Phishing-resistant MFA" in text  # what the passkey sign-in meets
    assert audit("oidc.authorize", reason="authorize_loop")
    assert AuthorizationCode.objects.count() == LOOP_LIMIT


def test_the_loop_page_names_the_strength_the_app_asked_for(rp: RelyingParty) -> None:
    for _ in range(LOOP_LIMIT):
        rp.code(acr_values=MULTIFACTOR_ID)
    text = rp.authorize(acr_values=MULTIFACTOR_ID).content.decode()
    assert "The app asked for: Multifactor authentication." in text


def test_other_requests_and_later_ones_are_not_a_loop(rp: RelyingParty, make_rp: Any) -> None:
    for _ in range(LOOP_LIMIT):
        rp.code()
    other = make_rp(rp.browser, name="Other RP")
    assert "code" in query_of(other.authorize()["Location"])  # another app: its own count
    assert "code" in query_of(rp.authorize(scope="openid email")["Location"])  # another request shape
    later = time.time() + LOOP_WINDOW_SECONDS + 1
    with patch("passgate.web.views.oidc.time.time", return_value=later):
        assert "code" in query_of(rp.authorize()["Location"])  # the window has passed
