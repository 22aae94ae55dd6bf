"""The authentication methods policy as values: Microsoft Graph v1.0's shapes, in frozen dataclasses.

Three method configurations are modelled, each exactly as Graph v1.0 has it:

- ``Fido2`` (Passkey (FIDO2)): ``fido2AuthenticationMethodConfiguration`` with passkey profiles,
  ``passkeyAuthenticationMethodTarget`` include targets and ``excludeTarget`` exclusions. The
  deprecated ``isAttestationEnforced`` and ``keyRestrictions`` are not stored: they are read from the
  default profile (:attr:`Fido2Configuration.is_attestation_enforced`, :attr:`Fido2Configuration.key_restrictions`),
  which is how Graph keeps them in sync until their removal in October 2027.
- ``SoftwareOath`` (authenticator-app codes, RFC 6238): ``softwareOathAuthenticationMethodConfiguration``.
- ``TemporaryAccessPass``: ``temporaryAccessPassAuthenticationMethodConfiguration``.

Targets: Passgate targets groups only (``targetType`` ``group``; Graph has not recommended ``user``
targets since December 2022). An include target's id is ``all_users`` or a group's GUID; an exclude
target's id is a group's GUID. GUIDs are stored lower-case.

Passgate's defaults (:func:`default_policy`, :data:`DEFAULT_POLICY`), and why:

- Passkey (FIDO2): **enabled**, self-service set-up **allowed**, ``all_users`` included with the
  default profile only, no exclusions. ``isRegistrationRequired`` is **true** for ``all_users``:
  Passgate is passkey-first, so someone who signs in another way (a Temporary Access Pass, an
  authenticator-app code) is sent to add a passkey, may snooze :data:`MAX_REGISTRATION_SNOOZES` times,
  then must add one. (Graph's own default is false.)
- The default profile (``00000000-0000-0000-0000-000000000001``, "Default passkey profile"): passkey
  types ``deviceBound,synced``, attestation ``disabled``, no key restrictions. This is what Entra's
  migration gives a tenant that did not enforce attestation: every passkey works until an
  administrator narrows it.
- Authenticator-app codes (SoftwareOath): **enabled** for ``all_users``.
- Temporary Access Pass: **enabled** for ``all_users``; lifetime default 60 minutes, bounds
  10..43,200 minutes (Graph's full range); policy ``isUsableOnce`` **false** (Entra's default: the policy
  permits one-time and multi-use passes), while every pass Passgate issues is **one-time unless multi-use is
  asked for** (:func:`passgate.core.policy.evaluate.tap_issue_settings`): a pass is for onboarding a passkey,
  not a second password. An administrator who sets ``isUsableOnce`` true forbids multi-use passes.
  have (:data:`passgate.core.tap.TAP_LENGTH`, about 78 bits; Graph's default is 8, range 8..48).

Metadata (``policyVersion``, ``lastModifiedDateTime``) is passed in by the caller, never read from a
clock, and is not part of a policy's equality: two policies are equal when their settings are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Flag, StrEnum, unique
from typing import ClassVar, Final

from passgate.core.policy.errors import POLICY_RULE, PolicyValidationError
from passgate.core.tap import DEFAULT_LIFETIME_MINUTES, MAX_LIFETIME_MINUTES, MIN_LIFETIME_MINUTES, TAP_LENGTH
from passgate.core.trust.mds import CertificationLevel

DEFAULT_PASSKEY_PROFILE_ID: Final = "00000000-0000-0000-0000-000000000001"
DEFAULT_PASSKEY_PROFILE_NAME: Final = "Default passkey profile"
ALL_USERS: Final = "all_users"
MAX_PASSKEY_PROFILES: Final = 3
MAX_PROFILE_NAME: Final = 64
MAX_REGISTRATION_SNOOZES: Final = 3
TAP_MIN_LIFETIME: Final = MIN_LIFETIME_MINUTES  # 10
TAP_MAX_LIFETIME: Final = MAX_LIFETIME_MINUTES  # 43,200 (30 days)
TAP_MIN_LENGTH: Final = 8
TAP_MAX_LENGTH: Final = 48
GRAPH_POLICY_VERSION: Final = "1.5"  # what Graph reports today; a schema version, not a revision counter

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def is_guid(value: str) -> bool:
    """True for a GUID in its 8-4-4-4-12 hex form (either case; no braces)."""
    return bool(_GUID.match(value.lower()))


@unique
class MethodState(StrEnum):
    """``authenticationMethodState``."""

    ENABLED = "enabled"
    DISABLED = "disabled"


@unique
class TargetType(StrEnum):
    """``authenticationMethodTargetType``; Passgate targets groups only."""

    GROUP = "group"


class PasskeyType(Flag):
    """``passkeyTypes``, a flags enum. The values are the ones Entra's audit log records (1, 2; 3 = both)."""

    DEVICE_BOUND = 1
    SYNCED = 2


PASSKEY_TYPE_NAMES: Final[dict[PasskeyType, str]] = {PasskeyType.DEVICE_BOUND: "deviceBound",
                                                      PasskeyType.SYNCED: "synced"}
BOTH_PASSKEY_TYPES: Final = PasskeyType.DEVICE_BOUND | PasskeyType.SYNCED


@unique
class AttestationEnforcement(StrEnum):
    """``attestationEnforcement``: attestation is checked when a passkey is added, never at sign-in."""

    DISABLED = "disabled"
    REGISTRATION_ONLY = "registrationOnly"


@unique
class EnforcementType(StrEnum):
    """``fido2RestrictionEnforcementType``."""

    ALLOW = "allow"
    BLOCK = "block"


def _refuse(message: str, target: str) -> PolicyValidationError:
    return PolicyValidationError(message, target=target, code=POLICY_RULE)


def _unique(ids: Iterable[str], what: str, target: str) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise _refuse(f"{what} {value!r} appears twice", target)
        seen.add(value)


@dataclass(frozen=True, slots=True)
class KeyRestrictions:
    """``fido2KeyRestrictions``: an AAGUID allow or block list, applied at registration and every sign-in."""

    is_enforced: bool = False
    enforcement_type: EnforcementType = EnforcementType.ALLOW
    aa_guids: tuple[str, ...] = ()

    def admits(self, aaguid: str) -> bool:
        """Whether a passkey of this make and model (its AAGUID) passes the restriction."""
        if not self.is_enforced:
            return True
        listed = aaguid.lower() in self.aa_guids
        return listed if self.enforcement_type is EnforcementType.ALLOW else not listed


NO_KEY_RESTRICTIONS: Final = KeyRestrictions()

# What MDS ``keyProtection`` values mean "the private key lives in hardware" (MDS3 / FIDO Registry §3.2).
HARDWARE_KEY_PROTECTION: Final = frozenset({"hardware", "tee", "secure_element"})


@dataclass(frozen=True, slots=True)
class MetadataRules:
    """Passgate's extension to a passkey profile: rules on the FIDO metadata (MDS) of an attested model.

    They let new models qualify without editing AAGUID lists: "FIDO certified at level 2 or above",
    "the key is protected by hardware". Like attestation, they are checked when a passkey is added, against
    the MDS entry its attestation chain anchored in, so a profile with rules must enforce attestation (a
    model that is only claimed proves nothing). In Graph JSON they are the ``@passgate.metadataRules``
    annotation of a ``passkeyProfile``, which a plain Graph client ignores.
    """

    minimum_certification_level: CertificationLevel | None = None
    require_hardware_key_protection: bool = False

    @property
    def is_set(self) -> bool:
        return self.minimum_certification_level is not None or self.require_hardware_key_protection


NO_METADATA_RULES: Final = MetadataRules()


@dataclass(frozen=True, slots=True)
class PasskeyProfile:
    """``passkeyProfile``: a named set of rules a passkey must fully satisfy."""

    id: str
    name: str
    passkey_types: PasskeyType = BOTH_PASSKEY_TYPES
    attestation_enforcement: AttestationEnforcement = AttestationEnforcement.DISABLED
    key_restrictions: KeyRestrictions = NO_KEY_RESTRICTIONS
    metadata_rules: MetadataRules = NO_METADATA_RULES

    def __post_init__(self) -> None:
        if self.metadata_rules.is_set and self.attestation_enforcement is not AttestationEnforcement.REGISTRATION_ONLY:
            raise _refuse(f"Passkey profile {self.name!r}: rules from FIDO metadata need attestationEnforcement "
                          "'registrationOnly' (without attestation a passkey's model is only claimed)",
                          "passkeyProfiles")

    @property
    def is_default(self) -> bool:
        return self.id == DEFAULT_PASSKEY_PROFILE_ID


@dataclass(frozen=True, slots=True)
class PasskeyTarget:
    """``passkeyAuthenticationMethodTarget``: who may use passkeys, and under which profiles."""

    id: str  # ALL_USERS or a group GUID
    target_type: TargetType = TargetType.GROUP
    is_registration_required: bool = False
    allowed_passkey_profiles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ExcludeTarget:
    """``excludeTarget``: a group whose members may not use the method at all (exclusion beats inclusion)."""

    id: str  # a group GUID
    target_type: TargetType = TargetType.GROUP


@dataclass(frozen=True, slots=True)
class MethodTarget:
    """``authenticationMethodTarget``: an include target of a method without passkey profiles."""

    id: str  # ALL_USERS or a group GUID
    target_type: TargetType = TargetType.GROUP
    is_registration_required: bool = False


@dataclass(frozen=True, slots=True)
class Fido2Configuration:
    """``fido2AuthenticationMethodConfiguration`` (Graph id ``Fido2``)."""

    ID: ClassVar[str] = "Fido2"
    ODATA_TYPE: ClassVar[str] = "#microsoft.graph.fido2AuthenticationMethodConfiguration"

    state: MethodState
    is_self_service_registration_allowed: bool
    include_targets: tuple[PasskeyTarget, ...]
    exclude_targets: tuple[ExcludeTarget, ...]
    passkey_profiles: tuple[PasskeyProfile, ...]
    default_passkey_profile: str = DEFAULT_PASSKEY_PROFILE_ID
    # Passgate's extension (the ``@passgate.refuseFlaggedModelsAtSignIn`` annotation): refuse sign-in with a
    # passkey whose model a later FIDO metadata BLOB marked revoked or compromised. Off by default, as Entra
    # checks attestation only at registration; the admin centre's report of flagged passkeys turns it on.
    refuse_flagged_models_at_sign_in: bool = False

    def __post_init__(self) -> None:
        _unique((p.id for p in self.passkey_profiles), "The passkey profile id", "passkeyProfiles")
        _unique((t.id for t in self.include_targets), "The include target", "includeTargets")
        _unique((t.id for t in self.exclude_targets), "The exclude target", "excludeTargets")
        if len(self.passkey_profiles) > MAX_PASSKEY_PROFILES:
            raise _refuse(f"There can be at most {MAX_PASSKEY_PROFILES} passkey profiles", "passkeyProfiles")
        if self.profile(self.default_passkey_profile) is None:
            raise _refuse("The default passkey profile can't be deleted", "passkeyProfiles")
        known = {p.id for p in self.passkey_profiles}
        for target in self.include_targets:
            if not target.allowed_passkey_profiles:
                raise _refuse("Include conditions are missing passkey profile targets", "includeTargets")
            missing = [p for p in target.allowed_passkey_profiles if p not in known]
            if missing:
                raise _refuse(f"Include target {target.id!r} names passkey profile {missing[0]!r}, which doesn't exist",
                              "includeTargets")

    def profile(self, profile_id: str) -> PasskeyProfile | None:
        return next((p for p in self.passkey_profiles if p.id == profile_id.lower()), None)

    @property
    def default_profile(self) -> PasskeyProfile:
        return next(p for p in self.passkey_profiles if p.id == self.default_passkey_profile)  # see __post_init__

    @property
    def is_attestation_enforced(self) -> bool:
        """Deprecated Graph property, mirrored from the default profile."""
        return self.default_profile.attestation_enforcement is AttestationEnforcement.REGISTRATION_ONLY

    @property
    def key_restrictions(self) -> KeyRestrictions:
        """Deprecated Graph property, mirrored from the default profile."""
        return self.default_profile.key_restrictions


@dataclass(frozen=True, slots=True)
class SoftwareOathConfiguration:
    """``softwareOathAuthenticationMethodConfiguration`` (Graph id ``SoftwareOath``)."""

    ID: ClassVar[str] = "SoftwareOath"
    ODATA_TYPE: ClassVar[str] = "#microsoft.graph.softwareOathAuthenticationMethodConfiguration"

    state: MethodState
    include_targets: tuple[MethodTarget, ...]
    exclude_targets: tuple[ExcludeTarget, ...] = ()

    def __post_init__(self) -> None:
        _unique((t.id for t in self.include_targets), "The include target", "includeTargets")
        _unique((t.id for t in self.exclude_targets), "The exclude target", "excludeTargets")


@dataclass(frozen=True, slots=True)
class TemporaryAccessPassConfiguration:
    """``temporaryAccessPassAuthenticationMethodConfiguration`` (Graph id ``TemporaryAccessPass``)."""

    ID: ClassVar[str] = "TemporaryAccessPass"
    ODATA_TYPE: ClassVar[str] = "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration"

    state: MethodState
    include_targets: tuple[MethodTarget, ...]
    exclude_targets: tuple[ExcludeTarget, ...] = ()
    default_lifetime_in_minutes: int = DEFAULT_LIFETIME_MINUTES
    minimum_lifetime_in_minutes: int = TAP_MIN_LIFETIME
    maximum_lifetime_in_minutes: int = TAP_MAX_LIFETIME
    default_length: int = TAP_LENGTH
    is_usable_once: bool = False

    def __post_init__(self) -> None:
        _unique((t.id for t in self.include_targets), "The include target", "includeTargets")
        _unique((t.id for t in self.exclude_targets), "The exclude target", "excludeTargets")
        low, default, high = (self.minimum_lifetime_in_minutes, self.default_lifetime_in_minutes,
                              self.maximum_lifetime_in_minutes)
        if not TAP_MIN_LIFETIME <= low <= default <= high <= TAP_MAX_LIFETIME:
            raise _refuse(f"Temporary Access Pass lifetimes must satisfy {TAP_MIN_LIFETIME} <= minimum ({low}) <= "
                          f"default ({default}) <= maximum ({high}) <= {TAP_MAX_LIFETIME} minutes",
                          "defaultLifetimeInMinutes")
        if not TAP_MIN_LENGTH <= self.default_length <= TAP_MAX_LENGTH:
            raise _refuse(f"defaultLength must be between {TAP_MIN_LENGTH} and {TAP_MAX_LENGTH}", "defaultLength")


MethodConfiguration = Fido2Configuration | SoftwareOathConfiguration | TemporaryAccessPassConfiguration


@dataclass(frozen=True, slots=True)
class AuthenticationMethodsPolicy:
    """``authenticationMethodsPolicy``: the three method configurations plus metadata the caller passes in."""

    ID: ClassVar[str] = "authenticationMethodsPolicy"

    fido2: Fido2Configuration
    software_oath: SoftwareOathConfiguration
    temporary_access_pass: TemporaryAccessPassConfiguration
    policy_version: str = field(default=GRAPH_POLICY_VERSION, compare=False)
    last_modified_date_time: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        when = self.last_modified_date_time
        if when is not None and when.utcoffset() is None:
            raise ValueError("last_modified_date_time must be timezone-aware")

    @property
    def configurations(self) -> tuple[MethodConfiguration, ...]:
        return (self.fido2, self.software_oath, self.temporary_access_pass)


DEFAULT_PASSKEY_PROFILE: Final = PasskeyProfile(id=DEFAULT_PASSKEY_PROFILE_ID, name=DEFAULT_PASSKEY_PROFILE_NAME)


def default_policy(*, policy_version: str = GRAPH_POLICY_VERSION,
                   last_modified_date_time: datetime | None = None) -> AuthenticationMethodsPolicy:
    """A new tenant's policy (see the module docstring for why each value)."""
    return AuthenticationMethodsPolicy(
        fido2=Fido2Configuration(
            state=MethodState.ENABLED,
            is_self_service_registration_allowed=True,
            include_targets=(PasskeyTarget(id=ALL_USERS, is_registration_required=True,
                                           allowed_passkey_profiles=(DEFAULT_PASSKEY_PROFILE_ID,)),),
            exclude_targets=(),
            passkey_profiles=(DEFAULT_PASSKEY_PROFILE,),
        ),
        software_oath=SoftwareOathConfiguration(state=MethodState.ENABLED, include_targets=(MethodTarget(ALL_USERS),)),
        temporary_access_pass=TemporaryAccessPassConfiguration(state=MethodState.ENABLED,
                                                               include_targets=(MethodTarget(ALL_USERS),)),
        policy_version=policy_version,
        last_modified_date_time=last_modified_date_time,
    )


DEFAULT_POLICY: Final = default_policy()
