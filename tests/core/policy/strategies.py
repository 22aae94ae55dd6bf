"""Hypothesis strategies: random but valid policies, people and passkeys, over small id pools so they meet."""

from __future__ import annotations

from hypothesis import strategies as st

from passgate.core.policy.evaluate import PasskeyFacts, Phase, UserFacts
from passgate.core.policy.model import (
    ALL_USERS,
    BOTH_PASSKEY_TYPES,
    DEFAULT_PASSKEY_PROFILE_ID,
    DEFAULT_PASSKEY_PROFILE_NAME,
    TAP_MAX_LIFETIME,
    TAP_MIN_LIFETIME,
    AttestationEnforcement,
    EnforcementType,
    ExcludeTarget,
    Fido2Configuration,
    KeyRestrictions,
    MethodState,
    MethodTarget,
    PasskeyProfile,
    PasskeyTarget,
    PasskeyType,
    SoftwareOathConfiguration,
    TemporaryAccessPassConfiguration,
)

GROUPS = tuple(f"{n:08x}-0000-4000-8000-00000000000{n}" for n in range(1, 6))
AAGUIDS = ("2fc0579f-8113-47ea-b116-bb5a8db9202a", "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4",
           "90a3ccdf-635c-4729-a248-9b709135078f", "de1e552d-db1d-4423-a619-566b625cdc84")
EXTRA_PROFILE_IDS = ("84c712c1-8688-4679-8546-a603ff82da46", "e47a833c-5dfa-45f1-9471-bb0cf0eb425b",
                     "fe8346da-8aba-41de-af77-0783f30c768a")
PROFILE_NAMES = ("Security keys", "Synced", "Authenticator", "Windows Hello")

passkey_types = st.sampled_from([PasskeyType.DEVICE_BOUND, PasskeyType.SYNCED, BOTH_PASSKEY_TYPES])


@st.composite
def key_restrictions(draw: st.DrawFn) -> KeyRestrictions:
    enforced = draw(st.booleans())
    kind = draw(st.sampled_from(EnforcementType))
    # An enforced allow list is never empty (apply_patch refuses that), so the round trip holds.
    minimum = 1 if enforced and kind is EnforcementType.ALLOW else 0
    guids = draw(st.lists(st.sampled_from(AAGUIDS), min_size=minimum, max_size=3, unique=True))
    return KeyRestrictions(is_enforced=enforced, enforcement_type=kind, aa_guids=tuple(guids))


@st.composite
def profiles(draw: st.DrawFn) -> tuple[PasskeyProfile, ...]:
    count = draw(st.integers(0, 2))
    ids = draw(st.lists(st.sampled_from(EXTRA_PROFILE_IDS), min_size=count, max_size=count, unique=True))
    names = draw(st.lists(st.sampled_from(PROFILE_NAMES), min_size=count, max_size=count, unique=True))
    result = [PasskeyProfile(id=DEFAULT_PASSKEY_PROFILE_ID, name=DEFAULT_PASSKEY_PROFILE_NAME,
                             passkey_types=draw(passkey_types),
                             attestation_enforcement=draw(st.sampled_from(AttestationEnforcement)),
                             key_restrictions=draw(key_restrictions()))]
    result += [PasskeyProfile(id=profile_id, name=name, passkey_types=draw(passkey_types),
                              attestation_enforcement=draw(st.sampled_from(AttestationEnforcement)),
                              key_restrictions=draw(key_restrictions()))
               for profile_id, name in zip(ids, names, strict=True)]
    return tuple(draw(st.permutations(result)))


@st.composite
def fido2_configurations(draw: st.DrawFn) -> Fido2Configuration:
    chosen = draw(profiles())
    profile_ids = [p.id for p in chosen]
    target_ids = draw(st.lists(st.sampled_from((ALL_USERS, *GROUPS)), max_size=4, unique=True))
    include = tuple(PasskeyTarget(id=target_id, is_registration_required=draw(st.booleans()),
                                  allowed_passkey_profiles=tuple(draw(st.lists(st.sampled_from(profile_ids),
                                                                               min_size=1, unique=True))))
                    for target_id in target_ids)
    exclude = tuple(ExcludeTarget(g) for g in draw(st.lists(st.sampled_from(GROUPS), max_size=2, unique=True)))
    return Fido2Configuration(state=draw(st.sampled_from(MethodState)),
                              is_self_service_registration_allowed=draw(st.booleans()),
                              include_targets=include, exclude_targets=exclude, passkey_profiles=chosen)


@st.composite
def method_targets(draw: st.DrawFn) -> tuple[MethodTarget, ...]:
    ids = draw(st.lists(st.sampled_from((ALL_USERS, *GROUPS)), max_size=3, unique=True))
    return tuple(MethodTarget(id=i, is_registration_required=draw(st.booleans())) for i in ids)


exclude_targets = st.lists(st.sampled_from(GROUPS), max_size=2, unique=True).map(
    lambda ids: tuple(ExcludeTarget(i) for i in ids))

software_oath_configurations = st.builds(SoftwareOathConfiguration, state=st.sampled_from(MethodState),
                                         include_targets=method_targets(), exclude_targets=exclude_targets)


@st.composite
def tap_configurations(draw: st.DrawFn) -> TemporaryAccessPassConfiguration:
    low, default, high = sorted(draw(st.lists(st.integers(TAP_MIN_LIFETIME, TAP_MAX_LIFETIME), min_size=3,
                                              max_size=3)))
    return TemporaryAccessPassConfiguration(
        state=draw(st.sampled_from(MethodState)), include_targets=draw(method_targets()),
        exclude_targets=draw(exclude_targets), minimum_lifetime_in_minutes=low, default_lifetime_in_minutes=default,
        maximum_lifetime_in_minutes=high, default_length=draw(st.integers(8, 48)), is_usable_once=draw(st.booleans()))


users = st.frozensets(st.sampled_from(GROUPS), max_size=3).map(UserFacts)
passkeys = st.builds(PasskeyFacts, aaguid=st.sampled_from(AAGUIDS), backup_eligible=st.booleans(),
                     attestation_verified=st.booleans())
phases = st.sampled_from(Phase)
