"""Conditional Access on registering security info (``urn:user:registersecurityinfo``): Security info says why
and links to the step-up page; the add-passkey and add-authenticator-app steps refuse, audited; a session that
proved enough adds as before."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from passgate.access.services import ca_policy_create
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.access import PHISHING_RESISTANT_MFA_ID, REGISTER_SECURITY_INFO
from passgate.credentials.models import Passkey
from tests.http.conftest import http_sign_in, http_tap_sign_in, post_json
from tests.services.support import authenticator_for, register

pytestmark = pytest.mark.django_db


def action_policy(grant: dict[str, Any], **users: Any) -> None:
    ca_policy_create(body={
        "displayName": "Registering security info", "state": "enabled",
        "conditions": {"users": users or {"includeUsers": ["All"]},
                       "applications": {"includeUserActions": [REGISTER_SECURITY_INFO]}},
        "grantControls": {"operator": "OR", **grant}}, actor=Actor.system("test"))


def test_a_pass_session_is_asked_to_step_up_before_adding_a_second_passkey(make_user: Any, issue_tap: Any) -> None:
    user = make_user(upn="kim@contoso.com")
    auth = authenticator_for(user, backup_eligible=False)
    register(user, auth)
    action_policy({"authenticationStrength": {"id": PHISHING_RESISTANT_MFA_ID}})
    client = Client()
    http_tap_sign_in(client, user.user_principal_name, issue_tap(user))
    page = client.get("/security-info").content.decode()
    assert 'data-situation="registration-step-up"' in page and "Phishing-resistant MFA" in page
    assert 'id="registration-step-up"' in page and 'id="add-passkey"' not in page
    refused = post_json(client, "/security-info/passkeys/options", {})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "conditional_access_step_up"
    assert AuditEvent.objects.filter(activity="passkey.register", reason="conditional_access_step_up").exists()
    assert client.get("/security-info/authenticator-app/new").status_code == 403
    # Signed in with the passkey instead: adding is offered and works as before.
    passkey_client = Client()
    http_sign_in(passkey_client, auth)
    page = passkey_client.get("/security-info").content.decode()
    assert 'data-situation="registration-' not in page and 'id="add-passkey"' in page
    assert post_json(passkey_client, "/security-info/passkeys/options", {}).status_code == 200


def test_a_block_refuses_adding_anything_for_the_people_it_covers(make_user: Any, issue_tap: Any) -> None:
    blocked, other = make_user(upn="lee@contoso.com"), make_user(upn="max@contoso.com")
    action_policy({"builtInControls": ["block"]}, includeUsers=[str(blocked.pk)])
    client = Client()
    http_tap_sign_in(client, blocked.user_principal_name, issue_tap(blocked))
    assert 'id="registration-step-up"' not in client.get("/security-info").content.decode()
    refused = post_json(client, "/security-info/passkeys/options", {})
    assert refused.json()["error"]["code"] == "conditional_access_blocked"
    assert "Registering security info" in refused.json()["error"]["message"]
    assert not Passkey.objects.exists()
    other_client = Client()
    http_tap_sign_in(other_client, other.user_principal_name, issue_tap(other))
    assert post_json(other_client, "/security-info/passkeys/options", {}).status_code == 200
