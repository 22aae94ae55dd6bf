"""Attestation enforced, in a real browser: Chromium's virtual authenticator registers under a
registrationOnly profile only when the FIDO metadata in force lists its batch certificate as a root, and not
when its model is REVOKED; the BLOB that revokes it flags the passkey already registered, and once the tenant
turns on refusal of untrusted models, that passkey's next sign-in is refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from passgate.audit.services import Actor
from passgate.core.policy.model import DEFAULT_PASSKEY_PROFILE_ID
from passgate.credentials.metadata import metadata_import
from passgate.credentials.models import Passkey
from passgate.credentials.policy import policy_update
from passgate.trust_store.services import mds_import
from tests.browser.helpers import audit_rows
from tests.core.trust.test_pki import CHROMIUM_VIRTUAL_AAGUID, make_blob, make_entry, make_pki

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = Actor.system("attestation test")


def enforce_attestation() -> None:
    policy_update(method_id="Fido2", actor=ADMIN, body={"passkeyProfiles": [{
        "id": DEFAULT_PASSKEY_PROFILE_ID, "name": "Default passkey profile", "passkeyTypes": "deviceBound,synced",
        "attestationEnforcement": "registrationOnly",
        "keyRestrictions": {"isEnforced": False, "enforcementType": "allow", "aaGuids": []}}]})


def try_to_register(tab: Any, user: Any, issue_tap: Any, name: str) -> dict[str, Any]:
    """Sign in with a pass, add a passkey; return the attestation statement the browser sent."""
    sent: dict[str, Any] = {}

    def capture(request: Any) -> None:
        if request.url.endswith("/security-info/passkeys/verify"):
            credential = json.loads(request.post_data)["credential"]
            raw = credential["response"]["attestationObject"]
            sent.update(cbor2.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))))

    tab.page.on("request", capture)
    tab.tap_sign_in(user.user_principal_name, issue_tap(user))
    tab.wait_for_path("/security-info")
    tab.add_passkey(name)
    tab.page.wait_for_selector("#add-error:not([hidden]), p.flash:has-text('added.')")
    return sent


def test_attestation_enforced_end_to_end(new_tab: Any, make_user: Any, issue_tap: Any, settings: Any,
                                         tmp_path: Path) -> None:
    enforce_attestation()
    pki = make_pki()
    root = tmp_path / "test-mds-root.der"
    root.write_bytes(pki.root.cert.public_bytes(serialization.Encoding.DER))
    settings.PASSGATE_MDS_ROOT = str(root)

    # 1. No metadata for this model yet: refused, and the page says why.
    first = new_tab()
    first.add_authenticator()
    alice = make_user("alice@contoso.com", "Alice")
    statement = try_to_register(first, alice, issue_tap, "Laptop")
    assert statement["fmt"] == "packed" and statement["attStmt"]["x5c"], "direct attestation was asked for"
    error = first.page.locator("#add-error")
    assert error.is_visible() and "attest" in error.inner_text().lower()
    assert not Passkey.objects.filter(user=alice).exists()
    batch_certificate = statement["attStmt"]["x5c"][0]
    # WebAuthn §8.2.1 (checked at registration whatever the profile): Chromium's self-signed batch certificate
    # conforms (version 3, C/O/OU/CN, CA=false, no AAGUID extension), so only the missing metadata refused it.
    batch = x509.load_der_x509_certificate(batch_certificate)
    assert batch.version is x509.Version.v3
    assert batch.subject.rfc4514_string() == "CN=Batch Certificate,OU=Authenticator Attestation,O=Chromium,C=US"
    assert batch.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert audit_rows(activity="passkey.register", result="failure") == [
        ("passkey.register", "failure", "policy_attestation_required")]

    # 2. A metadata BLOB (signed by the test PKI) whose entry for Chromium's AAGUID lists its batch certificate.
    entry = make_entry(aaguid=CHROMIUM_VIRTUAL_AAGUID, description="Chromium virtual authenticator",
                       root_certificates=(batch_certificate,), statuses=(("FIDO_CERTIFIED_L1", "2024-01-01"),))
    mds_import(blob=make_blob([entry], pki.signer, pki.x5c, no=1), source="test.jwt", actor=ADMIN)
    second = new_tab()
    second.add_authenticator()
    bob = make_user("bob@contoso.com", "Bob")
    try_to_register(second, bob, issue_tap, "Laptop")
    second.page.wait_for_selector("text=Passkey “Laptop” added.")
    passkey = Passkey.objects.get(user=bob)
    assert (passkey.attestation_level, passkey.model_name, passkey.certification_level) == (
        "attested", "Chromium virtual authenticator", "FIDO_CERTIFIED_L1")
    assert "Chromium virtual authenticator" in second.page.inner_text("table.methods")

    # 3. A newer BLOB marks the model REVOKED: refused again, naming the status.
    revoked = make_entry(aaguid=CHROMIUM_VIRTUAL_AAGUID, description="Chromium virtual authenticator",
                         root_certificates=(batch_certificate,),
                         statuses=(("FIDO_CERTIFIED_L1", "2024-01-01"), ("REVOKED", "2025-01-01")))
    _, _, flagged = metadata_import(blob=make_blob([revoked], pki.signer, pki.x5c, no=2), source="test2.jwt",
                                    actor=ADMIN)
    assert flagged == 1  # Bob's passkey
    third = new_tab()
    third.add_authenticator()
    carol = make_user("carol@contoso.com", "Carol")
    try_to_register(third, carol, issue_tap, "Laptop")
    assert "reports a security problem with this model" in third.page.locator("#add-error").inner_text()
    assert not Passkey.objects.filter(user=carol).exists()
    assert [r[2] for r in audit_rows(activity="passkey.register", result="failure")] == [
        "policy_attestation_required", "policy_attestation_required"]
    from passgate.audit.models import AuditEvent

    refusal = AuditEvent.objects.filter(activity="passkey.register", result="failure").latest("occurred_at")
    assert "REVOKED" in refusal.details["detail"]  # the technical detail is kept for administrators

    # 4. Bob's passkey is flagged; it still signs in until the tenant turns refusal on, then it is refused.
    passkey.refresh_from_db()
    assert passkey.metadata_status == "REVOKED" and passkey.metadata_revoked_at is not None
    second.sign_out()
    second.wait_for_path("/security-info")  # the autofill signs Bob straight back in: still allowed
    policy_update(method_id="Fido2", actor=ADMIN, body={"@passgate.refuseFlaggedModelsAtSignIn": True})
    second.sign_out()
    assert second.wait_autofill_settled() == "ended"
    error = second.page.locator("#signin-error")
    error.wait_for(state="visible")
    assert "REVOKED" in error.text_content() and "no longer trusted" in error.text_content()
    assert audit_rows(activity="passkey.signIn", target_id=str(passkey.pk))[-1] == (
        "passkey.signIn", "failure", "credential_model_untrusted")
