"""Reading passkey profiles and key restrictions for :mod:`passgate.core.policy.graph`; include targets checked
against the profiles.

Where Graph's documentation is silent Passgate decides, as follows:

- ``passkeyProfiles`` in a body replaces the whole collection. A profile that keeps an existing id
  keeps, for each property it leaves out, its current value, while a new profile gets the defaults
  (``attestationEnforcement`` disabled, no key restrictions). A new passkey profile comes without an
  ``id`` and must have ``name`` and ``passkeyTypes``; its id comes from ``new_id()``, only once the body
  has passed every check (:func:`_assign_ids`). A profile ``id`` Passgate doesn't know is refused
  (rather than created under a caller-chosen id).
- ``passkeyTypes`` takes ``deviceBound``, ``synced`` or both, comma-separated, in either order.
- AAGUIDs are stored lower-case and repeated ones are dropped (Graph echoes duplicates back).
- An enforced ``allow`` key restriction with no AAGUIDs is refused: it would let no passkey in.
- Two profiles may not share a name (case-insensitively); a profile name is 1..64 printable
  characters.
- A profile with attestation ``registrationOnly`` may still allow ``synced`` passkeys (a live tenant
  returns exactly that); since synced passkeys can't be attested, such a profile admits them only at
  sign-in, never at registration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Final

from passgate.core.policy._graph_read import _bool, _dedupe, _enum, _guid, _invalid, _join, _list, _object
from passgate.core.policy._graph_write import _ODATA_TYPE, CERTIFICATION_LEVEL_NAMES, METADATA_RULES
from passgate.core.policy.errors import (
    INVALID_PROPERTY,
    MISSING_PROPERTY,
    POLICY_RULE,
    READ_ONLY_PROPERTY,
    PolicyValidationError,
)
from passgate.core.policy.model import (
    MAX_PASSKEY_PROFILES,
    MAX_PROFILE_NAME,
    NO_METADATA_RULES,
    PASSKEY_TYPE_NAMES,
    AttestationEnforcement,
    EnforcementType,
    Fido2Configuration,
    KeyRestrictions,
    MetadataRules,
    PasskeyProfile,
    PasskeyTarget,
    PasskeyType,
    is_guid,
)
from passgate.core.text import first_unusable

_PROFILE_TYPES: Final = ("microsoft.graph.passkeyProfile",)
_KEY_RESTRICTION_TYPES: Final = ("microsoft.graph.fido2KeyRestrictions",)
_PROFILE_KEYS: Final = frozenset({_ODATA_TYPE, "id", "name", "passkeyTypes", "attestationEnforcement",
                                  "keyRestrictions", METADATA_RULES})
_METADATA_RULE_KEYS: Final = frozenset({"minimumCertificationLevel", "requireHardwareKeyProtection"})
_KEY_RESTRICTION_KEYS: Final = frozenset({_ODATA_TYPE, "isEnforced", "enforcementType", "aaGuids"})


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

