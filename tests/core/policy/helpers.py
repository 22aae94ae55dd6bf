"""Shared values and builders for the policy tests."""

from __future__ import annotations

from collections.abc import Callable

from passgate.core.policy.model import (
    ALL_USERS,
    DEFAULT_PASSKEY_PROFILE,
    DEFAULT_PASSKEY_PROFILE_ID,
    AttestationEnforcement,
    EnforcementType,
    ExcludeTarget,
    Fido2Configuration,
    KeyRestrictions,
    MethodState,
    PasskeyProfile,
    PasskeyTarget,
    PasskeyType,
)

DEFAULT_ID = DEFAULT_PASSKEY_PROFILE_ID
ENGINEERING = "58506270-8123-4827-b928-19706a5f6ac5"
ADMINS = "3ee3a9de-0a86-4e12-a287-9769accf1ba2"
CONTRACTORS = "dad4ae4a-730c-4e52-826c-0d9094971f04"
SECURITY_KEYS_ID = "84c712c1-8688-4679-8546-a603ff82da46"
SYNCED_ID = "e47a833c-5dfa-45f1-9471-bb0cf0eb425b"
YUBIKEY_5_NFC = "2fc0579f-8113-47ea-b116-bb5a8db9202a"
GOOGLE_PASSWORD_MANAGER = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
ICLOUD_KEYCHAIN = "dd4ec289-e01d-41c9-bb89-70fa845d4bf2"


def id_factory(*ids: str) -> Callable[[], str]:
    """new_id for apply_patch: the given ids in order, then 0000…-4000-8000-<n>."""
    queue = list(ids)
    counter = iter(range(1, 1_000_000))

    def new_id() -> str:
        return queue.pop(0) if queue else f"00000000-0000-4000-8000-{next(counter):012d}"

    return new_id


def no_new_id() -> str:
    raise AssertionError("new_id() must not be called")


SECURITY_KEYS = PasskeyProfile(
    id=SECURITY_KEYS_ID, name="Security keys only", passkey_types=PasskeyType.DEVICE_BOUND,
    attestation_enforcement=AttestationEnforcement.REGISTRATION_ONLY,
    key_restrictions=KeyRestrictions(is_enforced=True, enforcement_type=EnforcementType.ALLOW,
                                     aa_guids=(YUBIKEY_5_NFC,)),
)
SYNCED_ONLY = PasskeyProfile(id=SYNCED_ID, name="Synced", passkey_types=PasskeyType.SYNCED)


def fido2(*, state: MethodState = MethodState.ENABLED, self_service: bool = True,
          profiles: tuple[PasskeyProfile, ...] = (DEFAULT_PASSKEY_PROFILE,),
          include: tuple[PasskeyTarget, ...] | None = None,
          exclude: tuple[str, ...] = ()) -> Fido2Configuration:
    if include is None:
        include = (PasskeyTarget(ALL_USERS, allowed_passkey_profiles=tuple(p.id for p in profiles)),)
    return Fido2Configuration(state=state, is_self_service_registration_allowed=self_service,
                              include_targets=include, exclude_targets=tuple(ExcludeTarget(g) for g in exclude),
                              passkey_profiles=profiles)


THREE_PROFILES = fido2(
    profiles=(DEFAULT_PASSKEY_PROFILE, SECURITY_KEYS, SYNCED_ONLY),
    include=(PasskeyTarget(ALL_USERS, allowed_passkey_profiles=(DEFAULT_ID,)),
             PasskeyTarget(ENGINEERING, is_registration_required=True,
                           allowed_passkey_profiles=(SECURITY_KEYS_ID, SYNCED_ID))),
    exclude=(CONTRACTORS,),
)
