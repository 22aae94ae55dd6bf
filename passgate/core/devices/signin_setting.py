"""Whether a device offers sign-in with a FIDO2 security key, which source decided, and why (ADR 0007).

One pure function, :func:`decide`, takes what is known of one device (:class:`DeviceFacts`) and the administrator's
configuration (:class:`Configuration`: custom profiles with their assignments, and the history of the enrollment
setting) and answers a :class:`SigninSetting`: on or off, the source that decided, a reason code and a sentence.
Nothing here reads a clock or a database; the same inputs always give the same answer.

Precedence, first match wins:

1. **Device disabled**: off (``device_disabled``).
2. **A custom profile targeted at the device**: a profile setting the OMA-URI
   ``./Device/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin`` (compared without regard to case)
   and assigned to the device, that is to ``allDevicesAssignmentTarget``, to a group the device is a member of, or
   (see below) to the signing-in user; and not excluded by an ``exclusionGroupAssignmentTarget`` naming one of those
   groups. Its value decides (``profile_on`` / ``profile_off``). Several such profiles that disagree: off wins and
   the answer says there is a conflict (``profile_conflict``), naming every profile involved.
3. **Hybrid-joined devices: local group policy** ("Turn on security key sign-in"). Microsoft documents that the
   policy, if enabled, lets people sign in with security keys, and if disabled or not configured, does not. So
   ``enabled``: on (``group_policy_enabled``); ``disabled``: off (``group_policy_disabled``); ``notConfigured`` or no
   value reported: off (``group_policy_not_configured``). A hybrid device never reaches the steps below.
4. **A signed provisioning package applied on the device**: its value (``provisioning_package_on`` /
   ``provisioning_package_off``).
5. **The enrollment setting in force when the device joined** ("Use security keys for sign-in" of the Windows Hello
   for Business enrollment configuration): the latest change effective at or before the device's join time.
   ``enabled``: on, ``disabled``: off (``enrollment_enabled`` / ``enrollment_disabled``). ``notConfigured`` (or no
   change before the join) falls through. A change applies to devices that join from its instant on, never to
   devices already joined: those follow a profile instead.
6. Otherwise **off, not configured** (``not_configured``).

User-group assignments: Intune applies device configuration assigned to *users* on a device once that user signs in
there. So a group assignment matching only the user's groups, and ``allLicensedUsersAssignmentTarget`` (Passgate has
no licences: every user), count only when the facts name the signing-in user (``user_group_ids`` is not None): they
decide that user's later sign-ins on the device, never the login screen before anyone is known, and never the first
sign-in. Assign to device groups or all devices to turn the login screen on. Exclusion groups are matched against
the device's groups and, when the user is known, the user's groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum, unique
from typing import Final

SECURITY_KEY_OMA_URI: Final = "./Device/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin"
_SECURITY_KEY_KEY: Final = SECURITY_KEY_OMA_URI.casefold()


def is_security_key_uri(oma_uri: str) -> bool:
    """Whether an OMA-URI names the security-key sign-in setting (OMA-URIs are compared without regard to case)."""
    return oma_uri.casefold() == _SECURITY_KEY_KEY


@unique
class TrustType(StrEnum):
    JOINED = "joined"  # joined to Passgate only (Entra: "Microsoft Entra joined")
    HYBRID = "hybrid"  # joined to Passgate and to an on-premises directory ("hybrid joined")


@unique
class LocalPolicy(StrEnum):
    """A hybrid device's local group policy "Turn on security key sign-in"."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    NOT_CONFIGURED = "notConfigured"


@unique
class Enablement(StrEnum):
    """Graph's ``enablement``: the enrollment setting's values."""

    NOT_CONFIGURED = "notConfigured"
    ENABLED = "enabled"
    DISABLED = "disabled"


@unique
class TargetKind(StrEnum):
    """Graph's ``deviceAndAppManagementAssignmentTarget`` types Passgate keeps."""

    GROUP = "groupAssignmentTarget"
    EXCLUSION_GROUP = "exclusionGroupAssignmentTarget"
    ALL_DEVICES = "allDevicesAssignmentTarget"
    ALL_LICENSED_USERS = "allLicensedUsersAssignmentTarget"


@dataclass(frozen=True)
class AssignmentTarget:
    kind: TargetKind
    group_id: str | None = None  # GROUP and EXCLUSION_GROUP only (lower-case GUID)


@dataclass(frozen=True)
class ProfileSetting:
    """A custom profile as the decision sees it: what it sets the security-key OMA-URI to, and whom it targets."""

    profile_id: str
    display_name: str
    value: bool | None  # None: the profile does not set the security-key OMA-URI
    targets: tuple[AssignmentTarget, ...] = ()


@dataclass(frozen=True)
class EnrollmentChange:
    """One change of the enrollment setting: in force from ``effective_from`` (inclusive) until the next change."""

    value: Enablement
    effective_from: datetime
    version: int = 0  # orders changes made at the same instant


@dataclass(frozen=True)
class Configuration:
    profiles: tuple[ProfileSetting, ...] = ()
    enrollment_history: tuple[EnrollmentChange, ...] = ()


@dataclass(frozen=True)
class DeviceFacts:
    device_id: str
    enabled: bool
    trust_type: TrustType
    joined_at: datetime
    device_group_ids: frozenset[str] = frozenset()
    user_group_ids: frozenset[str] | None = None  # None: no user known (the login screen)
    provisioning_package: bool | None = None  # a signed provisioning package's value; None: none applied
    local_group_policy: LocalPolicy | None = None  # hybrid devices: what they report; None: nothing reported


@unique
class Source(StrEnum):
    DEVICE = "device"
    PROFILE = "profile"
    LOCAL_GROUP_POLICY = "localGroupPolicy"
    PROVISIONING_PACKAGE = "provisioningPackage"
    ENROLLMENT_SETTING = "enrollmentSetting"
    NONE = "none"


@unique
class Reason(StrEnum):
    DEVICE_DISABLED = "device_disabled"
    PROFILE_ON = "profile_on"
    PROFILE_OFF = "profile_off"
    PROFILE_CONFLICT = "profile_conflict"
    GROUP_POLICY_ENABLED = "group_policy_enabled"
    GROUP_POLICY_DISABLED = "group_policy_disabled"
    GROUP_POLICY_NOT_CONFIGURED = "group_policy_not_configured"
    PROVISIONING_PACKAGE_ON = "provisioning_package_on"
    PROVISIONING_PACKAGE_OFF = "provisioning_package_off"
    ENROLLMENT_ENABLED = "enrollment_enabled"
    ENROLLMENT_DISABLED = "enrollment_disabled"
    NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class SigninSetting:
    enabled: bool
    source: Source
    reason: Reason
    explanation: str
    profile_ids: tuple[str, ...] = ()  # the profiles that decided (step 2), sorted
    conflict: bool = False
    enrollment_version: int | None = field(default=None)  # the enrollment change that decided (step 5)


def _targeted(profile: ProfileSetting, device: DeviceFacts) -> bool:
    """Assigned to this device (or its user, once known) and not excluded."""
    device_groups = device.device_group_ids
    user_groups = device.user_group_ids if device.user_group_ids is not None else frozenset()
    user_known = device.user_group_ids is not None
    included = excluded = False
    for target in profile.targets:
        if target.kind is TargetKind.EXCLUSION_GROUP:
            excluded = excluded or target.group_id in device_groups or target.group_id in user_groups
        elif target.kind is TargetKind.ALL_DEVICES:
            included = True
        elif target.kind is TargetKind.ALL_LICENSED_USERS:
            included = included or user_known
        elif target.kind is TargetKind.GROUP:
            included = included or target.group_id in device_groups or target.group_id in user_groups
    return included and not excluded


def enrollment_in_force(history: Iterable[EnrollmentChange], at: datetime) -> EnrollmentChange | None:
    """The enrollment change in force at ``at``: the latest effective at or before it (None: none yet)."""
    earlier = [change for change in history if change.effective_from <= at]
    return max(earlier, key=lambda change: (change.effective_from, change.version), default=None)


def _names(profiles: Iterable[ProfileSetting]) -> str:
    return ", ".join(f"“{p.display_name}”" for p in profiles)


def _from_profiles(device: DeviceFacts, profiles: Iterable[ProfileSetting]) -> SigninSetting | None:
    deciding = sorted((p for p in profiles if p.value is not None and _targeted(p, device)),
                      key=lambda p: p.profile_id)
    if not deciding:
        return None
    ids = tuple(p.profile_id for p in deciding)
    values = {p.value for p in deciding}
    if len(values) > 1:
        off_names = _names(p for p in deciding if p.value is False)
        on_names = _names(p for p in deciding if p.value is True)
        return SigninSetting(False, Source.PROFILE, Reason.PROFILE_CONFLICT,
                             f"Configuration profiles assigned to this device disagree: {off_names} turn "
                             f"security-key sign-in off, {on_names} on. Off wins until the conflict is resolved.",
                             profile_ids=ids, conflict=True)
    on = values == {True}
    return SigninSetting(on, Source.PROFILE, Reason.PROFILE_ON if on else Reason.PROFILE_OFF,
                         f"The configuration profile {_names(deciding)} assigned to this device turns security-key "
                         f"sign-in {'on' if on else 'off'}.", profile_ids=ids)


def _from_group_policy(policy: LocalPolicy | None) -> SigninSetting:
    if policy is LocalPolicy.ENABLED:
        return SigninSetting(True, Source.LOCAL_GROUP_POLICY, Reason.GROUP_POLICY_ENABLED,
                             "This hybrid-joined device's local group policy “Turn on security key sign-in” is "
                             "enabled.")
    if policy is LocalPolicy.DISABLED:
        return SigninSetting(False, Source.LOCAL_GROUP_POLICY, Reason.GROUP_POLICY_DISABLED,
                             "This hybrid-joined device's local group policy “Turn on security key sign-in” is "
                             "disabled.")
    return SigninSetting(False, Source.LOCAL_GROUP_POLICY, Reason.GROUP_POLICY_NOT_CONFIGURED,
                         "This hybrid-joined device's local group policy “Turn on security key sign-in” is not "
                         "configured" + (" (the device reported no value)" if policy is None else "")
                         + ", and no configuration profile is assigned to it: a hybrid-joined device needs one of "
                           "the two.")


def _from_enrollment(device: DeviceFacts, history: Iterable[EnrollmentChange]) -> SigninSetting | None:
    change = enrollment_in_force(history, device.joined_at)
    if change is None or change.value is Enablement.NOT_CONFIGURED:
        return None
    on = change.value is Enablement.ENABLED
    return SigninSetting(on, Source.ENROLLMENT_SETTING, Reason.ENROLLMENT_ENABLED if on else Reason.ENROLLMENT_DISABLED,
                         f"The enrollment setting “Use security keys for sign-in” was {change.value.value} when this "
                         "device joined.", enrollment_version=change.version)


def decide(device: DeviceFacts, configuration: Configuration) -> SigninSetting:
    """Whether ``device`` offers security-key sign-in under ``configuration``, and which source decided (see the
    module's docstring for the order)."""
    if not device.enabled:
        return SigninSetting(False, Source.DEVICE, Reason.DEVICE_DISABLED, "The device is disabled.")
    found = _from_profiles(device, configuration.profiles)
    if found is not None:
        return found
    if device.trust_type is TrustType.HYBRID:
        return _from_group_policy(device.local_group_policy)
    if device.provisioning_package is not None:
        on = device.provisioning_package
        return SigninSetting(on, Source.PROVISIONING_PACKAGE,
                             Reason.PROVISIONING_PACKAGE_ON if on else Reason.PROVISIONING_PACKAGE_OFF,
                             f"A signed provisioning package applied on this device turns security-key sign-in "
                             f"{'on' if on else 'off'}.")
    found = _from_enrollment(device, configuration.enrollment_history)
    if found is not None:
        return found
    return SigninSetting(False, Source.NONE, Reason.NOT_CONFIGURED,
                         "Nothing turns security-key sign-in on for this device: no profile is assigned to it, no "
                         "provisioning package set it, and the enrollment setting was not configured when it joined.")


def may_turn_on_for_someone(device: DeviceFacts, configuration: Configuration) -> bool:
    """Before anyone is known (the login screen): whether a profile assigned to users' groups, or to all users,
    may still turn security-key sign-in on for the person who signs in on ``device``; the decision with the person
    known is ``decide``'s."""
    return device.enabled and any(
        profile.value and any(t.kind in (TargetKind.GROUP, TargetKind.ALL_LICENSED_USERS) for t in profile.targets)
        for profile in configuration.profiles)
