"""JSON Schemas of the authentication methods policy as :mod:`passgate.core.policy.graph` writes and reads it.

``schemas()`` gives every component the OpenAPI document publishes, built from the parser's own property sets,
enums and bounds; ``tests/core/test_policy_graph_schema.py`` checks that each schema names exactly the
properties the parser accepts.
"""

from __future__ import annotations

from typing import Final

from passgate.core.graph import jsonschema as js
from passgate.core.policy import graph as g
from passgate.core.policy._graph_profiles import _KEY_RESTRICTION_TYPES, _PROFILE_TYPES
from passgate.core.policy._graph_read import _EXCLUDE_TARGET_TYPES, _METHOD_TARGET_TYPES, _PASSKEY_TARGET_TYPES
from passgate.core.policy.model import (
    ALL_USERS,
    MAX_PASSKEY_PROFILES,
    MAX_PROFILE_NAME,
    PASSKEY_TYPE_NAMES,
    TAP_MAX_LENGTH,
    TAP_MAX_LIFETIME,
    TAP_MIN_LENGTH,
    TAP_MIN_LIFETIME,
    AttestationEnforcement,
    EnforcementType,
    Fido2Configuration,
    MethodState,
    SoftwareOathConfiguration,
    TargetType,
    TemporaryAccessPassConfiguration,
)

FIDO2: Final = "fido2AuthenticationMethodConfiguration"
SOFTWARE_OATH: Final = "softwareOathAuthenticationMethodConfiguration"
TAP: Final = "temporaryAccessPassAuthenticationMethodConfiguration"
CONFIGURATION: Final = "authenticationMethodConfiguration"
POLICY: Final = "authenticationMethodsPolicy"

_STATE = js.string(enum=[m.value for m in MethodState])
_TARGET_TYPE = js.string(enum=[TargetType.GROUP.value],
                         description="'group' (Passgate targets groups only: 'user' is refused, notSupported)")
_PASSKEY_TYPES = js.string(
    pattern="^ *({0}) *(, *({0}) *)*$".format("|".join(PASSKEY_TYPE_NAMES.values())),
    description="deviceBound, synced, or both comma-separated")
_LEVELS = [*g.CERTIFICATION_LEVEL_NAMES.values()]
_READ_ANNOTATIONS = {"@odata.context": js.STRING}  # a single GET answer carries it


def _target_id(*, all_users: bool) -> js.Schema:
    if not all_users:
        return js.guid("a group id")
    return {"anyOf": [js.string(pattern=js.any_case([ALL_USERS])), js.guid()],
            "description": "'all_users' or a group id"}


def _key_restrictions(*, read: bool) -> js.Schema:
    props = {"isEnforced": js.BOOLEAN, "enforcementType": js.string(enum=[e.value for e in EnforcementType]),
             "aaGuids": js.array(js.guid())}
    if read:
        return js.obj(props, required=props)
    return js.obj(props, odata_types=_KEY_RESTRICTION_TYPES, context_annotations=True)


def _metadata_rules(*, read: bool) -> js.Schema:
    props = {"minimumCertificationLevel": js.nullable(js.string(enum=_LEVELS)),
             "requireHardwareKeyProtection": js.BOOLEAN}
    if read:
        return js.obj(props, required=props, title="Passgate's rules from FIDO metadata (an instance annotation)")
    return js.nullable(js.obj(props, context_annotations=True,
                              description="null clears the rules; needs attestationEnforcement 'registrationOnly'"))


def _profile(*, read: bool) -> js.Schema:
    props = {"id": js.guid("Left out for a new profile: Passgate assigns it"),
             "name": js.string(min_length=1, max_length=MAX_PROFILE_NAME),
             "passkeyTypes": _PASSKEY_TYPES,
             "attestationEnforcement": js.string(enum=[a.value for a in AttestationEnforcement]),
             "keyRestrictions": _key_restrictions(read=read),
             g.METADATA_RULES: _metadata_rules(read=read)}
    if read:
        return js.obj(props, required=[p for p in props if p != g.METADATA_RULES])
    return js.obj(props, odata_types=_PROFILE_TYPES, context_annotations=True,
                  description="A new profile (no id) needs name and passkeyTypes; the default profile can't be "
                              "renamed or left out")


def _include_target(*, passkey: bool, read: bool) -> js.Schema:
    props = {"id": _target_id(all_users=True), "targetType": _TARGET_TYPE, "isRegistrationRequired": js.BOOLEAN}
    if passkey:
        props["allowedPasskeyProfiles"] = js.array(js.guid())
    if read:
        return js.obj(props, required=props)
    types = _PASSKEY_TARGET_TYPES if passkey else _METHOD_TARGET_TYPES
    return js.obj(props, required=["id"], odata_types=types, context_annotations=True)


def _exclude_target(*, read: bool) -> js.Schema:
    props = {"id": _target_id(all_users=False), "targetType": _TARGET_TYPE}
    if read:
        return js.obj(props, required=props)
    return js.obj(props, required=["id"], odata_types=_EXCLUDE_TARGET_TYPES, context_annotations=True)


def _targets(*, passkey: bool, read: bool) -> dict[str, js.Schema]:
    return {"includeTargets": js.array(_include_target(passkey=passkey, read=read)),
            "excludeTargets": js.array(_exclude_target(read=read))}


def _fido2(*, read: bool) -> js.Schema:
    config = Fido2Configuration
    props: dict[str, js.Schema] = {
        "id": js.string(enum=[config.ID]) if read else js.string(
            pattern=js.any_case([config.ID]), description="Read-only: only this configuration's own id"),
        "state": _STATE, "isSelfServiceRegistrationAllowed": js.BOOLEAN,
        "isAttestationEnforced": js.BOOLEAN, "keyRestrictions": _key_restrictions(read=read),
        "defaultPasskeyProfile": js.guid("Read-only: the default profile's id"),
        **_targets(passkey=True, read=read),
        "passkeyProfiles": js.array(_profile(read=read), max_items=MAX_PASSKEY_PROFILES),
        g.REFUSE_FLAGGED: js.BOOLEAN,
    }
    if read:
        return js.obj({**_READ_ANNOTATIONS, "@odata.type": js.string(enum=[config.ODATA_TYPE]), **props},
                      required=["@odata.type", *(p for p in props if p != g.REFUSE_FLAGGED)], title=FIDO2)
    return js.obj(props, odata_types=[config.ODATA_TYPE[1:]], context_annotations=True, title=f"{FIDO2} (update)",
                  description="Properties left out keep their values; a collection replaces the whole collection.")


def _software_oath(*, read: bool) -> js.Schema:
    config = SoftwareOathConfiguration
    props = {"id": js.string(enum=[config.ID]) if read else js.string(pattern=js.any_case([config.ID])),
             "state": _STATE, **_targets(passkey=False, read=read)}
    if read:
        return js.obj({**_READ_ANNOTATIONS, "@odata.type": js.string(enum=[config.ODATA_TYPE]), **props},
                      required=["@odata.type", *props], title=SOFTWARE_OATH)
    return js.obj(props, odata_types=[config.ODATA_TYPE[1:]], context_annotations=True,
                  title=f"{SOFTWARE_OATH} (update)")


def _tap(*, read: bool) -> js.Schema:
    config = TemporaryAccessPassConfiguration
    lifetime = js.integer(TAP_MIN_LIFETIME, TAP_MAX_LIFETIME)
    props = {"id": js.string(enum=[config.ID]) if read else js.string(pattern=js.any_case([config.ID])),
             "state": _STATE, "defaultLifetimeInMinutes": lifetime,
             "defaultLength": js.integer(TAP_MIN_LENGTH, TAP_MAX_LENGTH), "minimumLifetimeInMinutes": lifetime,
             "maximumLifetimeInMinutes": lifetime, "isUsableOnce": js.BOOLEAN, **_targets(passkey=False, read=read)}
    if read:
        return js.obj({**_READ_ANNOTATIONS, "@odata.type": js.string(enum=[config.ODATA_TYPE]), **props},
                      required=["@odata.type", *props], title=TAP)
    return js.obj(props, odata_types=[config.ODATA_TYPE[1:]], context_annotations=True, title=f"{TAP} (update)",
                  description="minimum <= default <= maximum lifetime")


def _policy(*, read: bool) -> js.Schema:
    props: dict[str, js.Schema] = {
        "id": js.STRING, "displayName": js.STRING, "description": js.STRING,
        "lastModifiedDateTime": js.nullable(js.DATETIME), "policyVersion": js.STRING,
        "policyMigrationState": js.string(enum=[g.POLICY_MIGRATION_STATE]),
        "authenticationMethodConfigurations": js.array(js.ref(CONFIGURATION)),
        **{name: {"const": value, "description": "Not implemented by Passgate: always this value."}
           for name, value in g.answered_empty().items()},
    }
    if read:
        return js.obj({**_READ_ANNOTATIONS, **props}, required=props, title=POLICY)
    return js.obj(props, odata_types=g._POLICY_TYPES, context_annotations=True, title=f"{POLICY} (update)",
                  description="Every property is read-only and accepted only as a GET answers it (Graph's "
                              "registrationEnforcement and reconfirmationInDays too: Passgate implements neither); "
                              "the beta-only settings are refused (notSupported).")


def schemas() -> dict[str, js.Schema]:
    """The components: read shapes, and ``….update`` for PATCH bodies."""
    out = {FIDO2: _fido2(read=True), SOFTWARE_OATH: _software_oath(read=True), TAP: _tap(read=True),
           f"{FIDO2}.update": _fido2(read=False), f"{SOFTWARE_OATH}.update": _software_oath(read=False),
           f"{TAP}.update": _tap(read=False),
           POLICY: _policy(read=True), f"{POLICY}.update": _policy(read=False)}
    kinds = (FIDO2, SOFTWARE_OATH, TAP)
    out[CONFIGURATION] = js.one_of(kinds, title=CONFIGURATION, description="Told apart by @odata.type.")
    out[f"{CONFIGURATION}.update"] = js.one_of([f"{k}.update" for k in kinds], title=f"{CONFIGURATION} (update)",
                                               description="The body of the configuration the path names.")
    return out
