"""Graph v1.0 JSON from the policy model: :func:`to_graph`, re-exported by :mod:`passgate.core.policy.graph`.

``to_graph`` gives what ``GET /policies/authenticationMethodsPolicy`` and
``GET .../authenticationMethodConfigurations/{id}`` answer, in the shape a live Entra tenant answers
it: ``@odata.type`` on each method configuration (the collection is polymorphic), none on nested
complex values; ids ``Fido2``, ``SoftwareOath``, ``TemporaryAccessPass``; the deprecated
``isAttestationEnforced`` and ``keyRestrictions`` mirrored from the default passkey profile. The
adapter adds ``@odata.context``. Passgate doesn't implement registration campaigns nor reconfirmation: the
policy answers ``registrationEnforcement`` with a disabled campaign without targets (:data:`ANSWERED_EMPTY`)
and ``reconfirmationInDays`` null.

The names of Passgate's extensions (:data:`METADATA_RULES`, :data:`REFUSE_FLAGGED`) and the spelling of
certification levels (:data:`CERTIFICATION_LEVEL_NAMES`) are defined here, and the readers
(``_graph_read``, ``_graph_profiles``) accept them back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC
from types import MappingProxyType
from typing import Any, Final

from passgate.core.policy.model import (
    PASSKEY_TYPE_NAMES,
    AuthenticationMethodsPolicy,
    ExcludeTarget,
    Fido2Configuration,
    KeyRestrictions,
    MetadataRules,
    MethodConfiguration,
    MethodTarget,
    PasskeyProfile,
    PasskeyType,
    SoftwareOathConfiguration,
    TemporaryAccessPassConfiguration,
)
from passgate.core.trust.mds import CertificationLevel

JsonObject = dict[str, Any]

POLICY_DISPLAY_NAME: Final = "Authentication Methods Policy"
POLICY_DESCRIPTION: Final = ("The tenant-wide policy that controls which authentication methods people can "
                             "register and sign in with.")
# Passgate has no legacy MFA/SSPR policies to migrate from: the methods policy is the only one.
POLICY_MIGRATION_STATE: Final = "migrationComplete"
# Graph v1.0 policy properties Passgate does not implement, as it answers them (a PATCH may send them back unchanged)
ANSWERED_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({
    "registrationEnforcement": MappingProxyType({"authenticationMethodsRegistrationCampaign": MappingProxyType({
        "snoozeDurationInDays": 1, "state": "disabled", "excludeTargets": (), "includeTargets": ()})}),
    "reconfirmationInDays": None,
})


def _plain(value: Any) -> Any:
    """A fresh JSON value from a frozen constant (mappings to dicts, tuples to lists)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def answered_empty() -> dict[str, Any]:
    """:data:`ANSWERED_EMPTY` as plain JSON (a new dict each call)."""
    return {name: _plain(value) for name, value in ANSWERED_EMPTY.items()}

_ODATA_TYPE = "@odata.type"
# Passgate's extensions, as OData instance annotations a plain Graph client ignores (and may send back).
METADATA_RULES: Final = "@passgate.metadataRules"
REFUSE_FLAGGED: Final = "@passgate.refuseFlaggedModelsAtSignIn"
# Certification levels as the extension spells them ("L2", "L2plus"), from MDS status names.
CERTIFICATION_LEVEL_NAMES: Final[Mapping[CertificationLevel, str]] = {
    level: level.value.removeprefix("FIDO_CERTIFIED_") for level in CertificationLevel}


def passkey_types_to_graph(types: PasskeyType) -> str:
    """``deviceBound``, ``synced`` or ``deviceBound,synced`` (Graph's flags-enum spelling)."""
    return ",".join(name for flag, name in PASSKEY_TYPE_NAMES.items() if flag in types)


def _key_restrictions(value: KeyRestrictions) -> JsonObject:
    return {"isEnforced": value.is_enforced, "enforcementType": value.enforcement_type.value,
            "aaGuids": list(value.aa_guids)}


def metadata_rules_to_graph(rules: MetadataRules) -> JsonObject:
    level = rules.minimum_certification_level
    return {"minimumCertificationLevel": None if level is None else CERTIFICATION_LEVEL_NAMES[level],
            "requireHardwareKeyProtection": rules.require_hardware_key_protection}


def _profile(value: PasskeyProfile) -> JsonObject:
    profile: JsonObject = {
        "id": value.id, "name": value.name, "passkeyTypes": passkey_types_to_graph(value.passkey_types),
        "attestationEnforcement": value.attestation_enforcement.value,
        "keyRestrictions": _key_restrictions(value.key_restrictions)}
    if value.metadata_rules.is_set:
        profile[METADATA_RULES] = metadata_rules_to_graph(value.metadata_rules)
    return profile


def _exclude_targets(values: Sequence[ExcludeTarget]) -> list[JsonObject]:
    return [{"id": t.id, "targetType": t.target_type.value} for t in values]


def _method_targets(values: Sequence[MethodTarget]) -> list[JsonObject]:
    return [{"targetType": t.target_type.value, "id": t.id, "isRegistrationRequired": t.is_registration_required}
            for t in values]


def _fido2_to_graph(config: Fido2Configuration) -> JsonObject:
    extension = {REFUSE_FLAGGED: True} if config.refuse_flagged_models_at_sign_in else {}
    return {
        _ODATA_TYPE: config.ODATA_TYPE,
        "id": config.ID,
        "state": config.state.value,
        "isSelfServiceRegistrationAllowed": config.is_self_service_registration_allowed,
        "isAttestationEnforced": config.is_attestation_enforced,
        "keyRestrictions": _key_restrictions(config.key_restrictions),
        "defaultPasskeyProfile": config.default_passkey_profile,
        "includeTargets": [{"targetType": t.target_type.value, "id": t.id,
                            "isRegistrationRequired": t.is_registration_required,
                            "allowedPasskeyProfiles": list(t.allowed_passkey_profiles)}
                           for t in config.include_targets],
        "excludeTargets": _exclude_targets(config.exclude_targets),
        "passkeyProfiles": [_profile(p) for p in config.passkey_profiles],
        **extension,
    }


def _software_oath_to_graph(config: SoftwareOathConfiguration) -> JsonObject:
    return {_ODATA_TYPE: config.ODATA_TYPE, "id": config.ID, "state": config.state.value,
            "includeTargets": _method_targets(config.include_targets),
            "excludeTargets": _exclude_targets(config.exclude_targets)}


def _tap_to_graph(config: TemporaryAccessPassConfiguration) -> JsonObject:
    return {_ODATA_TYPE: config.ODATA_TYPE, "id": config.ID, "state": config.state.value,
            "defaultLifetimeInMinutes": config.default_lifetime_in_minutes,
            "defaultLength": config.default_length,
            "minimumLifetimeInMinutes": config.minimum_lifetime_in_minutes,
            "maximumLifetimeInMinutes": config.maximum_lifetime_in_minutes,
            "isUsableOnce": config.is_usable_once,
            "includeTargets": _method_targets(config.include_targets),
            "excludeTargets": _exclude_targets(config.exclude_targets)}


def _policy_to_graph(policy: AuthenticationMethodsPolicy) -> JsonObject:
    when = policy.last_modified_date_time
    return {
        "id": policy.ID,
        "displayName": POLICY_DISPLAY_NAME,
        "description": POLICY_DESCRIPTION,
        "lastModifiedDateTime": None if when is None else when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "policyVersion": policy.policy_version,
        "policyMigrationState": POLICY_MIGRATION_STATE,
        **answered_empty(),
        "authenticationMethodConfigurations": [to_graph(c) for c in policy.configurations],
    }


def to_graph(value: AuthenticationMethodsPolicy | MethodConfiguration) -> JsonObject:
    """The Graph v1.0 JSON object for a policy or one method configuration (a new dict each call)."""
    if isinstance(value, AuthenticationMethodsPolicy):
        return _policy_to_graph(value)
    if isinstance(value, Fido2Configuration):
        return _fido2_to_graph(value)
    if isinstance(value, SoftwareOathConfiguration):
        return _software_oath_to_graph(value)
    return _tap_to_graph(value)
