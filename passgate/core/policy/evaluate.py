"""What the authentication methods policy decides, for registration, sign-in, the API and the UI alike.

The rules, as Entra documents them for passkey profiles:

1. The method's ``state`` is ``disabled``: no passkey can be added or used.
2. The person is in an excluded group: blocked, whatever include targets they are also in.
3. The passkey profiles in their scope are the union of ``allowedPasskeyProfiles`` of every include
   target that covers them (``all_users`` or a group they are in). None: they are not targeted.
4. A passkey is allowed when it *fully* satisfies at least one profile in scope. Passgate checks the
   profiles in the policy's order and names the first that admits the passkey.
5. Within a profile: the passkey type (synced means the authenticator set BE, backup eligible) and
   the AAGUID key restriction apply when a passkey is added and at every sign-in; attestation
   enforcement (``registrationOnly``) applies only when a passkey is added. Attestation verification
   comes in a later issue; until then a ``registrationOnly`` profile admits no passkey at registration
   (``attestation_verified`` is false for every passkey), which is what Entra does with a passkey
   it can't verify.

Self-service set-up (``isSelfServiceRegistrationAllowed``) governs only people adding passkeys
themselves (:func:`may_self_register`); an administrator adding one for someone still goes through
:func:`evaluate_passkey` at registration. ``isRegistrationRequired`` sends people without a passkey to
add one after they sign in, with at most :data:`~passgate.core.policy.model.MAX_REGISTRATION_SNOOZES`
snoozes (:func:`registration_required`); it is not asked of someone who may not add passkeys themselves,
since they couldn't comply.

Messages are for the person concerned and name the rule ("Your organisation's passkey policy
('Security keys only' profile) allows only device-bound passkeys; this passkey is synced.");
reason codes are for programs and the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum, unique

from passgate.core.policy.errors import ADMIN_LOCKOUT, POLICY_RULE, PolicyValidationError
from passgate.core.policy.model import (
    ALL_USERS,
    HARDWARE_KEY_PROTECTION,
    MAX_REGISTRATION_SNOOZES,
    AttestationEnforcement,
    AuthenticationMethodsPolicy,
    EnforcementType,
    ExcludeTarget,
    Fido2Configuration,
    MethodConfiguration,
    MethodState,
    PasskeyProfile,
    PasskeyType,
    TemporaryAccessPassConfiguration,
)
from passgate.core.trust.mds import CertificationLevel


@dataclass(frozen=True, slots=True)
class PasskeyFacts:
    """What the policy needs to know about a passkey (from its authenticator data and attestation)."""

    aaguid: str
    backup_eligible: bool  # BE flag: a synced (multi-device) passkey
    attestation_verified: bool = False
    # From the MDS entry the attestation anchored in (registration only): for a profile's metadata rules.
    certification_level: CertificationLevel | None = None
    key_protection: tuple[str, ...] = ()
    model: str | None = None

    @property
    def passkey_type(self) -> PasskeyType:
        return PasskeyType.SYNCED if self.backup_eligible else PasskeyType.DEVICE_BOUND


@dataclass(frozen=True, slots=True)
class UserFacts:
    """What the policy needs to know about a person: the ids of the groups they are in."""

    group_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AdminFacts:
    """An enabled Global Administrator, for the lock-out check."""

    user_id: str
    upn: str
    group_ids: frozenset[str]
    passkeys: tuple[PasskeyFacts, ...]
    has_other_sign_in: bool = False  # a way in the passkey policy doesn't govern, as the caller judges it


@unique
class Phase(StrEnum):
    REGISTRATION = "registration"
    SIGN_IN = "sign_in"


@unique
class PolicyReason(StrEnum):
    ALLOWED = "allowed"
    METHOD_DISABLED = "method_disabled"
    USER_EXCLUDED = "user_excluded"
    USER_NOT_TARGETED = "user_not_targeted"
    SELF_SERVICE_DISABLED = "self_service_disabled"
    PASSKEY_TYPE_NOT_ALLOWED = "passkey_type_not_allowed"
    AAGUID_NOT_ALLOWED = "aaguid_not_allowed"  # not on an allow list, or on a block list
    ATTESTATION_REQUIRED = "attestation_required"
    METADATA_RULE_NOT_MET = "metadata_rule_not_met"  # a profile's rules from FIDO metadata (Passgate's extension)
    NO_PROFILE_SATISFIED = "no_profile_satisfied"  # several profiles in scope, refused for different reasons


@dataclass(frozen=True, slots=True)
class ProfileFailure:
    """Why one profile in scope doesn't admit a passkey: the rule, the fact, and both in a few words."""

    profile_id: str
    profile_name: str
    reason: PolicyReason
    rule: str  # "allows only device-bound passkeys"
    fact: str  # "this passkey is synced"
    short: str  # "this one is synced"


@dataclass(frozen=True, slots=True)
class PasskeyDecision:
    allowed: bool
    reason: PolicyReason
    profile_id: str | None  # the profile that admits the passkey, when allowed
    message: str
    failures: tuple[ProfileFailure, ...] = ()  # one per profile in scope, when refused by the profiles


@dataclass(frozen=True, slots=True)
class RegistrationPrompt:
    required: bool
    may_snooze: bool
    snoozes_left: int


@dataclass(frozen=True, slots=True)
class TapSettings:
    lifetime_in_minutes: int
    is_usable_once: bool


_POLICY = "Your organisation's passkey policy"


def _fido2(policy_or_config: AuthenticationMethodsPolicy | Fido2Configuration) -> Fido2Configuration:
    return policy_or_config.fido2 if isinstance(policy_or_config, AuthenticationMethodsPolicy) else policy_or_config


def _groups(group_ids: frozenset[str]) -> frozenset[str]:
    return frozenset(g.lower() for g in group_ids)


def _covers(target_id: str, groups: frozenset[str]) -> bool:
    return target_id == ALL_USERS or target_id in groups


def _excluded(exclude_targets: Sequence[ExcludeTarget], groups: frozenset[str]) -> bool:
    return any(t.id in groups for t in exclude_targets)


def _in_scope(config: Fido2Configuration, groups: frozenset[str]) -> tuple[PasskeyProfile, ...]:
    if config.state is MethodState.DISABLED or _excluded(config.exclude_targets, groups):
        return ()
    wanted = {p for t in config.include_targets if _covers(t.id, groups) for p in t.allowed_passkey_profiles}
    return tuple(p for p in config.passkey_profiles if p.id in wanted)


def profiles_in_scope(policy_or_config: AuthenticationMethodsPolicy | Fido2Configuration,
                      user: UserFacts) -> tuple[PasskeyProfile, ...]:
    """The passkey profiles that apply to this person, in the policy's order; () if disabled or excluded."""
    return _in_scope(_fido2(policy_or_config), _groups(user.group_ids))


def attestation_conveyance(policy_or_config: AuthenticationMethodsPolicy | Fido2Configuration,
                           user: UserFacts) -> str:
    """The ``attestation`` to ask the browser for: ``direct`` when a profile in scope enforces attestation.

    Otherwise ``none``: without enforcement the statement could only be displayed, and asking for it makes
    browsers show an extra consent prompt for security keys.
    """
    wants = any(p.attestation_enforcement is AttestationEnforcement.REGISTRATION_ONLY
                for p in profiles_in_scope(policy_or_config, user))
    return "direct" if wants else "none"


def _type_text(types: PasskeyType) -> str:
    return "device-bound" if types is PasskeyType.DEVICE_BOUND else "synced"


def _check(profile: PasskeyProfile, passkey: PasskeyFacts, phase: Phase) -> ProfileFailure | None:
    def fail(reason: PolicyReason, rule: str, fact: str, short: str) -> ProfileFailure:
        return ProfileFailure(profile.id, profile.name, reason, rule, fact, short)

    kind = passkey.passkey_type
    if kind not in profile.passkey_types:
        allowed, actual = _type_text(profile.passkey_types), _type_text(kind)
        return fail(PolicyReason.PASSKEY_TYPE_NOT_ALLOWED, f"allows only {allowed} passkeys",
                    f"this passkey is {actual}", f"this one is {actual}")
    restrictions = profile.key_restrictions
    if not restrictions.admits(passkey.aaguid):
        aaguid = passkey.aaguid.lower()
        if restrictions.enforcement_type is EnforcementType.ALLOW:
            return fail(PolicyReason.AAGUID_NOT_ALLOWED, "allows only specific passkey models",
                        f"this one (AAGUID {aaguid}) isn't one of them", f"AAGUID {aaguid} isn't on its list")
        return fail(PolicyReason.AAGUID_NOT_ALLOWED, f"blocks this passkey's model (AAGUID {aaguid})",
                    "choose another kind of passkey", f"AAGUID {aaguid} is blocked")
    if (phase is Phase.REGISTRATION and profile.attestation_enforcement is AttestationEnforcement.REGISTRATION_ONLY
            and not passkey.attestation_verified):
        return fail(PolicyReason.ATTESTATION_REQUIRED,
                    "requires a passkey whose make and model can be verified (attestation) when it's added",
                    "Passgate couldn't verify this one", "this one couldn't be verified")
    if phase is Phase.REGISTRATION and profile.metadata_rules.is_set:
        return _check_metadata_rules(profile, passkey)
    return None


def hardware_protected(key_protection: Sequence[str]) -> bool:
    """MDS ``keyProtection`` says the private key is in hardware (a TEE, a secure element) and never in software."""
    values = {value.lower() for value in key_protection}
    return bool(values & HARDWARE_KEY_PROTECTION) and "software" not in values


def _check_metadata_rules(profile: PasskeyProfile, passkey: PasskeyFacts) -> ProfileFailure | None:
    """Only reached for an attested passkey (a profile with rules enforces attestation, checked first)."""
    rules = profile.metadata_rules
    model = f"this model ({passkey.model})" if passkey.model else "this model"
    minimum = rules.minimum_certification_level
    if minimum is not None:
        level = passkey.certification_level
        wanted = minimum.value.removeprefix("FIDO_CERTIFIED_").replace("plus", "+")
        if level is None or level.rank < minimum.rank:
            actual = ("isn't FIDO certified" if level is None else
                      f"is certified at level {level.value.removeprefix('FIDO_CERTIFIED_').replace('plus', '+')}")
            return ProfileFailure(profile.id, profile.name, PolicyReason.METADATA_RULE_NOT_MET,
                                  f"accepts only passkeys FIDO certified at level {wanted} or above",
                                  f"{model} {actual}", f"it {actual}")
    if rules.require_hardware_key_protection and not hardware_protected(passkey.key_protection):
        return ProfileFailure(profile.id, profile.name, PolicyReason.METADATA_RULE_NOT_MET,
                              "accepts only passkeys whose keys are protected by hardware (FIDO metadata)",
                              f"{model} doesn't declare hardware key protection",
                              "its keys aren't hardware-protected")
    return None


def _verb(phase: Phase) -> str:
    return "add a passkey" if phase is Phase.REGISTRATION else "sign in with a passkey"


def _refused(reason: PolicyReason, message: str) -> PasskeyDecision:
    return PasskeyDecision(allowed=False, reason=reason, profile_id=None, message=message)


def _gate(config: Fido2Configuration, groups: frozenset[str], phase: Phase) -> PasskeyDecision | None:
    """The refusals that come before the profiles: disabled, excluded, not targeted."""
    if config.state is MethodState.DISABLED:
        return _refused(PolicyReason.METHOD_DISABLED,
                        f"Passkeys are turned off in your organisation's authentication methods policy, so you "
                        f"can't {_verb(phase)}.")
    if _excluded(config.exclude_targets, groups):
        return _refused(PolicyReason.USER_EXCLUDED,
                        f"{_POLICY} excludes a group you're in, so you can't {_verb(phase)}.")
    if not _in_scope(config, groups):
        return _refused(PolicyReason.USER_NOT_TARGETED,
                        f"{_POLICY} doesn't include you, so you can't {_verb(phase)}. Ask your administrator.")
    return None


def evaluate_passkey(policy_or_config: AuthenticationMethodsPolicy | Fido2Configuration, user: UserFacts,
                     passkey: PasskeyFacts, phase: Phase) -> PasskeyDecision:
    """Whether this person may add (``REGISTRATION``) or sign in with (``SIGN_IN``) this passkey."""
    config = _fido2(policy_or_config)
    groups = _groups(user.group_ids)
    refused = _gate(config, groups, phase)
    if refused is not None:
        return refused
    failures: list[ProfileFailure] = []
    for profile in _in_scope(config, groups):
        failure = _check(profile, passkey, phase)
        if failure is None:
            return PasskeyDecision(allowed=True, reason=PolicyReason.ALLOWED, profile_id=profile.id,
                                   message=f"{_POLICY} ('{profile.name}' profile) allows this passkey.")
        failures.append(failure)
    if len(failures) == 1:
        only = failures[0]
        message = f"{_POLICY} ('{only.profile_name}' profile) {only.rule}; {only.fact}."
    else:
        reasons = "; ".join(f"'{f.profile_name}' {f.rule} ({f.short})" for f in failures)
        message = f"{_POLICY} has several profiles for you, and none allows this passkey: {reasons}."
    kinds = {f.reason for f in failures}
    reason = kinds.pop() if len(kinds) == 1 else PolicyReason.NO_PROFILE_SATISFIED
    return PasskeyDecision(allowed=False, reason=reason, profile_id=None, message=message, failures=tuple(failures))


def may_self_register(policy_or_config: AuthenticationMethodsPolicy | Fido2Configuration,
                      user: UserFacts) -> PasskeyDecision:
    """Whether this person may start adding a passkey themselves (the passkey itself is checked later)."""
    config = _fido2(policy_or_config)
    refused = _gate(config, _groups(user.group_ids), Phase.REGISTRATION)
    if refused is not None:
        return refused
    if not config.is_self_service_registration_allowed:
        return _refused(PolicyReason.SELF_SERVICE_DISABLED,
                        "Your organisation doesn't let people add passkeys themselves. Ask your administrator to "
                        "add one for you.")
    return PasskeyDecision(allowed=True, reason=PolicyReason.ALLOWED, profile_id=None,
                           message=f"{_POLICY} lets you add a passkey.")


def registration_required(policy_or_config: AuthenticationMethodsPolicy | Fido2Configuration, user: UserFacts,
                          has_passkey: bool, snoozes_used: int) -> RegistrationPrompt:
    """Whether to send this person, just signed in, to add a passkey, and whether they may put it off."""
    if snoozes_used < 0:
        raise ValueError("snoozes_used can't be negative")
    config = _fido2(policy_or_config)
    groups = _groups(user.group_ids)
    required = (not has_passkey and may_self_register(config, user).allowed
                and any(t.is_registration_required and _covers(t.id, groups) for t in config.include_targets))
    left = max(0, MAX_REGISTRATION_SNOOZES - snoozes_used) if required else 0
    return RegistrationPrompt(required=required, may_snooze=left > 0, snoozes_left=left)


def method_allowed(config: MethodConfiguration, user: UserFacts) -> bool:
    """Whether a method is on for this person: enabled, an include target covers them, no exclusion does.

    For Fido2 this says only that the person is in scope; whether a given passkey is allowed is
    :func:`evaluate_passkey`'s question.
    """
    groups = _groups(user.group_ids)
    return (config.state is MethodState.ENABLED and not _excluded(config.exclude_targets, groups)
            and any(_covers(t.id, groups) for t in config.include_targets))


def tap_issue_settings(config: TemporaryAccessPassConfiguration, *, lifetime_in_minutes: int | None = None,
                       is_usable_once: bool | None = None) -> TapSettings:
    """The lifetime and one-time-ness of a new pass: the policy's defaults, or the asked values if it allows them.

    As in Graph, when the policy's ``isUsableOnce`` is true every pass is one-time and asking for a multi-use
    pass is refused. When it is false a pass may be either; Passgate's default is one-time (Graph would make it
    multi-use), so a multi-use pass must be asked for.
    """
    lifetime = config.default_lifetime_in_minutes if lifetime_in_minutes is None else lifetime_in_minutes
    low, high = config.minimum_lifetime_in_minutes, config.maximum_lifetime_in_minutes
    if isinstance(lifetime, bool) or not isinstance(lifetime, int) or not low <= lifetime <= high:
        detail = f"{lifetime!r} is not allowed; the Temporary Access Pass policy allows {low} to {high} minutes"
        raise PolicyValidationError(f"lifetimeInMinutes: {detail}", target="lifetimeInMinutes", code=POLICY_RULE,
                                    detail=detail)
    if config.is_usable_once and is_usable_once is False:
        detail = "the Temporary Access Pass policy allows only one-time passes"
        raise PolicyValidationError(f"isUsableOnce: {detail}", target="isUsableOnce", code=POLICY_RULE,
                                    detail=detail)
    once = config.is_usable_once or is_usable_once is None or is_usable_once
    return TapSettings(lifetime_in_minutes=lifetime, is_usable_once=once)


# ---------------------------------------------------------------------------------------------- lock-out


def _can_sign_in(config: Fido2Configuration, admin: AdminFacts) -> bool:
    user = UserFacts(admin.group_ids)
    return admin.has_other_sign_in or any(
        evaluate_passkey(config, user, passkey, Phase.SIGN_IN).allowed for passkey in admin.passkeys)


def admins_locked_out(new_policy: AuthenticationMethodsPolicy | Fido2Configuration,
                      admins: Sequence[AdminFacts]) -> list[AdminFacts]:
    """The administrators (the caller passes the enabled Global Administrators) who couldn't sign in."""
    config = _fido2(new_policy)
    return [admin for admin in admins if not _can_sign_in(config, admin)]


def _why_locked_out(config: Fido2Configuration, admin: AdminFacts) -> tuple[str, str]:
    """(the JSON property to blame, why) for one administrator who couldn't sign in."""
    groups = _groups(admin.group_ids)
    if config.state is MethodState.DISABLED:
        return "state", "would have passkeys turned off (state 'disabled')"
    if _excluded(config.exclude_targets, groups):
        return "excludeTargets", "is in an excluded group"
    if not _in_scope(config, groups):
        return "includeTargets", "is in no include target"
    reasons = []
    for passkey in admin.passkeys:
        decision = evaluate_passkey(config, UserFacts(admin.group_ids), passkey, Phase.SIGN_IN)
        rules = ", ".join(f"the '{f.profile_name}' profile {f.rule}" for f in decision.failures)
        kind = _type_text(passkey.passkey_type)
        reasons.append(f"would have their {kind} passkey (AAGUID {passkey.aaguid.lower()}) refused: {rules}")
    return "passkeyProfiles", "; ".join(reasons)


def require_an_admin_can_sign_in(new_policy: AuthenticationMethodsPolicy | Fido2Configuration,
                                 admins: Sequence[AdminFacts], *,
                                 old_policy: AuthenticationMethodsPolicy | Fido2Configuration | None = None) -> None:
    """Refuse a policy with which none of the enabled Global Administrators (``admins``) could sign in.

    Only administrators the policy can make a difference to count: one with no passkey and no other way
    in can't sign in under any policy, so doesn't make every change refused. With ``old_policy``, a
    change is refused only if it *causes* the lock-out (someone could sign in before it); without, only
    the new policy is looked at. Nobody to lock out: nothing is refused.
    """
    config = _fido2(new_policy)
    relevant = [admin for admin in admins if admin.passkeys or admin.has_other_sign_in]
    if not relevant or any(_can_sign_in(config, admin) for admin in relevant):
        return
    if old_policy is not None and not any(_can_sign_in(_fido2(old_policy), admin) for admin in relevant):
        return
    explained = [_why_locked_out(config, admin) for admin in relevant]
    blamed = {target for target, _ in explained}
    target = blamed.pop() if len(blamed) == 1 else ""
    details = " ".join(f"{admin.upn} {why}." for admin, (_, why) in zip(relevant, explained, strict=True))
    raise PolicyValidationError(
        "This change was refused: with it, no enabled Global Administrator could sign in. "
        f"{details} Keep at least one Global Administrator able to sign in.", target=target, code=ADMIN_LOCKOUT)
