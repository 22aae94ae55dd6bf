"""The device authorization grant (RFC 8628) over HTTP: a device asks for codes, Pat approves on /device with the
passkey session, the device polls the token endpoint; and everything that must go wrong: a reused, expired or
another client's device code, polling too fast, a denial, wrong user codes and their back-off, Conditional Access
blocking the app, a visitor who is not signed in."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from passgate.access.services import ca_policy_create
from passgate.apps.models import DeviceAuthorization, OidcGrant
from passgate.audit.models import SignInEvent
from passgate.audit.services import Actor
from passgate.core.access import PHISHING_RESISTANT_MFA_ID
from passgate.core.throttle import RULES, Scope
from tests.oidc.conftest import ISSUER, RelyingParty, audit, basic, verify_id_token

pytestmark = pytest.mark.django_db
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
FORM = "application/x-www-form-urlencoded"


def ask(rp: RelyingParty, *, scope: str = "openid profile offline_access", **form: Any) -> Any:
    """POST /oidc/device_authorization as the app (its secret by Basic, or a public client's client_id)."""
    headers = {"HTTP_AUTHORIZATION": basic(rp.client_id, rp.secret)} if rp.secret else {}
    body = {"scope": scope, **({} if rp.secret else {"client_id": rp.client_id}), **form}
    return rp.back_channel.post("/oidc/device_authorization", data=urlencode(body), content_type=FORM, **headers)


def codes(rp: RelyingParty, **kwargs: Any) -> dict[str, Any]:
    response = ask(rp, **kwargs)
    assert response.status_code == 200, response.content
    return dict(response.json())


def poll(rp: RelyingParty, device_code: str, **form: Any) -> Any:
    return rp.token(grant_type=DEVICE_GRANT, device_code=device_code, auth="basic" if rp.secret else "none", **form)


def enter(browser: Client, user_code: str, action: str = "continue") -> Any:
    return browser.post("/device", {"user_code": user_code, "action": action})


def approve(browser: Client, user_code: str) -> Any:
    page = enter(browser, user_code)
    assert page.status_code == 200 and b'id="device-approve"' in page.content, page.content
    done = enter(browser, user_code, "approve")
    assert done.status_code == 200 and b"signed in to" in done.content, done.content
    return done


def not_too_soon(device_code_row: DeviceAuthorization) -> None:
    """As if the device waited its interval since its last poll."""
    DeviceAuthorization.objects.filter(pk=device_code_row.pk).update(
        last_polled_at=timezone.now() - timedelta(seconds=device_code_row.interval + 1))


@pytest.fixture
def device_rp(make_rp: Any, browser: Client) -> RelyingParty:
    """A public client (a command-line tool) allowed the device grant, and Pat's signed-in browser."""
    return make_rp(browser, name="Deploy CLI", public=True, redirect_uris=("http://127.0.0.1:8765/cb",),
                   allow_device_code=True)


def test_discovery_names_the_endpoint_and_the_grant() -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        document = Client().get(path).json()
        assert document["device_authorization_endpoint"] == f"{ISSUER}/oidc/device_authorization"
        assert DEVICE_GRANT in document["grant_types_supported"]


def test_pat_approves_on_the_page_and_the_device_gets_the_code_flows_tokens(device_rp: RelyingParty,
                                                                            person: Any) -> None:
    answer = codes(device_rp)
    assert answer["verification_uri"] == f"{ISSUER}/device"
    assert answer["verification_uri_complete"] == f"{ISSUER}/device?user_code={answer['user_code']}"
    assert answer["expires_in"] == 600 and answer["interval"] == 5
    assert len(answer["user_code"]) == 9 and answer["user_code"][4] == "-"
    row = DeviceAuthorization.objects.get()
    assert bytes(row.device_code_sha256) != answer["device_code"].encode()  # SHA-256 only
    assert poll(device_rp, answer["device_code"]).json()["error"] == "authorization_pending"
    assert not audit("oidc.token", result="failure")  # waiting is no refusal
    # The link from the device fills the code in; nothing is looked up until Pat continues.
    prefilled = device_rp.browser.get(urlsplit(answer["verification_uri_complete"]).path + "?"
                                      + urlsplit(answer["verification_uri_complete"]).query)
    assert prefilled.status_code == 200 and answer["user_code"].encode() in prefilled.content
    page = enter(device_rp.browser, answer["user_code"].lower().replace("-", " "))  # case and dash don't matter
    assert b"Deploy CLI" in page.content and b"Stay signed in for you" in page.content
    approve(device_rp.browser, answer["user_code"])
    not_too_soon(row)
    response = poll(device_rp, answer["device_code"])
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"].startswith("pgrt_")
    claims = verify_id_token(tokens["id_token"], audience=device_rp.client_id)
    user, _ = person
    grant = OidcGrant.objects.get()
    assert claims["sub"] == str(user.pk) and claims["acr"] == PHISHING_RESISTANT_MFA_ID
    assert claims["amr"] == grant.amr and "mfa" in claims["amr"]
    assert claims["sid"] == grant.sid and claims["auth_time"] == int(grant.auth_time.timestamp())
    assert "nonce" not in claims
    assert device_rp.userinfo(tokens["access_token"]).json()["sub"] == str(user.pk)
    approved = audit("oidc.deviceVerify", result="success")
    assert approved[-1].details["decision"] == "approved" and approved[-1].details["grantId"] == str(grant.pk)
    assert audit("oidc.token", result="success")[-1].details["grantType"] == DEVICE_GRANT
    logged = SignInEvent.objects.get(app_id=device_rp.client_id)
    assert logged.error_code == 0 and logged.user_id == user.pk
    refreshed = device_rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"], auth="none")
    assert refreshed.status_code == 200, refreshed.content


def test_the_device_code_gives_tokens_once(device_rp: RelyingParty) -> None:
    answer = codes(device_rp)
    approve(device_rp.browser, answer["user_code"])
    assert poll(device_rp, answer["device_code"]).status_code == 200
    again = poll(device_rp, answer["device_code"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert audit("oidc.token", result="failure")[-1].reason == "device_code_used"


@pytest.mark.django_db(transaction=True)
def test_concurrent_polls_after_approval_get_tokens_once(device_rp: RelyingParty) -> None:
    from django.db import connections

    answer = codes(device_rp)
    approve(device_rp.browser, answer["user_code"])
    barrier, lock, statuses = threading.Barrier(6), threading.Lock(), []

    def take() -> None:
        try:
            barrier.wait(timeout=30)
            status = poll(device_rp, answer["device_code"]).status_code
            with lock:
                statuses.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200] + [400] * 5
    from passgate.apps.models import OidcToken

    assert OidcToken.objects.filter(kind=OidcToken.Kind.ACCESS).count() == 1


def test_polling_faster_than_the_interval_is_slow_down_and_the_interval_grows(device_rp: RelyingParty) -> None:
    answer = codes(device_rp)
    assert poll(device_rp, answer["device_code"]).json()["error"] == "authorization_pending"
    too_soon = poll(device_rp, answer["device_code"])
    assert too_soon.status_code == 400 and too_soon.json()["error"] == "slow_down"
    row = DeviceAuthorization.objects.get()
    assert row.interval == 10
    assert audit("oidc.token", result="failure")[-1].reason == "slow_down"
    DeviceAuthorization.objects.filter(pk=row.pk).update(last_polled_at=timezone.now() - timedelta(seconds=6))
    assert poll(device_rp, answer["device_code"]).json()["error"] == "slow_down"  # 6 s < the new 10 s
    assert DeviceAuthorization.objects.get().interval == 15
    not_too_soon(DeviceAuthorization.objects.get())
    assert poll(device_rp, answer["device_code"]).json()["error"] == "authorization_pending"


def test_an_expired_device_code_is_expired_token_and_its_user_code_is_not_found(device_rp: RelyingParty) -> None:
    answer = codes(device_rp)
    DeviceAuthorization.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = poll(device_rp, answer["device_code"])
    assert response.status_code == 400 and response.json()["error"] == "expired_token"
    page = enter(device_rp.browser, answer["user_code"])
    assert page.status_code == 400 and b"isn&#x27;t valid" in page.content
    assert audit("oidc.deviceVerify", result="failure")[-1].reason == "user_code_unknown"


def test_another_client_cannot_poll_the_code_and_the_owner_still_can(device_rp: RelyingParty,
                                                                       make_rp: Any) -> None:
    other = make_rp(name="Other tool", allow_device_code=True)
    answer = codes(device_rp)
    stolen = poll(other, answer["device_code"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert audit("oidc.token", result="failure")[-1].reason == "device_code_other_client"
    approve(device_rp.browser, answer["user_code"])
    assert poll(device_rp, answer["device_code"]).status_code == 200


def test_an_unknown_device_code_is_invalid_grant(device_rp: RelyingParty) -> None:
    response = poll(device_rp, "not-a-device-code")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert audit("oidc.token", result="failure")[-1].reason == "device_code_unknown"


def test_denied_is_access_denied_at_every_later_poll(device_rp: RelyingParty) -> None:
    answer = codes(device_rp)
    enter(device_rp.browser, answer["user_code"])
    done = enter(device_rp.browser, answer["user_code"], "deny")
    assert done.status_code == 200 and b"Request denied" in done.content
    for _ in range(2):
        response = poll(device_rp, answer["device_code"])
        assert response.status_code == 400 and response.json()["error"] == "access_denied"
    assert audit("oidc.deviceVerify", result="failure")[-1].reason == "user_denied"
    assert not OidcGrant.objects.exists()
    # Denied is decided: approving afterwards finds nothing to approve.
    assert enter(device_rp.browser, answer["user_code"], "approve").status_code == 400


def test_unknown_and_malformed_user_codes_are_refused_and_audited(device_rp: RelyingParty) -> None:
    codes(device_rp)
    unknown = enter(device_rp.browser, "BBBB-BBBB")
    assert unknown.status_code == 400 and b'id="device-error"' in unknown.content
    malformed = enter(device_rp.browser, "AEIOU-1234")
    assert malformed.status_code == 400
    reasons = [event.reason for event in audit("oidc.deviceVerify", result="failure")]
    assert reasons == ["user_code_unknown", "user_code_malformed"]
    assert DeviceAuthorization.objects.get().status == DeviceAuthorization.Status.PENDING


def test_wrong_user_codes_make_the_person_wait_even_for_a_right_one(device_rp: RelyingParty, clock: Any) -> None:
    answer = codes(device_rp)
    rule = RULES[Scope.DEVICE_USER]
    for _ in range(rule.free_failures + 1):
        assert enter(device_rp.browser, "BBBB-BBBB").status_code == 400
    refused = enter(device_rp.browser, answer["user_code"])  # right, but refused unchecked while the wait runs
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert audit("oidc.deviceVerify", result="failure")[-1].reason == "user_code_throttled"
    clock.advance(rule.first_wait.total_seconds())
    assert enter(device_rp.browser, answer["user_code"]).status_code == 200


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in_and_nothing_is_looked_up(device_rp: RelyingParty) -> None:
    answer = codes(device_rp)
    visitor = Client()
    for response in (visitor.get(f"/device?user_code={answer['user_code']}"),
                     visitor.post("/device", {"user_code": answer["user_code"], "action": "approve"})):
        assert response.status_code == 302
        target = urlsplit(response["Location"])
        assert target.path == "/signin"
        assert parse_qs(target.query)["next"] == [f"/device?user_code={answer['user_code']}"]
    assert not audit("oidc.deviceVerify")
    assert DeviceAuthorization.objects.get().status == DeviceAuthorization.Status.PENDING


def test_conditional_access_blocking_the_app_denies_the_device(device_rp: RelyingParty) -> None:
    ca_policy_create(body={
        "displayName": "No deploys from here", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]},
                       "applications": {"includeApplications": [device_rp.client_id]}},
        "grantControls": {"operator": "OR", "builtInControls": ["block"]}}, actor=Actor.system("test"))
    answer = codes(device_rp)
    page = enter(device_rp.browser, answer["user_code"])
    assert page.status_code == 403 and b"No deploys from here" in page.content
    response = poll(device_rp, answer["device_code"])
    assert response.json()["error"] == "access_denied"
    assert audit("oidc.deviceVerify", result="failure")[-1].reason == "conditional_access_blocked"
    logged = SignInEvent.objects.get(app_id=device_rp.client_id)
    assert logged.reason_code == "conditional_access_blocked" and logged.error_code == 53003


def test_a_pass_session_is_stepped_up_to_a_passkey_when_the_app_requires_one(make_rp: Any, tap_person: Any) -> None:
    from tests.oidc.test_session_and_stepup import step_up_with_passkey

    _, auth, client = tap_person
    rp = make_rp(client, name="Payroll CLI", public=True, redirect_uris=("http://127.0.0.1:8765/cb",),
                 allow_device_code=True)
    ca_policy_create(body={
        "displayName": "Payroll needs a passkey", "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": [rp.client_id]}},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": PHISHING_RESISTANT_MFA_ID}}},
        actor=Actor.system("test"))
    answer = codes(rp)
    response = enter(client, answer["user_code"])
    assert urlsplit(response["Location"]).path == "/signin/step-up"
    assert step_up_with_passkey(client, auth, response["Location"]).status_code == 200
    approve(client, answer["user_code"])
    tokens = poll(rp, answer["device_code"]).json()
    claims = verify_id_token(tokens["id_token"], audience=rp.client_id)
    assert claims["acr"] == PHISHING_RESISTANT_MFA_ID and "hwk" in claims["amr"]


def test_an_app_without_the_grant_and_a_bad_client_are_refused(make_rp: Any, device_rp: RelyingParty) -> None:
    plain = make_rp(name="Wiki")
    refused = ask(plain)
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    assert audit("oidc.deviceAuthorization", result="failure")[-1].reason == "device_code_not_allowed"
    allowed = make_rp(name="Build agent", allow_device_code=True)
    wrong = allowed.back_channel.post("/oidc/device_authorization", data=urlencode({"scope": "openid"}),
                                      content_type=FORM, HTTP_AUTHORIZATION=basic(allowed.client_id, "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert codes(allowed)["device_code"]  # with its secret
    no_openid = ask(device_rp, scope="profile")
    assert no_openid.status_code == 400 and no_openid.json()["error"] == "invalid_scope"
    assert Client().get("/oidc/device_authorization").status_code == 405
    not_allowed = poll(plain, "any-device-code")  # nor at the token endpoint
    assert not_allowed.status_code == 400 and not_allowed.json()["error"] == "unauthorized_client"
    assert not DeviceAuthorization.objects.filter(app=plain.app).exists()


def test_a_device_code_in_the_url_is_refused(device_rp: RelyingParty) -> None:
    answer = codes(device_rp)
    response = device_rp.back_channel.post(f"/oidc/token?device_code={answer['device_code']}",
                                           data=urlencode({"grant_type": DEVICE_GRANT,
                                                           "client_id": device_rp.client_id}), content_type=FORM)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_purge_deletes_expired_device_codes(device_rp: RelyingParty) -> None:
    from passgate.apps.oidc.tokens import oidc_purge

    codes(device_rp)
    codes(device_rp)
    DeviceAuthorization.objects.filter(pk=DeviceAuthorization.objects.first().pk).update(  # type: ignore[union-attr]
        expires_at=timezone.now() - timedelta(days=2))
    assert oidc_purge() >= 1
    assert DeviceAuthorization.objects.count() == 1


def test_an_app_holds_a_bounded_number_of_waiting_device_codes(device_rp: RelyingParty, monkeypatch: Any) -> None:
    from passgate.apps.oidc import device_authorization

    monkeypatch.setattr(device_authorization, "MAX_PENDING_PER_APP", 2)
    first, _ = codes(device_rp), codes(device_rp)
    refused = ask(device_rp)
    assert refused.status_code == 429 and refused.json()["error"] == "slow_down", refused.content
    assert audit("oidc.deviceAuthorization", result="failure")[-1].reason == "device_codes_limit"
    assert DeviceAuthorization.objects.filter(app=device_rp.app).count() == 2  # nothing stored
    oldest = DeviceAuthorization.objects.order_by("created_at", "pk").first()
    assert oldest is not None
    DeviceAuthorization.objects.filter(pk=oldest.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert codes(device_rp)["device_code"] != first["device_code"]  # an expired one no longer counts
