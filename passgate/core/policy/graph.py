"""Microsoft Graph v1.0 JSON for the authentication methods policy: :func:`to_graph` and :func:`apply_patch`.

``to_graph`` gives what ``GET /policies/authenticationMethodsPolicy`` and
``GET .../authenticationMethodConfigurations/{id}`` answer, in the shape a live Entra tenant answers
it: ``@odata.type`` on each method configuration (the collection is polymorphic), none on nested
complex values; ids ``Fido2``, ``SoftwareOath``, ``TemporaryAccessPass``; the deprecated
``isAttestationEnforced`` and ``keyRestrictions`` mirrored from the default passkey profile. The
adapter adds ``@odata.context``.

``apply_patch`` applies a PATCH body with Graph's semantics and answers the new value (the adapter
then answers ``204``). Where Graph's documentation is silent Passgate decides, as follows:

- A property absent from the body keeps its value. A collection in the body (``includeTargets``,
  ``excludeTargets``, ``passkeyProfiles``) replaces the whole collection; a member that keeps an
  existing id keeps, for each property it leaves out, its current value, while a new member gets the
  defaults (``isRegistrationRequired`` false, ``attestationEnforcement`` disabled, no key
  restrictions). A new passkey profile comes without an ``id`` and must have ``name`` and
  ``passkeyTypes``; its id comes from ``new_id()``. A profile ``id`` Passgate doesn't know is refused
  (rather than created under a caller-chosen id).
- ``@odata.type`` is checked when present (with or without the leading ``#``) but not required, not
  even for Fido2 where Graph's documentation says it "must be included": Passgate knows the type from
  the URL, and an empty body is then simply no change. ``@odata.context`` annotations (what a GET
  answered) are ignored, so a GET body can be sent back.
- ``id`` and ``defaultPasskeyProfile`` are read-only: accepted when they repeat the current value
  (``id`` case-insensitively), refused otherwise.
- The deprecated ``isAttestationEnforced`` (true = ``registrationOnly``) and ``keyRestrictions`` update
  the default profile, but only when the body has no ``passkeyProfiles``: if it has, the profiles are
  what counts and the legacy values (still type-checked) are ignored. Microsoft's own v1.0 update
  example sends ``isAttestationEnforced: true`` next to a default profile with attestation
  ``disabled``; a GET-modify-PATCH client resends stale legacy values the same way.
- Booleans must be JSON ``true``/``false`` (OData JSON); the string ``"true"`` in an older version of
  Microsoft's update example is refused, naming the property.
- Enum members are case-sensitive as OData spells them; ``unknownFutureValue`` is refused.
  ``passkeyTypes`` takes ``deviceBound``, ``synced`` or both, comma-separated, in either order.
- GUIDs (AAGUIDs, group ids, profile ids) are stored lower-case; repeated AAGUIDs and repeated
  ``allowedPasskeyProfiles`` entries are dropped (Graph echoes duplicates back).
- Passgate only targets groups: ``targetType`` ``user`` is refused with ``notSupported``.
- An enforced ``allow`` key restriction with no AAGUIDs is refused: it would let no passkey in.
- Two profiles may not share a name (case-insensitively); a profile name is 1..64 printable
  characters.
- A profile with attestation ``registrationOnly`` may still allow ``synced`` passkeys (a live tenant
  returns exactly that); since synced passkeys can't be attested, such a profile admits them only at
  sign-in, never at registration.
- The top-level ``PATCH /policies/authenticationMethodsPolicy`` accepts, in Graph v1.0, only
  ``registrationEnforcement``. Passgate doesn't implement registration campaigns (its registration
  prompt is ``isRegistrationRequired`` on Fido2 include targets), so ``registrationEnforcement`` (and
  the beta-only top-level settings) are refused with ``notSupported``; read-only properties and
  ``authenticationMethodConfigurations`` are accepted only when they repeat what a GET answers. The
  GET answer leaves ``registrationEnforcement`` out rather than invent a campaign.

Every refusal is a :class:`~passgate.core.policy.errors.PolicyValidationError` whose ``target`` is the
JSON path of the offending property and whose message names it and the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final, TypeVar, overload

from passgate.core.errors import NotFound
from passgate.core.policy.errors import (
    INVALID_PROPERTY,
    MISSING_PROPERTY,
    NOT_SUPPORTED,
    POLICY_RULE,
    READ_ONLY_PROPERTY,
    UNKNOWN_PROPERTY,
    PolicyValidationError,
)
from passgate.core.policy.model import (
    ALL_USERS,
    GRAPH_POLICY_VERSION,
    MAX_PASSKEY_PROFILES,
    MAX_PROFILE_NAME,
    NO_METADATA_RULES,
    PASSKEY_TYPE_NAMES,
    TAP_MAX_LENGTH,
    TAP_MAX_LIFETIME,
    TAP_MIN_LENGTH,
    TAP_MIN_LIFETIME,
    AttestationEnforcement,
    AuthenticationMethodsPolicy,
    EnforcementType,
    ExcludeTarget,
    Fido2Configuration,
    KeyRestrictions,
    MetadataRules,
    MethodConfiguration,
    MethodState,
    MethodTarget,
    PasskeyProfile,
    PasskeyTarget,
    PasskeyType,
    SoftwareOathConfiguration,
    TargetType,
    TemporaryAccessPassConfiguration,
    default_policy,
    is_guid,
)
from passgate.core.text import first_unusable
from passgate.core.trust.mds import CertificationLevel

JsonObject = dict[str, Any]

POLICY_DISPLAY_NAME: Final = "Authentication Methods Policy"
POLICY_DESCRIPTION: Final = ("The tenant-wide policy that controls which authentication methods people can "
                             "register and sign in with.")
# Passgate has no legacy MFA/SSPR policies to migrate from: the methods policy is the only one.
POLICY_MIGRATION_STATE: Final = "migrationComplete"

METHOD_IDS: Final = (Fido2Configuration.ID, SoftwareOathConfiguration.ID, TemporaryAccessPassConfiguration.ID)

_POLICY_TYPES: Final = ("microsoft.graph.authenticationMethodsPolicy",)
_PASSKEY_TARGET_TYPES: Final = ("microsoft.graph.passkeyAuthenticationMethodTarget",
                                "microsoft.graph.authenticationMethodTarget")
_METHOD_TARGET_TYPES: Final = ("microsoft.graph.authenticationMethodTarget",)
_EXCLUDE_TARGET_TYPES: Final = ("microsoft.graph.excludeTarget",)
_PROFILE_TYPES: Final = ("microsoft.graph.passkeyProfile",)
_KEY_RESTRICTION_TYPES: Final = ("microsoft.graph.fido2KeyRestrictions",)

_ODATA_TYPE = "@odata.type"
# Passgate's extensions, as OData instance annotations a plain Graph client ignores (and may send back).
METADATA_RULES: Final = "@passgate.metadataRules"
REFUSE_FLAGGED: Final = "@passgate.refuseFlaggedModelsAtSignIn"
_FIDO2_KEYS: Final = frozenset({_ODATA_TYPE, "id", "state", "isSelfServiceRegistrationAllowed", "isAttestationEnforced",
                                "keyRestrictions", "defaultPasskeyProfile", "includeTargets", "excludeTargets",
                                "passkeyProfiles", REFUSE_FLAGGED})
_SOFTWARE_OATH_KEYS: Final = frozenset({_ODATA_TYPE, "id", "state", "includeTargets", "excludeTargets"})
_TAP_LIFETIMES: Final = ("minimumLifetimeInMinutes", "defaultLifetimeInMinutes", "maximumLifetimeInMinutes")
_TAP_KEYS: Final = _SOFTWARE_OATH_KEYS | {*_TAP_LIFETIMES, "defaultLength", "isUsableOnce"}
_PASSKEY_TARGET_KEYS: Final = frozenset({_ODATA_TYPE, "id", "targetType", "isRegistrationRequired",
                                         "allowedPasskeyProfiles"})
_METHOD_TARGET_KEYS: Final = frozenset({_ODATA_TYPE, "id", "targetType", "isRegistrationRequired"})
_EXCLUDE_TARGET_KEYS: Final = frozenset({_ODATA_TYPE, "id", "targetType"})
_PROFILE_KEYS: Final = frozenset({_ODATA_TYPE, "id", "name", "passkeyTypes", "attestationEnforcement",
                                  "keyRestrictions", METADATA_RULES})
_METADATA_RULE_KEYS: Final = frozenset({"minimumCertificationLevel", "requireHardwareKeyProtection"})
# Certification levels as the extension spells them ("L2", "L2plus"), from MDS status names.
CERTIFICATION_LEVEL_NAMES: Final[Mapping[CertificationLevel, str]] = {
    level: level.value.removeprefix("FIDO_CERTIFIED_") for level in CertificationLevel}
_KEY_RESTRICTION_KEYS: Final = frozenset({_ODATA_TYPE, "isEnforced", "enforcementType", "aaGuids"})
_POLICY_READ_ONLY: Final = ("id", "displayName", "description", "lastModifiedDateTime", "policyVersion",
                            "policyMigrationState", "authenticationMethodConfigurations")
_POLICY_NOT_SUPPORTED: Final = frozenset({"registrationEnforcement", "reconfirmationInDays",
                                          "reportSuspiciousActivitySettings", "systemCredentialPreferences",
                                          "microsoftAuthenticatorPlatformSettings"})
_POLICY_KEYS: Final = frozenset({_ODATA_TYPE, *_POLICY_READ_ONLY, *_POLICY_NOT_SUPPORTED})


# ---------------------------------------------------------------------------------------------- to_graph


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


# ---------------------------------------------------------------------------------------------- lookup


def method_configuration(policy: AuthenticationMethodsPolicy, method_id: str) -> MethodConfiguration:
    """The configuration with this Graph id, matched case-insensitively (``fido2``, ``FIDO2``, ``Fido2``)."""
    wanted = method_id.casefold()
    for config in policy.configurations:
        if config.ID.casefold() == wanted:
            return config
    raise NotFound(f"There is no authentication method configuration {method_id!r}; Passgate has "
                   f"{', '.join(METHOD_IDS)}", code="method_configuration_not_found")


def with_method_configuration(policy: AuthenticationMethodsPolicy,
                              config: MethodConfiguration) -> AuthenticationMethodsPolicy:
    """The policy with one method configuration replaced (metadata kept: the caller sets the new version)."""
    if isinstance(config, Fido2Configuration):
        return replace(policy, fido2=config)
    if isinstance(config, SoftwareOathConfiguration):
        return replace(policy, software_oath=config)
    return replace(policy, temporary_access_pass=config)


def apply_method_patch(policy: AuthenticationMethodsPolicy, method_id: str, body: Mapping[str, Any], *,
                       new_id: Callable[[], str]) -> AuthenticationMethodsPolicy:
    """``PATCH .../authenticationMethodConfigurations/{method_id}``: the whole policy after the change."""
    current = method_configuration(policy, method_id)
    return with_method_configuration(policy, apply_patch(current, body, new_id=new_id))


# ---------------------------------------------------------------------------------------------- reading JSON


def _show(value: object) -> str:
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _invalid(path: str, value: object, expected: str) -> PolicyValidationError:
    return PolicyValidationError(f"{path}: {_show(value)} is not valid; {expected}", target=path,
                                 code=INVALID_PROPERTY)


def _is_annotation(key: str, allowed: frozenset[str]) -> bool:
    if key == "@odata.context":
        return True
    name, _, annotation = key.partition("@")
    return annotation == "odata.context" and name in allowed


def _object(value: object, path: str, type_name: str, allowed: frozenset[str],
            odata_types: Sequence[str]) -> Mapping[str, object]:
    """A JSON object with only known properties and, if it says, the right ``@odata.type``."""
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise PolicyValidationError(f"{path or 'The body'}: {_show(value)} is not valid; a {type_name} object is "
                                    "expected", target=path, code=INVALID_PROPERTY)
    unknown = [key for key in value if key not in allowed and not _is_annotation(key, allowed)]
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        noun = "property" if len(unknown) == 1 else "properties"
        raise PolicyValidationError(f"{type_name} has no {noun} {names}" + (f" (at {path})" if path else ""),
                                    target=_join(path, unknown[0]), code=UNKNOWN_PROPERTY)
    if _ODATA_TYPE in value:
        given = value[_ODATA_TYPE]
        if not isinstance(given, str) or given.removeprefix("#") not in odata_types:
            raise _invalid(_join(path, _ODATA_TYPE), given, f"expected '#{odata_types[0]}'")
    return value


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise _invalid(path, value, "expected true or false")
    return value


def _int(value: object, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(path, value, f"expected a whole number from {low} to {high}")
    return value


def _list(value: object, path: str) -> Sequence[object]:
    if not isinstance(value, list | tuple):
        raise _invalid(path, value, "expected a JSON array")
    return value


_E = TypeVar("_E", MethodState, AttestationEnforcement, EnforcementType)
_Target = TypeVar("_Target", MethodTarget, PasskeyTarget)


def _enum(value: object, path: str, kind: type[_E]) -> _E:
    for member in kind:
        if value == member.value:
            return member
    allowed = ", ".join(repr(m.value) for m in kind)
    raise _invalid(path, value, f"expected one of {allowed}")


def _guid(value: object, path: str, what: str) -> str:
    if not isinstance(value, str) or not is_guid(value):
        raise _invalid(path, value, f"{what} must be a GUID such as '90a3ccdf-635c-4729-a248-9b709135078f'")
    return value.lower()


def _target_id(value: object, path: str, *, all_users_allowed: bool) -> str:
    if isinstance(value, str) and value.lower() == ALL_USERS:
        if all_users_allowed:
            return ALL_USERS
        raise PolicyValidationError(f"{path}: 'all_users' can't be excluded; to stop everyone using the method, set "
                                    "its state to 'disabled'", target=path, code=POLICY_RULE)
    if not isinstance(value, str) or not is_guid(value):
        expected = "'all_users' or a group id (a GUID)" if all_users_allowed else "a group id (a GUID)"
        raise _invalid(path, value, f"expected {expected}")
    return value.lower()


def _target_type(value: object, path: str) -> TargetType:
    if value == "user":
        raise PolicyValidationError(f"{path}: Passgate targets groups only ('user' targets are not supported, and "
                                    "Graph no longer recommends them); put the person in a group and target it",
                                    target=path, code=NOT_SUPPORTED)
    if value != TargetType.GROUP.value:
        raise _invalid(path, value, "expected 'group'")
    return TargetType.GROUP


def _unique_ids(ids: Sequence[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if value in seen:
            raise PolicyValidationError(f"{path}[{index}]: {what} {value!r} is listed twice", target=f"{path}[{index}]",
                                        code=POLICY_RULE)
        seen.add(value)


def _dedupe(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


# ---------------------------------------------------------------------------------------------- targets


def _exclude_targets_from(value: object, path: str) -> tuple[ExcludeTarget, ...]:
    result: list[ExcludeTarget] = []
    for index, item in enumerate(_list(value, path)):
        here = f"{path}[{index}]"
        obj = _object(item, here, "excludeTarget", _EXCLUDE_TARGET_KEYS, _EXCLUDE_TARGET_TYPES)
        if "id" not in obj:
            raise PolicyValidationError(f"{here}: an exclude target needs an 'id' (a group id)", target=f"{here}.id",
                                        code=MISSING_PROPERTY)
        target_id = _target_id(obj["id"], f"{here}.id", all_users_allowed=False)
        target_type = _target_type(obj["targetType"], f"{here}.targetType") if "targetType" in obj else TargetType.GROUP
        result.append(ExcludeTarget(id=target_id, target_type=target_type))
    _unique_ids([t.id for t in result], path, "group")
    return tuple(result)


def _include_targets_from(value: object, path: str, current: Sequence[_Target], *, type_name: str,
                          keys: frozenset[str], types: tuple[str, ...], new: Callable[[str], _Target],
                          extra: Callable[[Mapping[str, Any], str, _Target], dict[str, Any]]) -> tuple[_Target, ...]:
    """Include targets of either kind: a member that names an existing id keeps what it leaves out."""
    by_id = {t.id: t for t in current}
    result: list[_Target] = []
    for index, item in enumerate(_list(value, path)):
        here = f"{path}[{index}]"
        obj = _object(item, here, type_name, keys, types)
        if "id" not in obj:
            raise PolicyValidationError(f"{here}: an include target needs an 'id' ('all_users' or a group id)",
                                        target=f"{here}.id", code=MISSING_PROPERTY)
        target_id = _target_id(obj["id"], f"{here}.id", all_users_allowed=True)
        base = by_id.get(target_id) or new(target_id)
        changes: dict[str, Any] = {"id": target_id, **extra(obj, here, base)}
        if "targetType" in obj:
            changes["target_type"] = _target_type(obj["targetType"], f"{here}.targetType")
        if "isRegistrationRequired" in obj:
            changes["is_registration_required"] = _bool(obj["isRegistrationRequired"], f"{here}.isRegistrationRequired")
        result.append(replace(base, **changes))
    _unique_ids([t.id for t in result], path, "target")
    return tuple(result)


def _method_targets_from(value: object, path: str, current: Sequence[MethodTarget]) -> tuple[MethodTarget, ...]:
    return _include_targets_from(value, path, current, type_name="authenticationMethodTarget",
                                 keys=_METHOD_TARGET_KEYS, types=_METHOD_TARGET_TYPES,
                                 new=lambda target_id: MethodTarget(id=target_id), extra=lambda obj, here, base: {})


def _allowed_profiles(obj: Mapping[str, Any], here: str, base: PasskeyTarget) -> dict[str, Any]:
    if "allowedPasskeyProfiles" not in obj:
        return {}
    where = f"{here}.allowedPasskeyProfiles"
    return {"allowed_passkey_profiles": _dedupe([_guid(p, f"{where}[{i}]", "a passkey profile id")
                                                 for i, p in enumerate(_list(obj["allowedPasskeyProfiles"], where))])}


def _passkey_targets_from(value: object, path: str, current: Sequence[PasskeyTarget]) -> tuple[PasskeyTarget, ...]:
    return _include_targets_from(value, path, current, type_name="passkeyAuthenticationMethodTarget",
                                 keys=_PASSKEY_TARGET_KEYS, types=_PASSKEY_TARGET_TYPES,
                                 new=lambda target_id: PasskeyTarget(id=target_id), extra=_allowed_profiles)


# ---------------------------------------------------------------------------------------------- passkey profiles


def _passkey_types(value: object, path: str) -> PasskeyType:
    by_name = {name: flag for flag, name in PASSKEY_TYPE_NAMES.items()}
    expected = "expected 'deviceBound', 'synced' or 'deviceBound,synced'"
    if not isinstance(value, str):
        raise _invalid(path, value, expected)
    types = PasskeyType(0)
    for part in value.split(","):
        flag = by_name.get(part.strip())
        if flag is None:
            raise _invalid(path, value, expected)
        types |= flag
    return types


def _key_restrictions_from(value: object, path: str, base: KeyRestrictions) -> KeyRestrictions:
    obj = _object(value, path, "fido2KeyRestrictions", _KEY_RESTRICTION_KEYS, _KEY_RESTRICTION_TYPES)
    aa_guids = base.aa_guids
    if "aaGuids" in obj:
        where = _join(path, "aaGuids")
        aa_guids = _dedupe([_guid(g, f"{where}[{i}]", "an AAGUID")
                            for i, g in enumerate(_list(obj["aaGuids"], where))])
    result = KeyRestrictions(
        is_enforced=_bool(obj["isEnforced"], _join(path, "isEnforced")) if "isEnforced" in obj else base.is_enforced,
        enforcement_type=_enum(obj["enforcementType"], _join(path, "enforcementType"), EnforcementType)
        if "enforcementType" in obj else base.enforcement_type,
        aa_guids=aa_guids,
    )
    if result.is_enforced and result.enforcement_type is EnforcementType.ALLOW and not result.aa_guids:
        where = _join(path, "aaGuids")
        raise PolicyValidationError(f"{where}: an enforced allow list needs at least one AAGUID; with none, no "
                                    "passkey would be allowed", target=where, code=POLICY_RULE)
    return result


def _metadata_rules_from(value: object, path: str, base: MetadataRules) -> MetadataRules:
    """``null`` clears the rules; an object changes the properties it has."""
    if value is None:
        return NO_METADATA_RULES
    obj = _object(value, path, "metadataRules", _METADATA_RULE_KEYS, ())
    level = base.minimum_certification_level
    if "minimumCertificationLevel" in obj:
        given = obj["minimumCertificationLevel"]
        names = {name: level for level, name in CERTIFICATION_LEVEL_NAMES.items()}
        if given is not None and given not in names:
            allowed = ", ".join(repr(name) for name in names)
            raise _invalid(f"{path}.minimumCertificationLevel", given, f"expected null or one of {allowed}")
        level = None if given is None else names[str(given)]
    hardware = (_bool(obj["requireHardwareKeyProtection"], f"{path}.requireHardwareKeyProtection")
                if "requireHardwareKeyProtection" in obj else base.require_hardware_key_protection)
    return MetadataRules(minimum_certification_level=level, require_hardware_key_protection=hardware)


def _with_metadata_rules(profile: PasskeyProfile, obj: Mapping[str, object], here: str,
                         current: MetadataRules) -> PasskeyProfile:
    rules = (_metadata_rules_from(obj[METADATA_RULES], f"{here}.{METADATA_RULES}", current)
             if METADATA_RULES in obj else current)
    if rules.is_set and profile.attestation_enforcement is not AttestationEnforcement.REGISTRATION_ONLY:
        # Blame what the body changed: new rules, or attestation turned off under rules kept as they were.
        where = f"{here}.{METADATA_RULES}" if rules != current else f"{here}.attestationEnforcement"
        raise PolicyValidationError(
            f"{where}: rules from FIDO metadata need attestationEnforcement 'registrationOnly' in profile "
            f"{profile.name!r}: without attestation a passkey's model is only claimed, so its metadata proves nothing",
            target=where, code=POLICY_RULE)
    return replace(profile, metadata_rules=rules)


def _profile_name(value: object, path: str) -> str:
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if (not name or len(name) > MAX_PROFILE_NAME or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
            or first_unusable(name)):
        raise _invalid(path, value, f"a profile name is 1 to {MAX_PROFILE_NAME} printable characters")
    return name


def _new_profile_id(new_id: Callable[[], str], taken: set[str]) -> str:
    value = new_id()
    if not isinstance(value, str) or not is_guid(value) or value.lower() in taken:
        raise ValueError(f"new_id() must return an unused GUID, not {value!r}")
    return value.lower()


def _profiles_from(value: object, current: Fido2Configuration, *, adopt_ids: bool) -> tuple[PasskeyProfile, ...]:
    """The new collection; new profiles have the id "" until :func:`_assign_ids`.

    ``adopt_ids`` (reading a stored document, not a PATCH): an id Passgate doesn't know is kept, as a new
    profile's.
    """
    path = "passkeyProfiles"
    items = _list(value, path)
    if len(items) > MAX_PASSKEY_PROFILES:
        raise PolicyValidationError(f"{path}: there can be at most {MAX_PASSKEY_PROFILES} passkey profiles, the "
                                    f"default profile included; the body has {len(items)}", target=path,
                                    code=POLICY_RULE)
    result: list[PasskeyProfile] = []
    names: dict[str, int] = {}
    for index, item in enumerate(items):
        here = f"{path}[{index}]"
        obj = _object(item, here, "passkeyProfile", _PROFILE_KEYS, _PROFILE_TYPES)
        existing: PasskeyProfile | None = None
        adopted = ""
        if "id" in obj:
            profile_id = _guid(obj["id"], f"{here}.id", "a passkey profile id")
            existing = current.profile(profile_id)
            if existing is None and adopt_ids:
                adopted = profile_id
            elif existing is None:
                raise PolicyValidationError(f"{here}.id: there is no passkey profile {profile_id!r}; send a new "
                                            "profile without an id and Passgate will assign one",
                                            target=f"{here}.id", code=INVALID_PROPERTY)
            if any(p.id == profile_id for p in result):
                raise PolicyValidationError(f"{here}.id: passkey profile {profile_id!r} is listed twice",
                                            target=f"{here}.id", code=POLICY_RULE)
        if existing is None:
            for required in ("name", "passkeyTypes"):
                if required not in obj:
                    raise PolicyValidationError(f"{here}: a new passkey profile needs '{required}'",
                                                target=f"{here}.{required}", code=MISSING_PROPERTY)
        name = _profile_name(obj["name"], f"{here}.name") if "name" in obj else existing.name if existing else ""
        if existing is not None and existing.is_default and name != existing.name:
            raise PolicyValidationError(f"{here}.name: the default passkey profile can't be renamed (it is "
                                        f"{existing.name!r})", target=f"{here}.name", code=READ_ONLY_PROPERTY)
        if name.casefold() in names:
            raise PolicyValidationError(f"{here}.name: another passkey profile is already called {name!r}",
                                        target=f"{here}.name", code=POLICY_RULE)
        names[name.casefold()] = index
        base = existing or PasskeyProfile(id="", name=name)
        profile = PasskeyProfile(
            id=existing.id if existing else adopted,
            name=name,
            passkey_types=_passkey_types(obj["passkeyTypes"], f"{here}.passkeyTypes") if "passkeyTypes" in obj
            else base.passkey_types,
            attestation_enforcement=_enum(obj["attestationEnforcement"], f"{here}.attestationEnforcement",
                                          AttestationEnforcement)
            if "attestationEnforcement" in obj else base.attestation_enforcement,
            key_restrictions=_key_restrictions_from(obj["keyRestrictions"], f"{here}.keyRestrictions",
                                                    base.key_restrictions)
            if "keyRestrictions" in obj else base.key_restrictions,
        )
        result.append(_with_metadata_rules(profile, obj, here, base.metadata_rules))
    if not any(p.id == current.default_passkey_profile for p in result):
        raise PolicyValidationError(f"{path}: the default passkey profile ({current.default_passkey_profile}, "
                                    f"{current.default_profile.name!r}) can't be deleted; keep it in the collection",
                                    target=path, code=POLICY_RULE)
    return tuple(result)


def _assign_ids(profiles: Sequence[PasskeyProfile], new_id: Callable[[], str]) -> tuple[PasskeyProfile, ...]:
    """Give new profiles (id "") their ids: last, so a refused body never consumes one."""
    taken = {p.id for p in profiles if p.id}
    assigned: list[PasskeyProfile] = []
    for profile in profiles:
        given = profile
        if not given.id:
            given = replace(profile, id=_new_profile_id(new_id, taken))
            taken.add(given.id)
        assigned.append(given)
    return tuple(assigned)


def _check_profile_references(current: Fido2Configuration, targets: Sequence[PasskeyTarget],
                              profiles: Sequence[PasskeyProfile], targets_from_body: bool) -> None:
    known = {p.id: p for p in profiles}
    for index, target in enumerate(targets):
        where = f"includeTargets[{index}].allowedPasskeyProfiles" if targets_from_body else "includeTargets"
        if not target.allowed_passkey_profiles:
            raise PolicyValidationError(f"{where}: Include conditions are missing passkey profile targets (target "
                                        f"{target.id!r} names no passkey profile)", target=where, code=POLICY_RULE)
        for position, profile_id in enumerate(target.allowed_passkey_profiles):
            if profile_id in known:
                continue
            deleted = current.profile(profile_id)
            if deleted is not None:
                raise PolicyValidationError(
                    f"passkeyProfiles: the passkey profile {deleted.name!r} ({profile_id}) can't be deleted while "
                    f"include target {target.id!r} uses it; remove it from the target first",
                    target="passkeyProfiles", code=POLICY_RULE)
            at = f"{where}[{position}]" if targets_from_body else where
            raise PolicyValidationError(f"{at}: there is no passkey profile {profile_id!r}", target=at,
                                        code=INVALID_PROPERTY)


# ---------------------------------------------------------------------------------------------- patches


def _read_only_id(body: Mapping[str, object], expected: str) -> None:
    if "id" in body:
        given = body["id"]
        if not isinstance(given, str) or given.casefold() != expected.casefold():
            raise PolicyValidationError(f"id: {_show(given)} can't be set; this configuration's id is {expected!r}",
                                        target="id", code=READ_ONLY_PROPERTY)


def _state(body: Mapping[str, object], current: MethodState) -> MethodState:
    return _enum(body["state"], "state", MethodState) if "state" in body else current


def _patch_fido2(current: Fido2Configuration, raw: Mapping[str, Any], new_id: Callable[[], str], *,
                 adopt_ids: bool = False) -> Fido2Configuration:
    body = _object(raw, "", "fido2AuthenticationMethodConfiguration", _FIDO2_KEYS, (current.ODATA_TYPE[1:],))
    _read_only_id(body, current.ID)
    if "defaultPasskeyProfile" in body:
        given = body["defaultPasskeyProfile"]
        if not isinstance(given, str) or given.lower() != current.default_passkey_profile:
            raise PolicyValidationError(f"defaultPasskeyProfile: {_show(given)} can't be set; the default passkey "
                                        f"profile is {current.default_passkey_profile}",
                                        target="defaultPasskeyProfile", code=READ_ONLY_PROPERTY)
    self_service = (_bool(body["isSelfServiceRegistrationAllowed"], "isSelfServiceRegistrationAllowed")
                    if "isSelfServiceRegistrationAllowed" in body else current.is_self_service_registration_allowed)
    # The deprecated mirror of the default profile: always checked, applied only without passkeyProfiles.
    default = current.default_profile
    legacy_default = default
    if "isAttestationEnforced" in body:
        enforced = _bool(body["isAttestationEnforced"], "isAttestationEnforced")
        legacy_default = replace(legacy_default, attestation_enforcement=AttestationEnforcement.REGISTRATION_ONLY
                                 if enforced else AttestationEnforcement.DISABLED)
    if "keyRestrictions" in body:
        legacy_default = replace(legacy_default, key_restrictions=_key_restrictions_from(
            body["keyRestrictions"], "keyRestrictions", default.key_restrictions))
    if "passkeyProfiles" in body:
        profiles = _profiles_from(body["passkeyProfiles"], current, adopt_ids=adopt_ids)
    else:
        profiles = tuple(legacy_default if p.id == default.id else p for p in current.passkey_profiles)
    targets_from_body = "includeTargets" in body
    include = (_passkey_targets_from(body["includeTargets"], "includeTargets", current.include_targets)
               if targets_from_body else current.include_targets)
    exclude = (_exclude_targets_from(body["excludeTargets"], "excludeTargets") if "excludeTargets" in body
               else current.exclude_targets)
    _check_profile_references(current, include, profiles, targets_from_body)
    state = _state(body, current.state)
    refuse_flagged = (_bool(body[REFUSE_FLAGGED], REFUSE_FLAGGED) if REFUSE_FLAGGED in body
                      else current.refuse_flagged_models_at_sign_in)
    return Fido2Configuration(state=state, is_self_service_registration_allowed=self_service,
                              include_targets=include, exclude_targets=exclude,
                              passkey_profiles=_assign_ids(profiles, new_id),
                              default_passkey_profile=current.default_passkey_profile,
                              refuse_flagged_models_at_sign_in=refuse_flagged)


def _patch_software_oath(current: SoftwareOathConfiguration, raw: Mapping[str, Any]) -> SoftwareOathConfiguration:
    body = _object(raw, "", "softwareOathAuthenticationMethodConfiguration", _SOFTWARE_OATH_KEYS,
                   (current.ODATA_TYPE[1:],))
    _read_only_id(body, current.ID)
    return SoftwareOathConfiguration(
        state=_state(body, current.state),
        include_targets=_method_targets_from(body["includeTargets"], "includeTargets", current.include_targets)
        if "includeTargets" in body else current.include_targets,
        exclude_targets=_exclude_targets_from(body["excludeTargets"], "excludeTargets")
        if "excludeTargets" in body else current.exclude_targets,
    )


def _patch_tap(current: TemporaryAccessPassConfiguration,
               raw: Mapping[str, Any]) -> TemporaryAccessPassConfiguration:
    body = _object(raw, "", "temporaryAccessPassAuthenticationMethodConfiguration", _TAP_KEYS,
                   (current.ODATA_TYPE[1:],))
    _read_only_id(body, current.ID)
    lifetimes = {"minimumLifetimeInMinutes": current.minimum_lifetime_in_minutes,
                 "defaultLifetimeInMinutes": current.default_lifetime_in_minutes,
                 "maximumLifetimeInMinutes": current.maximum_lifetime_in_minutes}
    for name in _TAP_LIFETIMES:
        if name in body:
            lifetimes[name] = _int(body[name], name, TAP_MIN_LIFETIME, TAP_MAX_LIFETIME)
    low, default, high = (lifetimes[name] for name in _TAP_LIFETIMES)
    if low > high:
        blame = "minimumLifetimeInMinutes" if "minimumLifetimeInMinutes" in body else "maximumLifetimeInMinutes"
        raise PolicyValidationError(f"{blame}: the minimum lifetime ({low}) is longer than the maximum ({high})",
                                    target=blame, code=INVALID_PROPERTY)
    if not low <= default <= high:
        raise PolicyValidationError(f"defaultLifetimeInMinutes: the default lifetime ({default}) must be between "
                                    f"the minimum ({low}) and the maximum ({high})",
                                    target="defaultLifetimeInMinutes", code=INVALID_PROPERTY)
    return TemporaryAccessPassConfiguration(
        state=_state(body, current.state),
        include_targets=_method_targets_from(body["includeTargets"], "includeTargets", current.include_targets)
        if "includeTargets" in body else current.include_targets,
        exclude_targets=_exclude_targets_from(body["excludeTargets"], "excludeTargets")
        if "excludeTargets" in body else current.exclude_targets,
        minimum_lifetime_in_minutes=low,
        default_lifetime_in_minutes=default,
        maximum_lifetime_in_minutes=high,
        default_length=_int(body["defaultLength"], "defaultLength", TAP_MIN_LENGTH, TAP_MAX_LENGTH)
        if "defaultLength" in body else current.default_length,
        is_usable_once=_bool(body["isUsableOnce"], "isUsableOnce") if "isUsableOnce" in body
        else current.is_usable_once,
    )


def _patch_policy(current: AuthenticationMethodsPolicy, raw: Mapping[str, Any]) -> AuthenticationMethodsPolicy:
    body = _object(raw, "", "authenticationMethodsPolicy", _POLICY_KEYS, _POLICY_TYPES)
    for name in body:
        if name in _POLICY_NOT_SUPPORTED:
            raise PolicyValidationError(
                f"{name}: Passgate doesn't support this setting. To send people to add a passkey after they sign "
                "in, set isRegistrationRequired on an include target of the Fido2 configuration"
                if name == "registrationEnforcement" else f"{name}: Passgate doesn't support this setting",
                target=name, code=NOT_SUPPORTED)
    now = _policy_to_graph(current)
    for name in _POLICY_READ_ONLY:
        if name in body and body[name] != now[name]:
            hint = ("; change a method with PATCH /policies/authenticationMethodsPolicy/"
                    "authenticationMethodConfigurations/{id}" if name == "authenticationMethodConfigurations" else "")
            raise PolicyValidationError(f"{name} is read-only{hint}", target=name, code=READ_ONLY_PROPERTY)
    return current


@overload
def apply_patch(current: AuthenticationMethodsPolicy, body: Mapping[str, Any], *,
                new_id: Callable[[], str]) -> AuthenticationMethodsPolicy: ...
@overload
def apply_patch(current: Fido2Configuration, body: Mapping[str, Any], *,
                new_id: Callable[[], str]) -> Fido2Configuration: ...
@overload
def apply_patch(current: SoftwareOathConfiguration, body: Mapping[str, Any], *,
                new_id: Callable[[], str]) -> SoftwareOathConfiguration: ...
@overload
def apply_patch(current: TemporaryAccessPassConfiguration, body: Mapping[str, Any], *,
                new_id: Callable[[], str]) -> TemporaryAccessPassConfiguration: ...
@overload
def apply_patch(current: MethodConfiguration, body: Mapping[str, Any], *,
                new_id: Callable[[], str]) -> MethodConfiguration: ...


def apply_patch(current: AuthenticationMethodsPolicy | MethodConfiguration, body: Mapping[str, Any], *,
                new_id: Callable[[], str]) -> AuthenticationMethodsPolicy | MethodConfiguration:
    """The value after a Graph PATCH with ``body``; ``new_id()`` gives each new passkey profile its GUID.

    Raises :class:`~passgate.core.policy.errors.PolicyValidationError` naming the offending property.
    An empty body answers ``current`` unchanged. ``new_id`` is called only for new passkey profiles, and
    only once the body has passed every check.
    """
    if isinstance(current, AuthenticationMethodsPolicy):
        return _patch_policy(current, body)
    if isinstance(current, Fido2Configuration):
        return _patch_fido2(current, body, new_id)
    if isinstance(current, SoftwareOathConfiguration):
        return _patch_software_oath(current, body)
    return _patch_tap(current, body)


# ---------------------------------------------------------------------------------------------- stored documents


def _no_new_ids() -> str:
    raise PolicyValidationError("A stored passkey profile has no id", target="passkeyProfiles", code=MISSING_PROPERTY)


def policy_from_document(document: Mapping[str, Any], *, last_modified: datetime | None = None,
                         policy_version: str | None = None) -> AuthenticationMethodsPolicy:
    """The policy a stored ``to_graph`` document describes (the inverse of ``to_graph(policy)``).

    Every check of a PATCH applies, except that passkey profile ids are taken as stored. A method the
    document leaves out keeps Passgate's default; read-only properties (``displayName``, ...) are not
    compared. ``policyVersion`` comes from ``policy_version``, else the document; the time of the last
    change from ``last_modified`` (the document's is informative only). Errors name their path from the
    document's root (``authenticationMethodConfigurations[0].state``).
    """
    if not isinstance(document, Mapping):
        raise PolicyValidationError("The stored policy document is not a JSON object", target="",
                                    code=INVALID_PROPERTY)
    stored_version = document.get("policyVersion")
    version = policy_version or (stored_version if isinstance(stored_version, str) else GRAPH_POLICY_VERSION)
    policy = default_policy(policy_version=version, last_modified_date_time=last_modified)
    where = "authenticationMethodConfigurations"
    for index, item in enumerate(_list(document.get(where, []), where)):
        here = f"{where}[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise PolicyValidationError(f"{here}.id: a method configuration needs its id", target=f"{here}.id",
                                        code=MISSING_PROPERTY)
        method_id: str = item["id"]
        try:
            current = method_configuration(policy, method_id)
            if isinstance(current, Fido2Configuration):
                changed: MethodConfiguration = _patch_fido2(current, item, _no_new_ids, adopt_ids=True)
            else:
                changed = apply_patch(current, item, new_id=_no_new_ids)
        except NotFound as exc:
            raise PolicyValidationError(f"{here}.id: {exc.message}", target=f"{here}.id",
                                        code=INVALID_PROPERTY) from None
        except PolicyValidationError as exc:
            target = f"{here}.{exc.target}" if exc.target else here
            raise PolicyValidationError(f"{here}: {exc.message}", target=target, code=exc.code) from None
        policy = with_method_configuration(policy, changed)
    return policy
