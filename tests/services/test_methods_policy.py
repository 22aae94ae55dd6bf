"""The authentication methods policy, stored and enforced: versions with audited changes, refusals that change
nothing, and the rules applied at registration, at every sign-in, and to passes and authenticator apps."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.audit.services import Actor
from passgate.core.errors import PassgateError, PolicyDenied
from passgate.core.policy.errors import PolicyValidationError
from passgate.core.policy.model import DEFAULT_PASSKEY_PROFILE_ID
from passgate.credentials import oath, services
from passgate.credentials.models import Passkey, PolicyVersion
from passgate.credentials.policy import policy_update
from passgate.credentials.policy_selectors import current_policy
from passgate.directory.models import DirectoryRole
from passgate.directory.services import group_add_member, group_create
from tests.core.softauthn import AAGUID
from tests.services.support import audit_rows, authenticator_for, register, sign_in

pytestmark = pytest.mark.django_db

ADMIN = Actor(id=None, name="policy-admin")
VIRTUAL_AAGUID = str(uuid.UUID(bytes=AAGUID))
OTHER_AAGUID = "90a3ccdf-635c-4729-a248-9b709135078f"


FIDO2_TYPE = "#microsoft.graph.fido2AuthenticationMethodConfiguration"


def patch_fido2(body: dict[str, Any]) -> Any:
    return policy_update(method_id="fido2", body={"@odata.type": FIDO2_TYPE, **body}, actor=ADMIN)


def default_profile(**changes: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {"id": DEFAULT_PASSKEY_PROFILE_ID, "name": "Default passkey profile",
                               "passkeyTypes": "deviceBound,synced", "attestationEnforcement": "disabled",
                               "keyRestrictions": {"isEnforced": False, "enforcementType": "allow", "aaGuids": []}}
    profile.update(changes)
    return profile


def test_a_change_is_a_new_version_with_only_the_changed_settings_audited() -> None:
    assert PolicyVersion.objects.count() == 0
    patch_fido2({"isSelfServiceRegistrationAllowed": False})
    row = PolicyVersion.objects.get()
    assert row.version == 1 and row.actor_name == ADMIN.name
    assert row.changes == [{"path": "fido2.isSelfServiceRegistrationAllowed", "old": True, "new": False}]
    audit = audit_rows(activity="authenticationMethodsPolicy.update")[-1]
    assert audit.details["changes"] == row.changes and audit.details["version"] == 1
    assert current_policy().fido2.is_self_service_registration_allowed is False
    patch_fido2({"isSelfServiceRegistrationAllowed": False})  # no change, no new version
    assert PolicyVersion.objects.count() == 1


def test_a_bad_body_changes_nothing_and_is_audited() -> None:
    with pytest.raises(PolicyValidationError) as err:
        patch_fido2({"passkeyProfiles": [default_profile(passkeyTypes="sometimes")]})
    assert "passkeyTypes" in err.value.message
    assert PolicyVersion.objects.count() == 0
    assert audit_rows(activity="authenticationMethodsPolicy.update", result="failure")


def test_a_change_that_locks_out_every_global_administrator_is_refused(make_user: Any) -> None:
    admin = make_user(upn="root@contoso.com", roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    register(admin, authenticator_for(admin, backup_eligible=True))  # a synced passkey
    with pytest.raises(PolicyValidationError) as err:
        patch_fido2({"passkeyProfiles": [default_profile(passkeyTypes="deviceBound")]})
    assert err.value.code == "adminLockout" and "root@contoso.com" in err.value.message
    assert PolicyVersion.objects.count() == 0


def test_registration_follows_the_policy(make_user: Any) -> None:
    user = make_user()
    patch_fido2({"passkeyProfiles": [default_profile(passkeyTypes="deviceBound")]})
    with pytest.raises(PolicyDenied) as err:
        register(user, authenticator_for(user, backup_eligible=True))
    assert err.value.code == "policy_passkey_type_not_allowed" and "synced" in err.value.message
    register(user, authenticator_for(user, backup_eligible=False))
    assert Passkey.objects.filter(user=user).count() == 1


def test_an_allow_list_without_the_aaguid_refuses_registration_and_names_the_rule(make_user: Any) -> None:
    user = make_user()
    patch_fido2({"passkeyProfiles": [default_profile(
        keyRestrictions={"isEnforced": True, "enforcementType": "allow", "aaGuids": [OTHER_AAGUID]})]})
    with pytest.raises(PolicyDenied) as err:
        register(user, authenticator_for(user))
    assert err.value.code == "policy_aaguid_not_allowed" and "Default passkey profile" in err.value.message
    assert audit_rows(activity="passkey.register", reason="policy_aaguid_not_allowed")


def test_removing_an_allowed_aaguid_refuses_an_existing_key_at_its_next_sign_in(make_user: Any) -> None:
    user = make_user()
    auth = authenticator_for(user)
    register(user, auth)
    sign_in(auth)
    patch_fido2({"passkeyProfiles": [default_profile(
        keyRestrictions={"isEnforced": True, "enforcementType": "block", "aaGuids": [VIRTUAL_AAGUID]})]})
    with pytest.raises(PolicyDenied) as err:
        sign_in(auth)
    assert err.value.code == "policy_aaguid_not_allowed"


def test_disabled_method_and_self_service_off(make_user: Any) -> None:
    user = make_user()
    auth = authenticator_for(user)
    register(user, auth)
    patch_fido2({"isSelfServiceRegistrationAllowed": False})
    with pytest.raises(PolicyDenied) as err:
        services.passkey_registration_begin(user=user, session_key="s")
    assert err.value.code == "policy_self_service_disabled"
    sign_in(auth)  # signing in is unaffected by self-service
    patch_fido2({"state": "disabled"})
    with pytest.raises(PolicyDenied) as err:
        sign_in(auth)
    assert err.value.code == "policy_method_disabled"


def test_an_excluded_group_blocks_its_members(make_user: Any) -> None:
    user, other = make_user(), make_user()
    group = group_create(display_name="Contractors", actor=ADMIN)
    group_add_member(group=group, user=user, actor=ADMIN)
    patch_fido2({"excludeTargets": [{"id": str(group.pk), "targetType": "group"}]})
    with pytest.raises(PolicyDenied) as err:
        services.passkey_registration_begin(user=user, session_key="s")
    assert err.value.code == "policy_user_excluded"
    assert services.passkey_registration_begin(user=other, session_key="s")


def test_passkeys_for_one_group_only(make_user: Any) -> None:
    pilot_user, outsider = make_user(), make_user()
    pilot = group_create(display_name="Pilot", actor=ADMIN)
    group_add_member(group=pilot, user=pilot_user, actor=ADMIN)
    patch_fido2({"includeTargets": [{"id": str(pilot.pk), "targetType": "group", "isRegistrationRequired": False,
                                     "allowedPasskeyProfiles": [DEFAULT_PASSKEY_PROFILE_ID]}]})
    register(pilot_user, authenticator_for(pilot_user))
    with pytest.raises(PolicyDenied) as err:
        register(outsider, authenticator_for(outsider))
    assert err.value.code == "policy_user_not_targeted"


def test_temporary_access_pass_policy(make_user: Any) -> None:
    user = make_user()
    policy_update(method_id="TemporaryAccessPass", actor=ADMIN, body={
        "minimumLifetimeInMinutes": 30, "maximumLifetimeInMinutes": 120, "defaultLifetimeInMinutes": 45})
    row, _ = services.tap_issue(user=user, actor=ADMIN)
    assert row.lifetime_minutes == 45
    with pytest.raises(PassgateError):
        services.tap_issue(user=user, actor=ADMIN, lifetime_minutes=20)
    _, plain = services.tap_issue(user=user, actor=ADMIN, lifetime_minutes=60)
    policy_update(method_id="temporaryaccesspass", actor=ADMIN, body={"state": "disabled"})
    with pytest.raises(PolicyDenied):
        services.tap_signin(upn=user.user_principal_name, tap=plain)
    with pytest.raises(PolicyDenied):
        services.tap_issue(user=user, actor=ADMIN)


def test_authenticator_apps_follow_their_policy(make_user: Any) -> None:
    user = make_user()
    policy_update(method_id="softwareOath", actor=ADMIN, body={"state": "disabled"})
    assert not oath.software_oath_allowed(user=user)
    with pytest.raises(PolicyDenied):
        oath.software_oath_enrol_begin(user=user)


def test_impact_preview_counts_passkeys_that_would_stop_working(make_user: Any) -> None:
    from passgate.credentials.policy import policy_impact, policy_preview

    alice, bob = make_user(upn="alice@contoso.com"), make_user(upn="bob@contoso.com")
    register(alice, authenticator_for(alice, backup_eligible=True), name="Phone")
    register(alice, authenticator_for(alice, backup_eligible=False), name="Key")
    register(bob, authenticator_for(bob, backup_eligible=True), name="Laptop")
    device_bound_only = {"passkeyProfiles": [default_profile(passkeyTypes="deviceBound")]}
    proposed = policy_preview(method_id="fido2", body=device_bound_only)
    impact = policy_impact(proposed=proposed)
    assert (impact.passkeys_blocked, impact.users_affected, impact.passkeys_total) == (2, 2, 3)
    assert {(upn, name) for upn, name, _ in impact.examples} == {("alice@contoso.com", "Phone"),
                                                                 ("bob@contoso.com", "Laptop")}
    assert PolicyVersion.objects.count() == 0  # a preview saves nothing


def test_registration_required_prompts_people_without_a_passkey(make_user: Any) -> None:
    user = make_user()
    assert services.passkey_registration_prompt(user=user).required  # Passgate's default: required for all users
    register(user, authenticator_for(user))
    assert not services.passkey_registration_prompt(user=user).required
    other = make_user()
    patch_fido2({"includeTargets": [{"id": "all_users", "targetType": "group", "isRegistrationRequired": False,
                                     "allowedPasskeyProfiles": [DEFAULT_PASSKEY_PROFILE_ID]}]})
    assert not services.passkey_registration_prompt(user=other).required
