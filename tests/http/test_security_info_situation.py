"""Security info shows one message for one situation (issue 14 item 8: a person outside the passkey policy read
"Add a passkey now" next to "you can't add a passkey")."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from passgate.audit.services import Actor
from passgate.core.access import AccessDecision, Outcome
from passgate.credentials.policy import policy_update
from passgate.web.views.security_info import Situation, security_info_banner
from tests.http.conftest import http_sign_in, http_tap_sign_in
from tests.services.support import authenticator_for, register

DEFAULT_PASSKEY_PROFILE_ID = "00000000-0000-0000-0000-000000000001"
FIDO2_TYPE = "#microsoft.graph.fido2AuthenticationMethodConfiguration"


def decision(outcome: Outcome, message: str | None = None) -> AccessDecision:
    return AccessDecision(outcome=outcome, results=(), required_strengths=(), blocking_policy_ids=(), message=message)


ALLOW = decision(Outcome.ALLOW)
REFUSAL = "Your organisation's passkey policy doesn't include you, so you can't add a passkey. Ask your administrator."


@pytest.mark.parametrize(("given", "situation", "adds", "words"), [
    ({"registration": decision(Outcome.BLOCK, "Blocked by “No registering”."), "passkey_refusal": REFUSAL,
      "passkey_required": True, "tap_session": True}, Situation.REGISTRATION_BLOCKED, False, "Blocked by"),
    ({"registration": decision(Outcome.STEP_UP, "Needs phishing-resistant MFA."), "step_up": "/stepup?x",
      "tap_session": True}, Situation.REGISTRATION_STEP_UP, False, "Needs phishing-resistant MFA."),
    ({"passkey_refusal": REFUSAL, "passkey_required": True, "tap_session": True}, Situation.PASSKEY_NOT_ALLOWED,
     False, REFUSAL),
    ({"passkey_required": True, "tap_session": True}, Situation.PASSKEY_REQUIRED, True, "requires a passkey"),
    ({"tap_session": True}, Situation.TAP_ADD_PASSKEY, True, "Add a passkey now."),
    # a suspended passkey is why there is none: said before "requires a passkey", and never "sign back in with it"
    ({"passkey_required": True, "tap_session": True, "suspended": ("Old key",)}, Situation.TAP_REPLACE_SUSPENDED,
     True, "“Old key” was suspended"),
    ({"tap_session": True, "has_passkey": True, "suspended": ("Old key",)}, Situation.TAP_SIGN_BACK_IN, True,
     "sign back in with your passkey"),
    ({"tap_session": True, "has_passkey": True}, Situation.TAP_SIGN_BACK_IN, True, "sign back in with your passkey"),
    ({}, Situation.READY, True, ""),
])
def test_each_situation_has_one_message(given: dict[str, Any], situation: Situation, adds: bool, words: str) -> None:
    facts: dict[str, Any] = {"registration": ALLOW, "step_up": "", "passkey_refusal": None,
                             "passkey_required": False, "tap_session": False, "has_passkey": False, **given}
    banner = security_info_banner(**facts)
    assert banner.situation is situation and banner.may_add_passkey is adds
    assert words in banner.message if words else banner.message == ""
    if not adds:
        assert "Add a passkey now" not in banner.message and "Add one now" not in banner.message
    assert bool(banner.step_up_link) is (situation is Situation.REGISTRATION_STEP_UP)


def banners(client: Client) -> list[str]:
    page = client.get("/security-info").content.decode()
    return re.findall(r'<p class="(?:notice|warning)"[^>]*data-situation="([^"]+)"', page)


@pytest.mark.django_db
def test_a_person_outside_the_passkey_policy_reads_only_why_they_cant_add_one(make_user: Any,
                                                                             issue_tap: Any) -> None:
    policy_update(method_id="fido2", actor=Actor.system("test"), body={
        "@odata.type": FIDO2_TYPE, "includeTargets": [{"id": "11111111-2222-3333-4444-555555555555",
                                                       "targetType": "group", "isRegistrationRequired": True,
                                                       "allowedPasskeyProfiles": [DEFAULT_PASSKEY_PROFILE_ID]}]})
    nia = make_user(upn="nia@contoso.com")
    client = Client()
    http_tap_sign_in(client, nia.user_principal_name, issue_tap(nia))
    page = html.unescape(client.get("/security-info").content.decode())
    assert banners(client) == ["passkey-not-allowed"]
    assert "can't add a passkey" in page and "Add a passkey now" not in page and "Add one" not in page
    assert 'id="add-passkey"' not in page


@pytest.mark.django_db
def test_pass_sessions_with_and_without_a_passkey_and_a_passkey_session(make_user: Any, issue_tap: Any) -> None:
    kim = make_user(upn="kim@contoso.com")
    client = Client()
    http_tap_sign_in(client, kim.user_principal_name, issue_tap(kim))
    assert banners(client) == ["passkey-required"]  # Passgate's default policy requires a passkey
    auth = authenticator_for(kim)
    register(kim, auth)
    assert banners(client) == ["tap-sign-back-in"]
    passkey_client = Client()
    http_sign_in(passkey_client, auth)
    assert banners(passkey_client) == ["add-second-passkey"]  # one passkey: the redundancy nudge, and only it
    assert 'id="add-passkey"' in passkey_client.get("/security-info").content.decode()


def test_the_redundancy_nudge_asks_for_a_second_passkey_until_not_now_then_again_a_month_later(
        make_user: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from passgate.audit.models import AuditEvent
    from passgate.directory.models import User

    kim = make_user(upn="kim@contoso.com")
    auth = authenticator_for(kim)
    register(kim, auth)
    client = Client()
    http_sign_in(client, auth)
    page = client.get("/security-info").content.decode()
    assert banners(client) == ["add-second-passkey"] and "You have one passkey" in page and "nudge-not-now" in page
    assert client.post("/security-info/redundancy-nudge/dismiss").status_code == 302
    assert banners(client) == []
    assert AuditEvent.objects.filter(activity="passkey.redundancyNudgeDismiss", result="success").count() == 1
    User.objects.filter(pk=kim.pk).update(redundancy_nudge_dismissed_at=timezone.now() - timedelta(days=31))
    assert banners(client) == ["add-second-passkey"]
    assert client.get("/security-info/redundancy-nudge/dismiss").status_code == 405  # POST only (CSRF)


def test_two_device_bound_keys_need_no_nudge_and_two_synced_in_one_provider_do(make_user: Any) -> None:
    keys = make_user(upn="keys@contoso.com")
    first = authenticator_for(keys, backup_eligible=False)
    register(keys, first, name="Key 1", session_key="k1")
    register(keys, authenticator_for(keys, backup_eligible=False), name="Key 2", session_key="k2")
    client = Client()
    http_sign_in(client, first)
    assert banners(client) == []
    synced = make_user(upn="synced@contoso.com")
    phone = authenticator_for(synced, backup_eligible=True)
    register(synced, phone, name="Phone", session_key="s1")
    register(synced, authenticator_for(synced, backup_eligible=True), name="Tablet", session_key="s2")
    other = Client()
    http_sign_in(other, phone)
    assert banners(other) == ["add-second-passkey"]
    assert "All your passkeys are saved in" in other.get("/security-info").content.decode()

