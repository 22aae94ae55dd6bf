"""Registration under attestation enforcement, through the real services: a profile's rules from FIDO metadata
(certification level, hardware key protection), and malformed attestation certificates refused cleanly."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization

from passgate.audit.services import Actor
from passgate.core.errors import CeremonyRejected, PassgateError, PolicyDenied
from passgate.credentials import services
from passgate.credentials.metadata import metadata_import
from passgate.credentials.models import Passkey
from passgate.credentials.policy import policy_update
from tests.core.attestation_pki import (
    aaguid_extension,
    attestation_ca,
    ceremony,
    not_ca,
    packed_leaf,
    packed_response,
    subject,
)
from tests.core.softauthn import AAGUID, attestation_certificate, attestation_signing_key, b64, unb64, weak_rsa_key
from tests.core.trust.test_pki import make_blob, make_entry, make_pki
from tests.services.support import REG_SESSION, audit_rows, authenticator_for, challenge_of, register

pytestmark = pytest.mark.django_db

ADMIN = Actor.system("attestation rules test")
SOFT_AAGUID = str(uuid.UUID(bytes=AAGUID))
DEFAULT_PROFILE = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def pki(settings: Any, tmp_path: Path) -> Any:
    pki = make_pki()
    root = tmp_path / "root.der"
    root.write_bytes(pki.root.cert.public_bytes(serialization.Encoding.DER))
    settings.PASSGATE_MDS_ROOT = str(root)
    return pki


def publish(pki: Any, no: int, *, level: str = "FIDO_CERTIFIED_L1",
            protection: tuple[str, ...] = ("hardware",)) -> None:
    """A BLOB whose entry for the software authenticator lists its (self-issued) attestation certificate as root."""
    root = attestation_certificate(attestation_signing_key(), aaguid=AAGUID)
    entry = make_entry(aaguid=SOFT_AAGUID, description="Soft Key", statuses=((level, "2024-01-01"),),
                       root_certificates=[root], key_protection=protection)
    metadata_import(blob=make_blob([entry], pki.signer, pki.x5c, no=no), source=str(no), actor=ADMIN)


def enforce(rules: dict[str, Any] | None) -> None:
    profile: dict[str, Any] = {"id": DEFAULT_PROFILE, "attestationEnforcement": "registrationOnly",
                               "@passgate.metadataRules": rules}
    policy_update(body={"passkeyProfiles": [profile]}, method_id="Fido2", actor=ADMIN)


def test_a_certification_level_rule_refuses_a_lower_model_and_admits_it_once_metadata_says_more(
        pki: Any, make_user: Any) -> None:
    user = make_user(upn="ria@contoso.com")
    publish(pki, 1, level="FIDO_CERTIFIED_L1")
    enforce({"minimumCertificationLevel": "L2"})
    with pytest.raises(PolicyDenied) as err:
        register(user, authenticator_for(user, backup_eligible=False), fmt="packed-x5c")
    assert err.value.code == "policy_metadata_rule_not_met"
    assert "FIDO certified at level L2 or above" in err.value.message and "Soft Key" in err.value.message
    assert "certified at level L1" in err.value.message
    assert audit_rows(activity="passkey.register", result="failure")[-1].reason == "policy_metadata_rule_not_met"
    assert not Passkey.objects.exists()

    publish(pki, 2, level="FIDO_CERTIFIED_L2")  # a new model version certified higher: no list to edit
    passkey = register(user, authenticator_for(user, backup_eligible=False), fmt="packed-x5c")
    assert (passkey.attestation_level, passkey.certification_level) == ("attested", "FIDO_CERTIFIED_L2")


def test_a_hardware_protection_rule_refuses_software_keys(pki: Any, make_user: Any) -> None:
    user = make_user(upn="sam@contoso.com")
    publish(pki, 1, protection=("software",))
    enforce({"requireHardwareKeyProtection": True})
    with pytest.raises(PolicyDenied, match="protected by hardware"):
        register(user, authenticator_for(user, backup_eligible=False), fmt="packed-x5c")
    publish(pki, 2, protection=("hardware", "secure_element"))
    register(user, authenticator_for(user, backup_eligible=False), fmt="packed-x5c")
    assert Passkey.objects.filter(user=user).count() == 1


def _statement_with(x5c: object) -> Any:
    def build(auth: Any) -> dict[str, Any]:
        options = services.passkey_registration_begin(user=auth.owner, session_key=REG_SESSION)
        good = auth.register(challenge=challenge_of(options), fmt="packed-x5c")
        attestation = cbor2.loads(unb64(good["response"]["attestationObject"]))
        attestation["attStmt"]["x5c"] = x5c
        good["response"]["attestationObject"] = b64(cbor2.dumps(attestation))
        return good
    return build


GOOD_CERT = attestation_certificate(attestation_signing_key(), aaguid=AAGUID)
MALFORMED_X5C = {
    "truncated DER": [GOOD_CERT[:40]],
    "not DER at all": [b"not a certificate"],
    "empty certificate": [b""],
    "empty chain": [],
    "a text string": ["MIIB..."],
    "a map": {"0": GOOD_CERT},
    "a number": 7,
    "trailing garbage": [GOOD_CERT + b"\x00\x01"],
}


# What each malformed x5c is refused as: a list of byte strings reaches the certificate rules, anything else is
# not an x5c at all and py_webauthn's packed verifier refuses the statement.
MALFORMED_REASONS = {
    "truncated DER": "attestation_certificate_malformed",
    "not DER at all": "attestation_certificate_malformed",
    "empty certificate": "attestation_certificate_malformed",
    "trailing garbage": "attestation_certificate_malformed",
}


@pytest.mark.parametrize("enforced", [False, True], ids=["not-enforced", "enforced"])
@pytest.mark.parametrize("case", sorted(MALFORMED_X5C))
def test_malformed_attestation_certificates_are_refused_cleanly(
        case: str, enforced: bool, pki: Any, make_user: Any) -> None:
    user = make_user(upn=f"x{abs(hash(case)) % 10_000}@contoso.com")
    publish(pki, 1)
    if enforced:
        enforce(None)
    auth = authenticator_for(user, backup_eligible=False)
    auth.owner = user  # type: ignore[attr-defined]
    credential = _statement_with(MALFORMED_X5C[case])(auth)
    with pytest.raises(PassgateError) as err:
        services.passkey_registration_complete(user=user, session_key=REG_SESSION, credential=credential,
                                               display_name="Broken")
    expected = MALFORMED_REASONS.get(case, "attestation_invalid")
    assert isinstance(err.value, CeremonyRejected) and err.value.code == expected, err.value
    if expected == "attestation_invalid":
        assert "packed attestation did not verify" in err.value.message
    assert not Passkey.objects.filter(user=user).exists()
    assert audit_rows(activity="passkey.register", result="failure")[-1].reason == err.value.code


# --- certificate requirements (issue 9 finding 2): refused whatever the profile, before any trust decision ------

def _publish_test_pki_root(pki: Any) -> None:
    """A BLOB whose entry for the software authenticator's AAGUID lists the attestation test PKI's root."""
    entry = make_entry(aaguid=SOFT_AAGUID, description="Soft Key", statuses=(("FIDO_CERTIFIED_L1", "2024-01-01"),),
                       root_certificates=[attestation_ca()[0].der])
    metadata_import(blob=make_blob([entry], pki.signer, pki.x5c, no=1), source="1", actor=ADMIN)


def _packed(user: Any, leaf: Any) -> dict[str, Any]:
    options = services.passkey_registration_begin(user=user, session_key=REG_SESSION)
    c = ceremony(authenticator_for(user, backup_eligible=False), challenge=challenge_of(options))
    return packed_response(c, leaf)


NON_CONFORMING = {
    "CA leaf": (lambda: packed_leaf(extensions=[not_ca(ca=True), aaguid_extension()]), "attestation_certificate_ca"),
    "no OU": (lambda: packed_leaf(name=subject(ou=None)), "attestation_certificate_subject"),
    "512-bit RSA leaf": (lambda: packed_leaf(key=weak_rsa_key(512).private_key),
                         "attestation_certificate_key_too_weak"),
}


@pytest.mark.parametrize("enforced", [False, True], ids=["not-enforced", "enforced"])
@pytest.mark.parametrize("case", sorted(NON_CONFORMING))
def test_a_non_conforming_attestation_certificate_is_refused_and_audited(
        case: str, enforced: bool, pki: Any, make_user: Any) -> None:
    """Such chains to the metadata's root used to register, rated 'attested' where attestation was enforced."""
    user = make_user(upn="nico@contoso.com")
    _publish_test_pki_root(pki)
    if enforced:
        enforce(None)
    conforming = services.passkey_registration_complete(  # the control: the same chain with a conforming leaf
        user=user, session_key=REG_SESSION, credential=_packed(user, None), display_name="Good")
    assert conforming.attestation_level == "attested"
    leaf, reason = NON_CONFORMING[case]
    with pytest.raises(CeremonyRejected) as err:
        services.passkey_registration_complete(user=user, session_key=REG_SESSION, credential=_packed(user, leaf()),
                                               display_name="Bad")
    assert err.value.code == reason
    assert list(Passkey.objects.filter(user=user).values_list("display_name", flat=True)) == ["Good"]
    assert audit_rows(activity="passkey.register", result="failure")[-1].reason == reason
