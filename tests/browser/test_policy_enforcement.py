"""The authentication methods policy in a real browser: key restrictions and passkey types at registration and
at sign-in, and a passkey an administrator provisioned through the Graph API that then signs in."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from django.test import Client

from passgate.audit.services import Actor
from passgate.core.policy.model import DEFAULT_PASSKEY_PROFILE_ID
from passgate.credentials.models import Passkey
from passgate.credentials.policy import policy_update
from tests.browser.helpers import audit_rows, signed_out
from tests.core.softauthn import SoftAuthenticator, client_data_json, es256_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = Actor.system("policy test")
OTHER_AAGUID = "90a3ccdf-635c-4729-a248-9b709135078f"


def set_default_profile(**changes: Any) -> None:
    profile: dict[str, Any] = {"id": DEFAULT_PASSKEY_PROFILE_ID, "name": "Default passkey profile",
                               "passkeyTypes": "deviceBound,synced", "attestationEnforcement": "disabled",
                               "keyRestrictions": {"isEnforced": False, "enforcementType": "allow", "aaGuids": []}}
    profile.update(changes)
    policy_update(method_id="Fido2", body={"passkeyProfiles": [profile]}, actor=ADMIN)


def test_an_allow_list_without_the_authenticator_refuses_registration_naming_the_rule(
        tab: Any, make_user: Any, issue_tap: Any) -> None:
    set_default_profile(keyRestrictions={"isEnforced": True, "enforcementType": "allow", "aaGuids": [OTHER_AAGUID]})
    user = make_user("grace@contoso.com", "Grace Hopper")
    tab.add_authenticator()
    tab.tap_sign_in(user.user_principal_name, issue_tap(user))
    tab.wait_for_path("/security-info")
    tab.add_passkey("Laptop")
    error = tab.page.locator("#add-error")
    error.wait_for(state="visible")
    assert "Default passkey profile" in error.inner_text() and "allow" in error.inner_text().lower()
    assert not Passkey.objects.filter(user=user).exists()
    assert [r[2] for r in audit_rows(activity="passkey.register", result="failure")] == ["policy_aaguid_not_allowed"]


def test_a_device_bound_only_profile_refuses_a_synced_passkey(tab: Any, make_user: Any, issue_tap: Any) -> None:
    set_default_profile(passkeyTypes="deviceBound")
    user = make_user("alan@contoso.com", "Alan Turing")
    tab.add_authenticator(backup_eligible=True)  # a synced passkey provider: BE=1
    tab.tap_sign_in(user.user_principal_name, issue_tap(user))
    tab.wait_for_path("/security-info")
    tab.add_passkey("Phone")
    tab.page.locator("#add-error").filter(has_text="synced").wait_for()
    assert not Passkey.objects.filter(user=user).exists()


def test_removing_an_allowed_aaguid_refuses_the_key_at_its_next_sign_in(tab: Any, enroll: Any) -> None:
    _, passkey = enroll(tab, "ada@contoso.com", "Ada Lovelace")
    set_default_profile(keyRestrictions={"isEnforced": True, "enforcementType": "allow",
                                         "aaGuids": [str(passkey.aaguid), OTHER_AAGUID]})
    tab.sign_out()
    tab.wait_for_path("/security-info")  # still allowed: autofill signs straight back in
    set_default_profile(keyRestrictions={"isEnforced": True, "enforcementType": "allow", "aaGuids": [OTHER_AAGUID]})
    tab.sign_out()
    error = tab.page.locator("#signin-error")
    error.wait_for(state="visible")
    assert "Default passkey profile" in error.inner_text()
    assert signed_out(tab)
    assert audit_rows(activity="passkey.signIn", result="failure")[-1] == (
        "passkey.signIn", "failure", "policy_aaguid_not_allowed")


def test_a_passkey_provisioned_through_graph_signs_in_in_the_browser(tab: Any, make_user: Any, app: str) -> None:
    """Creation options and POST through the Graph API with a software authenticator; the same key (its private
    key imported into the browser's virtual authenticator) then signs in on the sign-in page."""
    from passgate.apps.services import app_create, token_issue

    user = make_user("new.hire@contoso.com", "New Hire")
    registration, secret = app_create(display_name="Provisioning tool",
                                      permissions=["UserAuthenticationMethod.ReadWrite.All"], actor=ADMIN)
    token = token_issue(client_id=str(registration.app_id), client_secret=secret, scope="https://graph.microsoft.com/.default").access_token
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", SERVER_NAME="localhost")
    options = api.get(f"/v1.0/users/{user.pk}/authentication/fido2Methods/"
                      f"creationOptions(challengeTimeoutInMinutes=30)").json()["publicKey"]
    challenge = base64.urlsafe_b64decode(options["challenge"] + "==")
    key = es256_key()
    auth = SoftAuthenticator(key=key, user_handle=bytes(user.webauthn_user_handle), credential_id=b"\x42" * 16,
                             backup_eligible=False)
    made = auth.register(challenge=challenge, client_data=client_data_json(
        type="webauthn.create", challenge=challenge, origin=app), auth_data=auth.registration_auth_data(
        rp_id="localhost"))
    created = api.post(f"/v1.0/users/{user.pk}/authentication/fido2Methods", content_type="application/json",
                       data=json.dumps({"displayName": "Provisioned key", "publicKeyCredential": {
                           "id": made["id"], "response": {k: made["response"][k]
                                                          for k in ("clientDataJSON", "attestationObject")}}}))
    assert created.status_code == 201, created.content

    # Hand the key to the person: the browser's authenticator now holds the provisioned credential.
    tab.add_authenticator()
    pkcs8 = key.private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    tab.add_credential({"credentialId": base64.b64encode(auth.credential_id).decode(), "isResidentCredential": True,
                        "rpId": "localhost", "privateKey": base64.b64encode(pkcs8).decode(),
                        "userHandle": base64.b64encode(bytes(user.webauthn_user_handle)).decode(), "signCount": 1})
    tab.goto("/signin")
    tab.wait_for_path("/security-info")  # autofill offers the provisioned passkey and signs in
    assert "New Hire" in tab.page.inner_text("header")
    assert Passkey.objects.get(user=user).last_used_at is not None
