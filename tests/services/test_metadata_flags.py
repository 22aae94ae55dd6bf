"""A newer metadata BLOB that marks a model untrusted flags the passkeys of that model (audited, reported), and
the tenant can refuse them at sign-in (the Fido2 policy's ``@passgate.refuseFlaggedModelsAtSignIn``)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from passgate.audit.services import Actor
from passgate.cli import main
from passgate.core.errors import AccessDenied
from passgate.credentials.metadata import flagged_passkeys, metadata_import
from passgate.credentials.models import Passkey
from passgate.credentials.policy import policy_update
from tests.core.softauthn import AAGUID
from tests.core.trust.test_pki import make_blob, make_entry, make_pki
from tests.services.support import audit_rows, authenticator_for, register, sign_in

pytestmark = pytest.mark.django_db

ADMIN = Actor.system("metadata test")
SOFT_AAGUID = str(uuid.UUID(bytes=AAGUID))


@pytest.fixture
def pki(settings: Any, tmp_path: Path) -> Any:
    pki = make_pki()
    root = tmp_path / "root.der"
    root.write_bytes(pki.root.cert.public_bytes(serialization.Encoding.DER))
    settings.PASSGATE_MDS_ROOT = str(root)
    return pki


def blob(pki: Any, no: int, *statuses: tuple[str, str]) -> bytes:
    entry = make_entry(aaguid=SOFT_AAGUID, description="Soft Key", statuses=statuses)
    return make_blob([entry], pki.signer, pki.x5c, no=no)


def test_a_revoking_blob_flags_existing_passkeys_and_the_tenant_may_refuse_them(
        pki: Any, make_user: Any, settings: Any) -> None:
    user = make_user(upn="lin@contoso.com")
    auth = authenticator_for(user)
    passkey = register(user, auth)
    _, _, flagged = metadata_import(blob=blob(pki, 1, ("FIDO_CERTIFIED_L1", "2024-01-01")), source="1", actor=ADMIN)
    assert flagged == 0
    _, _, flagged = metadata_import(blob=blob(pki, 2, ("FIDO_CERTIFIED_L1", "2024-01-01"),
                                              ("ATTESTATION_KEY_COMPROMISE", "2025-06-01")), source="2", actor=ADMIN)
    assert flagged == 1
    passkey.refresh_from_db()
    assert passkey.metadata_revoked_at is not None and passkey.metadata_status == "ATTESTATION_KEY_COMPROMISE"
    assert list(flagged_passkeys()) == [passkey]
    row = audit_rows(activity="passkey.modelUntrusted")[-1]
    assert (row.result, row.reason, row.details["owner"]) == ("failure", "attestation_key_compromise",
                                                              "lin@contoso.com")
    # Importing again flags nothing twice.
    assert metadata_import(blob=blob(pki, 3, ("REVOKED", "2025-07-01")), source="3", actor=ADMIN)[2] == 0

    sign_in(auth)  # the tenant's default: flagged, reported, still signs in
    policy = policy_update(body={"@passgate.refuseFlaggedModelsAtSignIn": True}, method_id="Fido2", actor=ADMIN)
    assert policy.fido2.refuse_flagged_models_at_sign_in
    change = audit_rows(activity="authenticationMethodsPolicy.update")[-1].details["changes"]
    assert change == [{"path": "fido2.@passgate.refuseFlaggedModelsAtSignIn", "old": None, "new": True}]
    with pytest.raises(AccessDenied) as err:
        sign_in(auth)
    assert err.value.code == "credential_model_untrusted"
    assert audit_rows(activity="passkey.signIn")[-1].reason == "credential_model_untrusted"
    policy_update(body={"@passgate.refuseFlaggedModelsAtSignIn": False}, method_id="Fido2", actor=ADMIN)
    sign_in(auth)  # turned off again


def test_the_retired_environment_switch_is_a_clear_configuration_error() -> None:
    from passgate.config.env import ConfigError, load

    with pytest.raises(ConfigError, match="tenant setting"):
        load({"PASSGATE_REFUSE_REVOKED_MODELS": "true", "PASSGATE_SECRET_KEY": "x" * 40})


def test_cli_reports_flagged_passkeys(pki: Any, make_user: Any, tmp_path: Path, capsys: Any) -> None:
    user = make_user(upn="ola@contoso.com")
    register(user, authenticator_for(user), name="Old key")
    path = tmp_path / "blob.jwt"
    path.write_bytes(blob(pki, 5, ("REVOKED", "2025-01-01")))
    assert main(["mds", "import", str(path)]) == 0
    assert "1 registered passkey(s) of models it no longer trusts were flagged" in capsys.readouterr().out
    assert main(["mds", "flagged"]) == 0
    out = capsys.readouterr().out
    assert "ola@contoso.com" in out and "Old key" in out and "REVOKED" in out
    assert Passkey.objects.get(user=user).metadata_revoked_at is not None
