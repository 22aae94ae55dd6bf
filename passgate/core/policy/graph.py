"""Microsoft Graph v1.0 JSON for the authentication methods policy: :func:`to_graph` and :func:`apply_patch`.

Import from this module. It keeps the lookups, the PATCHes and :func:`policy_from_document` (a stored
``to_graph`` document read back with a PATCH's checks), and re-exports what ``_graph_write`` defines: writing
Graph JSON from the policy model (:func:`to_graph`, :func:`passkey_types_to_graph`,
:func:`metadata_rules_to_graph`) and the names of Passgate's extensions. ``_graph_read`` reads the values, include
and exclude targets of a body, ``_graph_profiles`` its passkey profiles.

``apply_patch`` applies a PATCH body with Graph's semantics and answers the new value (the adapter
then answers ``204``). Where Graph's documentation is silent Passgate decides as follows; the rules for the
values a body holds are in the docstrings of ``_graph_read`` and ``_graph_profiles``.

- A property absent from the body keeps its value. A collection in the body (``includeTargets``,
  ``excludeTargets``, ``passkeyProfiles``) replaces the whole collection.
- ``id`` and ``defaultPasskeyProfile`` are read-only: accepted when they repeat the current value
  (``id`` case-insensitively), refused otherwise.
- The deprecated ``isAttestationEnforced`` (true = ``registrationOnly``) and ``keyRestrictions`` update
  the default profile, but only when the body has no ``passkeyProfiles``: if it has, the profiles are
  what counts and the legacy values (still type-checked) are ignored. Microsoft's own v1.0 update
  example sends ``isAttestationEnforced: true`` next to a default profile with attestation
  ``disabled``; a GET-modify-PATCH client resends stale legacy values the same way.
- The top-level ``PATCH /policies/authenticationMethodsPolicy`` accepts, in Graph v1.0, only
  ``registrationEnforcement``. Passgate doesn't implement registration campaigns (its registration
  prompt is ``isRegistrationRequired`` on Fido2 include targets), so ``registrationEnforcement`` (and
  ``reconfirmationInDays`` and the beta-only top-level settings) are refused with ``notSupported`` unless they
  repeat what a GET answers (``ANSWERED_EMPTY``); read-only properties and
  ``authenticationMethodConfigurations`` are accepted only when they repeat what a GET answers.

Every refusal is a :class:`~passgate.core.policy.errors.PolicyValidationError` whose ``target`` is the
JSON path of the offending property and whose message names it and the value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Final, overload

from passgate.core.errors import NotFound
from passgate.core.policy._graph_profiles import (
    _assign_ids,
    _check_profile_references,
    _key_restrictions_from,
    _profiles_from,
)
from passgate.core.policy._graph_read import (
    _bool,
    _enum,
    _exclude_targets_from,
    _int,
    _list,
    _method_targets_from,
    _object,
    _passkey_targets_from,
    _show,
)
from passgate.core.policy._graph_write import (
    _ODATA_TYPE,
    ANSWERED_EMPTY,
    CERTIFICATION_LEVEL_NAMES,
    METADATA_RULES,
    POLICY_DESCRIPTION,
    POLICY_DISPLAY_NAME,
    POLICY_MIGRATION_STATE,
    REFUSE_FLAGGED,
    _policy_to_graph,
    answered_empty,
    metadata_rules_to_graph,
    passkey_types_to_graph,
    to_graph,
)
from passgate.core.policy.errors import (
    INVALID_PROPERTY,
    MISSING_PROPERTY,
    NOT_SUPPORTED,
    READ_ONLY_PROPERTY,
    PolicyValidationError,
)
from passgate.core.policy.model import (
    GRAPH_POLICY_VERSION,
    TAP_MAX_LENGTH,
    TAP_MAX_LIFETIME,
    TAP_MIN_LENGTH,
    TAP_MIN_LIFETIME,
    AttestationEnforcement,
    AuthenticationMethodsPolicy,
    Fido2Configuration,
    MethodConfiguration,
    MethodState,
    SoftwareOathConfiguration,
    TemporaryAccessPassConfiguration,
    default_policy,
)

__all__ = [
    "ANSWERED_EMPTY",
    "CERTIFICATION_LEVEL_NAMES",
    "METADATA_RULES",
    "METHOD_IDS",
    "POLICY_DESCRIPTION",
    "POLICY_DISPLAY_NAME",
    "POLICY_MIGRATION_STATE",
    "REFUSE_FLAGGED",
    "answered_empty",
    "apply_method_patch",
    "apply_patch",
    "metadata_rules_to_graph",
    "method_configuration",
    "passkey_types_to_graph",
    "policy_from_document",
    "to_graph",
    "with_method_configuration",
]

METHOD_IDS: Final = (Fido2Configuration.ID, SoftwareOathConfiguration.ID, TemporaryAccessPassConfiguration.ID)

_POLICY_TYPES: Final = ("microsoft.graph.authenticationMethodsPolicy",)
_FIDO2_KEYS: Final = frozenset({_ODATA_TYPE, "id", "state", "isSelfServiceRegistrationAllowed", "isAttestationEnforced",
                                "keyRestrictions", "defaultPasskeyProfile", "includeTargets", "excludeTargets",
                                "passkeyProfiles", REFUSE_FLAGGED})
_SOFTWARE_OATH_KEYS: Final = frozenset({_ODATA_TYPE, "id", "state", "includeTargets", "excludeTargets"})
_TAP_LIFETIMES: Final = ("minimumLifetimeInMinutes", "defaultLifetimeInMinutes", "maximumLifetimeInMinutes")
_TAP_KEYS: Final = _SOFTWARE_OATH_KEYS | {*_TAP_LIFETIMES, "defaultLength", "isUsableOnce"}
_POLICY_READ_ONLY: Final = ("id", "displayName", "description", "lastModifiedDateTime", "policyVersion",
                            "policyMigrationState", "authenticationMethodConfigurations")
_POLICY_NOT_SUPPORTED: Final = frozenset({"registrationEnforcement", "reconfirmationInDays",
                                          "reportSuspiciousActivitySettings", "systemCredentialPreferences",
                                          "microsoftAuthenticatorPlatformSettings"})
_POLICY_KEYS: Final = frozenset({_ODATA_TYPE, *_POLICY_READ_ONLY, *_POLICY_NOT_SUPPORTED})


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
    now = _policy_to_graph(current)
    for name in body:
        if name in _POLICY_NOT_SUPPORTED and not (name in ANSWERED_EMPTY and body[name] == now[name]):
            raise PolicyValidationError(
                f"{name}: Passgate doesn't support this setting. To send people to add a passkey after they sign "
                "in, set isRegistrationRequired on an include target of the Fido2 configuration"
                if name == "registrationEnforcement" else f"{name}: Passgate doesn't support this setting",
                target=name, code=NOT_SUPPORTED)
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
