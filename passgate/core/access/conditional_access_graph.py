"""Conditional Access policies as Graph JSON: ``conditionalAccessPolicy`` read (POST, PATCH, the stored document)
and written (GET), with the rules of :mod:`passgate.core.access.conditional_access` on what Passgate supports.
The policy model and its evaluation are there; this module is the Graph edge of the core."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from passgate.core.access import _json as j
from passgate.core.access.conditional_access import (
    ADMIN_PORTALS,
    ALL,
    BLOCK,
    MAX_DISPLAY_NAME,
    MFA,
    NONE,
    OPERATORS,
    REGISTER_SECURITY_INFO,
    ConditionalAccessPolicy,
    GrantControls,
    PolicyState,
)
from passgate.core.access.strengths import (
    MULTIFACTOR_ID,
    AuthenticationStrength,
    find_strength,
    strength_to_graph,
)
from passgate.core.policy.errors import NOT_SUPPORTED, READ_ONLY_PROPERTY, PolicyValidationError

_READ_ONLY: Final = ("id", "createdDateTime", "modifiedDateTime", "templateId", "deletedDateTime")
_ALWAYS_NULL: Final = ("templateId", "deletedDateTime")
_POLICY_KEYS: Final = frozenset({*_READ_ONLY, "displayName", "description", "state", "conditions", "grantControls",
                                 "sessionControls", "partialEnablementStrategy"})
_POLICY_TYPES: Final = ("microsoft.graph.conditionalAccessPolicy",)
_NOT_SUPPORTED_TOP: Final = ("description", "sessionControls", "partialEnablementStrategy")
_CONDITIONS_NOT_SUPPORTED: Final = ("platforms", "locations", "signInRiskLevels", "userRiskLevels",
                                    "servicePrincipalRiskLevels", "insiderRiskLevels", "agentIdRiskLevels", "devices",
                                    "deviceStates", "clientApplications", "authenticationFlows", "times")
# Graph v1.0's conditions Passgate answers empty (the others in _CONDITIONS_NOT_SUPPORTED are beta's)
V1_CONDITIONS_EMPTY: Final = ("platforms", "locations", "signInRiskLevels", "userRiskLevels",
                              "servicePrincipalRiskLevels", "insiderRiskLevels", "devices", "clientApplications",
                              "authenticationFlows")
V1_RISK_LISTS: Final = ("signInRiskLevels", "userRiskLevels", "servicePrincipalRiskLevels")  # [] when empty
_CONDITIONS_KEYS: Final = frozenset({"users", "applications", "clientAppTypes", *_CONDITIONS_NOT_SUPPORTED})
_USER_LISTS: Final = ("includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles", "excludeRoles")
_USERS_NOT_SUPPORTED: Final = ("includeGuestsOrExternalUsers", "excludeGuestsOrExternalUsers")
_USERS_KEYS: Final = frozenset({*_USER_LISTS, *_USERS_NOT_SUPPORTED})
_APPLICATIONS_NOT_SUPPORTED: Final = ("includeAuthenticationContextClassReferences", "applicationFilter",
                                      "globalSecureAccess", "networkAccess")
_APPLICATIONS_KEYS: Final = frozenset({"includeApplications", "excludeApplications", "includeUserActions",
                                       *_APPLICATIONS_NOT_SUPPORTED})
_GRANT_NOT_SUPPORTED: Final = ("customAuthenticationFactors", "termsOfUse")
_GRANT_KEYS: Final = frozenset({"operator", "builtInControls", "authenticationStrength", *_GRANT_NOT_SUPPORTED})
# authenticationStrength is a relationship: a GET expands the whole strength; only its id counts.
_STRENGTH_REF_KEYS: Final = frozenset({"id", "createdDateTime", "modifiedDateTime", "displayName", "description",
                                       "policyType", "requirementsSatisfied", "allowedCombinations",
                                       "combinationConfigurations"})
_OTHER_BUILT_IN_CONTROLS: Final = ("compliantDevice", "domainJoinedDevice", "approvedApplication",
                                   "compliantApplication", "passwordChange", "riskRemediation")
_UNSUPPORTED_USER_ACTIONS: Final = ("urn:user:registerdevice",)
_GUID_EXAMPLE: Final = "90a3ccdf-635c-4729-a248-9b709135078f"


def _not_supported(path: str, message: str) -> PolicyValidationError:
    return PolicyValidationError(f"{path}: {message}", target=path, code=NOT_SUPPORTED)


def _refuse_unsupported(body: Mapping[str, object], path: str, names: Sequence[str]) -> None:
    for name in names:
        if name in body and not j.is_empty(body[name]):
            here = j.join(path, name)
            raise _not_supported(here, f"Passgate doesn't support this condition or control ({name}); leave it out "
                                       "or send null")


def _keyword(value: str, keywords: Sequence[str]) -> str | None:
    return next((k for k in keywords if k.casefold() == value.casefold()), None)


def _id_list(value: object, path: str, *, what: str, keywords: Sequence[str] = (),
             alone: Sequence[str] = (), refused: Mapping[str, str] | None = None,
             not_supported: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """A list of GUIDs and keywords: GUIDs lower-cased, keywords as Graph spells them."""
    items = [] if value is None else j.string_list(value, path)
    result: list[str] = []
    for index, item in enumerate(items):
        here = j.join(path, index)
        keyword = _keyword(item, keywords)
        if keyword is not None:
            result.append(keyword)
            continue
        for table, error in ((not_supported or {}, _not_supported), (refused or {}, j.rule)):
            for name, message in table.items():
                if name.casefold() == item.casefold():
                    raise error(here, message)
        result.append(j.guid(item, here, what))
    j.unique(result, path, "The entry")
    for keyword in alone:
        if keyword in result and len(result) > 1:
            raise j.rule(path, f"{keyword!r} must be the only entry of the list")
    return tuple(result)


@dataclass(frozen=True, slots=True)
class _Users:
    include_users: tuple[str, ...]
    exclude_users: tuple[str, ...]
    include_groups: tuple[str, ...]
    exclude_groups: tuple[str, ...]
    include_roles: tuple[str, ...]
    exclude_roles: tuple[str, ...]


def _users_from(value: object, path: str) -> _Users:
    if value is None:
        raise j.missing(path, "a policy needs conditions.users naming who it covers (includeUsers, includeGroups or "
                              "includeRoles)")
    body = j.obj(value, path, "conditionalAccessUsers", _USERS_KEYS)
    _refuse_unsupported(body, path, _USERS_NOT_SUPPORTED)
    guests = {"GuestsOrExternalUsers": "Passgate has no guest or external users"}
    cant_exclude = {ALL: "'All' can't be excluded; to switch a policy off, set its state to 'disabled'",
                    NONE: "'None' can't be excluded; leave the list empty"}
    users = _Users(
        include_users=_id_list(body.get("includeUsers"), j.join(path, "includeUsers"), what="a user id",
                               keywords=(ALL, NONE), alone=(ALL, NONE), not_supported=guests),
        exclude_users=_id_list(body.get("excludeUsers"), j.join(path, "excludeUsers"), what="a user id",
                               refused=cant_exclude, not_supported=guests),
        include_groups=_id_list(body.get("includeGroups"), j.join(path, "includeGroups"), what="a group id"),
        exclude_groups=_id_list(body.get("excludeGroups"), j.join(path, "excludeGroups"), what="a group id"),
        include_roles=_id_list(body.get("includeRoles"), j.join(path, "includeRoles"),
                               what="a directory role template id"),
        exclude_roles=_id_list(body.get("excludeRoles"), j.join(path, "excludeRoles"),
                               what="a directory role template id"),
    )
    if not (users.include_users or users.include_groups or users.include_roles):
        raise j.rule(path, "a policy must include someone: give includeUsers, includeGroups or includeRoles")
    return users


def _applications_from(value: object, path: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    if value is None:
        raise j.missing(path, "a policy needs conditions.applications naming the applications (includeApplications) "
                              "or the user action (includeUserActions) it covers")
    body = j.obj(value, path, "conditionalAccessApplications", _APPLICATIONS_KEYS)
    _refuse_unsupported(body, path, _APPLICATIONS_NOT_SUPPORTED)
    office = {"Office365": "Passgate has no Office 365 applications; name the application's client id"}
    include = _id_list(body.get("includeApplications"), j.join(path, "includeApplications"),
                       what="an application id (client id)", keywords=(ALL, NONE, ADMIN_PORTALS), alone=(ALL, NONE),
                       not_supported=office)
    exclude = _id_list(body.get("excludeApplications"), j.join(path, "excludeApplications"),
                       what="an application id (client id)", keywords=(ADMIN_PORTALS,), not_supported=office,
                       refused={ALL: "'All' can't be excluded; to switch a policy off, set its state to 'disabled'",
                                NONE: "'None' can't be excluded; leave the list empty"})
    actions_path = j.join(path, "includeUserActions")
    raw_actions = body.get("includeUserActions")
    actions: list[str] = []
    for index, item in enumerate([] if raw_actions is None else j.string_list(raw_actions, actions_path)):
        here = j.join(actions_path, index)
        if item.lower() == REGISTER_SECURITY_INFO:
            actions.append(REGISTER_SECURITY_INFO)
        elif item.lower() in _UNSUPPORTED_USER_ACTIONS:
            raise _not_supported(here, f"Passgate doesn't support the user action {item!r}; it supports "
                                       f"{REGISTER_SECURITY_INFO!r} only")
        else:
            raise j.invalid(here, item, f"the user action Passgate supports is {REGISTER_SECURITY_INFO!r}")
    j.unique(actions, actions_path, "The user action")
    if include and actions:
        raise j.rule(actions_path, "a policy covers applications (includeApplications) or a user action "
                                   "(includeUserActions), not both; send the other one as []")
    if not include and not actions:
        raise j.rule(path, "a policy needs includeApplications (applications, 'All' or 'None') or includeUserActions "
                           f"([{REGISTER_SECURITY_INFO!r}])")
    if actions and exclude:
        raise j.rule(j.join(path, "excludeApplications"), "a policy that covers a user action excludes no "
                                                          "applications; send excludeApplications as []")
    return include, exclude, tuple(actions)


def _client_app_types(body: Mapping[str, object], path: str) -> None:
    value = body.get("clientAppTypes")
    if value is None or value == ["all"]:
        return
    here = j.join(path, "clientAppTypes")
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        raise _not_supported(here, "Passgate applies every policy to all client apps; clientAppTypes can only be "
                                   "[\"all\"]")
    raise j.invalid(here, value, "expected [\"all\"]")


def _strength_ref(value: object, path: str,
                  strengths: Mapping[str, AuthenticationStrength] | None) -> AuthenticationStrength | str | None:
    """The referenced strength, or its id when ``strengths`` is None (reading a stored document)."""
    if value is None:
        return None
    body = j.obj(value, path, "authenticationStrengthPolicy", _STRENGTH_REF_KEYS,
                 ("microsoft.graph.authenticationStrengthPolicy",))
    here = j.join(path, "id")
    if "id" not in body:
        raise j.missing(here, "an authenticationStrength needs the strength's id")
    strength_id = body["id"]
    if not isinstance(strength_id, str) or not strength_id:
        raise j.invalid(here, strength_id, f"expected an authentication strength's id, such as '{MULTIFACTOR_ID}'")
    found = find_strength(strength_id, strengths or {})
    if found is not None:
        return found
    if strengths is None:
        return strength_id.lower()
    raise j.invalid(here, strength_id, "there is no authentication strength with this id")


def _built_in_controls(value: object, path: str) -> list[str]:
    controls: list[str] = []
    for index, item in enumerate([] if value is None else j.string_list(value, path)):
        here = j.join(path, index)
        if item in (BLOCK, MFA):
            controls.append(item)
        elif item in _OTHER_BUILT_IN_CONTROLS:
            raise _not_supported(here, f"Passgate doesn't support the grant control {item!r}; it supports 'block', "
                                       "'mfa' and authenticationStrength")
        else:
            raise j.invalid(here, item, "expected 'block' or 'mfa'")
    j.unique(controls, path, "The control")
    return controls


def _grant_from(value: object, path: str, strengths: Mapping[str, AuthenticationStrength] | None) -> GrantControls:
    if value is None:
        raise j.missing(path, "Passgate needs grantControls: 'block', 'mfa' or an authenticationStrength (it has no "
                              "session controls)")
    body = j.obj(value, path, "conditionalAccessGrantControls", _GRANT_KEYS)
    _refuse_unsupported(body, path, _GRANT_NOT_SUPPORTED)
    operator_path = j.join(path, "operator")
    if "operator" not in body:
        raise j.missing(operator_path, "grantControls needs an operator, 'AND' or 'OR'")
    operator = body["operator"]
    if not isinstance(operator, str) or operator not in OPERATORS:
        raise j.invalid(operator_path, operator, "expected 'AND' or 'OR'")
    controls_path = j.join(path, "builtInControls")
    controls = _built_in_controls(body.get("builtInControls"), controls_path)
    strength_path = j.join(path, "authenticationStrength")
    strength = _strength_ref(body.get("authenticationStrength"), strength_path, strengths)
    if BLOCK in controls and len(controls) > 1:
        raise j.rule(controls_path, "'block' can't be combined with other controls")
    if BLOCK in controls and strength is not None:
        raise j.rule(strength_path, "'block' can't be combined with an authentication strength")
    if MFA in controls and strength is not None:
        raise j.rule(strength_path, "'mfa' and authenticationStrength can't both be required; 'mfa' is the built-in "
                                    "Multifactor authentication strength, so keep one of them")
    if not controls and strength is None:
        raise j.rule(path, "a policy needs a grant control: 'block', 'mfa' or an authenticationStrength")
    if isinstance(strength, AuthenticationStrength):
        strength_id: str | None = strength.id
        name: str | None = strength.display_name
    else:
        strength_id = strength
        given = value.get("authenticationStrength") if isinstance(value, Mapping) else None
        stored = given.get("displayName") if isinstance(given, Mapping) else None
        name = stored if isinstance(stored, str) else None
    return GrantControls(operator=operator, built_in_controls=tuple(controls), authentication_strength_id=strength_id,
                         authentication_strength_name=name)


def _state_from(value: object, path: str) -> PolicyState:
    for member in PolicyState:
        if value == member.value:
            return member
    raise j.invalid(path, value, "expected 'enabled', 'disabled' or 'enabledForReportingButNotEnforced'")


def _policy_from(body: Mapping[str, object], *, policy_id: str, created: datetime | None, modified: datetime | None,
                 strengths: Mapping[str, AuthenticationStrength] | None) -> ConditionalAccessPolicy:
    """A policy from a checked body that holds every writable property it has."""
    for name in _NOT_SUPPORTED_TOP:
        if name in body and not j.is_empty(body[name]):
            raise _not_supported(name, "Passgate doesn't support this property; leave it out or send null")
    if "displayName" not in body:
        raise j.missing("displayName", "a Conditional Access policy needs a displayName")
    name = j.display_name(body["displayName"], "displayName", MAX_DISPLAY_NAME)
    if "state" not in body:
        raise j.missing("state", "a Conditional Access policy needs a state: 'enabled', 'disabled' or "
                                 "'enabledForReportingButNotEnforced'")
    state = _state_from(body["state"], "state")
    if body.get("conditions") is None:
        raise j.missing("conditions", "a Conditional Access policy needs conditions (users and applications)")
    conditions = j.obj(body["conditions"], "conditions", "conditionalAccessConditionSet", _CONDITIONS_KEYS)
    _refuse_unsupported(conditions, "conditions", _CONDITIONS_NOT_SUPPORTED)
    _client_app_types(conditions, "conditions")
    users = _users_from(conditions.get("users"), "conditions.users")
    include_apps, exclude_apps, actions = _applications_from(conditions.get("applications"), "conditions.applications")
    grant = _grant_from(body.get("grantControls"), "grantControls", strengths)
    return ConditionalAccessPolicy(
        id=policy_id, display_name=name, state=state,
        include_users=users.include_users, exclude_users=users.exclude_users,
        include_groups=users.include_groups, exclude_groups=users.exclude_groups,
        include_roles=users.include_roles, exclude_roles=users.exclude_roles,
        include_applications=include_apps, exclude_applications=exclude_apps, include_user_actions=actions,
        grant_controls=grant, created=created, modified=modified)


def _now(now: datetime) -> datetime:
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now


def ca_policy_from_graph(doc: object, *, id: str, now: datetime,
                         strengths: Mapping[str, AuthenticationStrength]) -> ConditionalAccessPolicy:
    """``POST /identity/conditionalAccess/policies``: a new policy with the id ``id``, created ``now``.

    ``strengths`` holds the custom strengths a policy may name (built-ins always may). Raises
    :class:`~passgate.core.policy.errors.PolicyValidationError` naming the offending property.
    """
    _now(now)
    body = j.obj(doc, "", "conditionalAccessPolicy", _POLICY_KEYS, _POLICY_TYPES)
    j.read_only(body, "id", id, patch=False, hint="; Passgate assigns a new policy's id")
    j.read_only(body, "createdDateTime", now, patch=False)
    j.read_only(body, "modifiedDateTime", now, patch=False)
    j.read_only(body, "templateId", None, patch=False)
    j.read_only(body, "deletedDateTime", None, patch=False)
    return _policy_from(body, policy_id=id, created=now, modified=now, strengths=strengths)


def ca_policy_apply_patch(policy: ConditionalAccessPolicy, patch: object, *, now: datetime,
                          strengths: Mapping[str, AuthenticationStrength]) -> ConditionalAccessPolicy:
    """``PATCH /identity/conditionalAccess/policies/{id}``: the policy after the change, modified ``now``.

    Objects merge into objects (``{"conditions": {"users": {"excludeGroups": [...]}}}`` changes only that list),
    arrays and other values replace; the result must pass every check of a new policy.
    """
    _now(now)
    body = j.obj(patch, "", "conditionalAccessPolicy", _POLICY_KEYS, _POLICY_TYPES)
    for name in _READ_ONLY:
        if not (name in _ALWAYS_NULL and body.get(name, 0) is None):  # a GET body's nulls may come back
            j.read_only(body, name, None, patch=True)
    merged = j.merge(_writable(policy), body)
    return _policy_from(merged, policy_id=policy.id, created=policy.created, modified=now, strengths=strengths)


def _grant_to_graph(grant: GrantControls | None,
                    strengths: Mapping[str, AuthenticationStrength] | None) -> j.JsonObject | None:
    if grant is None:
        return None
    strength: j.JsonObject | None = None
    if grant.authentication_strength_id is not None:
        found = find_strength(grant.authentication_strength_id, strengths or {})
        name = found.display_name if found is not None else grant.authentication_strength_name
        # the relationship expanded, as Graph answers it; a strength the caller did not pass keeps its id and name
        strength = strength_to_graph(found) if found is not None else {
            "id": grant.authentication_strength_id, "displayName": name}
    return {"operator": grant.operator, "builtInControls": list(grant.built_in_controls),
            "customAuthenticationFactors": [], "termsOfUse": [], "authenticationStrength": strength}


def ca_policy_to_graph(policy: ConditionalAccessPolicy, *,
                       strengths: Mapping[str, AuthenticationStrength] | None = None) -> dict[str, Any]:
    """What ``GET /identity/conditionalAccess/policies/{id}`` answers (the adapter adds ``@odata.context``).

    ``grantControls.authenticationStrength`` is the whole strength (a built-in, or one of ``strengths``: a renamed
    strength shows its new name); a custom strength not in ``strengths`` keeps the id and name the policy last saw.
    Conditions and properties Passgate does not implement are Graph's empty values (null or []).
    """
    return {
        "id": policy.id,
        "displayName": policy.display_name,
        "description": None, "templateId": None, "deletedDateTime": None,
        "createdDateTime": j.graph_datetime(policy.created),
        "modifiedDateTime": j.graph_datetime(policy.modified),
        "state": policy.state.value,
        "conditions": {
            "users": {"includeUsers": list(policy.include_users), "excludeUsers": list(policy.exclude_users),
                      "includeGroups": list(policy.include_groups), "excludeGroups": list(policy.exclude_groups),
                      "includeRoles": list(policy.include_roles), "excludeRoles": list(policy.exclude_roles),
                      **dict.fromkeys(_USERS_NOT_SUPPORTED)},
            "applications": {"includeApplications": list(policy.include_applications),
                             "excludeApplications": list(policy.exclude_applications),
                             "includeUserActions": list(policy.include_user_actions),
                             "includeAuthenticationContextClassReferences": [], "applicationFilter": None},
            "clientAppTypes": ["all"],
            **{name: [] if name in V1_RISK_LISTS else None for name in V1_CONDITIONS_EMPTY},
        },
        "grantControls": _grant_to_graph(policy.grant_controls, strengths),
        "sessionControls": None,
    }


def _writable(policy: ConditionalAccessPolicy) -> j.JsonObject:
    document = ca_policy_to_graph(policy)
    return {key: value for key, value in document.items() if key not in _READ_ONLY}


def ca_policy_from_document(doc: object, *,
                            strengths: Mapping[str, AuthenticationStrength] | None = None) -> ConditionalAccessPolicy:
    """The policy a stored :func:`ca_policy_to_graph` document describes (id and dates as stored).

    Every check of a POST applies; with ``strengths`` None a named custom strength is taken on trust (its id
    and the display name stored with it), so a stored policy always loads.
    """
    body = j.obj(doc, "", "conditionalAccessPolicy", _POLICY_KEYS, _POLICY_TYPES)
    policy_id = body.get("id")
    if not isinstance(policy_id, str) or not policy_id:
        raise j.missing("id", "a stored Conditional Access policy needs its id")
    if not j.is_empty(body.get("templateId")):
        raise PolicyValidationError("templateId is read-only", target="templateId", code=READ_ONLY_PROPERTY)
    return _policy_from(body, policy_id=policy_id,
                        created=j.parse_datetime(body.get("createdDateTime"), "createdDateTime"),
                        modified=j.parse_datetime(body.get("modifiedDateTime"), "modifiedDateTime"),
                        strengths=strengths)
