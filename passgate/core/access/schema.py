"""JSON Schemas of authentication strengths and Conditional Access policies, as the parsers of
:mod:`~passgate.core.access.strengths` and :mod:`~passgate.core.access.conditional_access` read and write them.

Built from the parsers' own property sets and keywords; ``tests/core/test_access_schema.py`` checks that each
schema names exactly the properties its parser accepts. Where the parser takes a read-only property on POST only
when it repeats what Passgate sets, the schema takes the value's type (or null) and says so.
"""

from __future__ import annotations

from typing import Final

from passgate.core.access import conditional_access as ca
from passgate.core.access import conditional_access_graph as ca_graph
from passgate.core.access import strengths as st
from passgate.core.access.methods import PASSGATE_MODES, AuthMethodMode
from passgate.core.graph import jsonschema as js

STRENGTH: Final = "authenticationStrengthPolicy"
CA_POLICY: Final = "conditionalAccessPolicy"
USAGE: Final = "authenticationStrengthUsage"
CONFIGURATION: Final = "authenticationCombinationConfiguration"
UPDATE_COMBINATIONS: Final = "updateAllowedCombinations"
UPDATE_COMBINATIONS_RESULT: Final = "updateAllowedCombinationsResult"
_READ_ONLY = "Read-only: accepted on POST only when null or what Passgate sets; refused on PATCH."
_NOT_SUPPORTED = "Not supported by Passgate: accepted only when empty (null, \"\", [] or an object of empty values)."
_MODES = [m.value for m in AuthMethodMode if m in PASSGATE_MODES]
_COMBINATION = js.string(pattern="^ *({0}) *(, *({0}) *)*$".format("|".join(_MODES)),
                         description="Authentication method modes Passgate implements, comma-separated")
_NULL: Final = js.Schema({"type": "null", "description": "Not implemented by Passgate: always null."})
_EMPTY = js.Schema({"$ref": js.EMPTY_REF, "description": _NOT_SUPPORTED})


# ---------------------------------------------------------------------------------------------- strengths

def _combination_configuration(*, read: bool) -> js.Schema:
    props = {"id": js.STRING if read else js.string(description="Read-only: Passgate derives it from the "
                                                                "strength's id"),
             "appliesToCombinations": js.array(js.string(enum=[st.FIDO2_COMBINATION]), min_items=1, max_items=1),
             "allowedAAGUIDs": js.array(js.guid(), min_items=1, unique=True)}
    if read:
        return js.obj({"@odata.type": js.string(enum=[st.Fido2CombinationConfiguration.ODATA_TYPE]), **props},
                      required=["@odata.type", *props])
    return js.obj(props, required=["appliesToCombinations", "allowedAAGUIDs"], odata_types=st._CONFIG_TYPES,
                  context_annotations=True)


def _strength(mode: str) -> js.Schema:
    read = mode == "read"
    writable: dict[str, js.Schema] = {
        "displayName": js.string(min_length=1, max_length=st.MAX_DISPLAY_NAME),
        "description": js.STRING if read else js.nullable(js.STRING),
        "allowedCombinations": js.array(js.STRING if read else _COMBINATION, min_items=1, unique=not read),
        "combinationConfigurations": js.array(_combination_configuration(read=read), max_items=1)
        if read else js.nullable(js.array(_combination_configuration(read=False), max_items=1)),
    }
    read_only: dict[str, js.Schema] = {
        "id": js.STRING, "policyType": js.string(enum=[st.BUILT_IN, st.CUSTOM]),
        "requirementsSatisfied": js.string(enum=[st.REQUIREMENT_MFA, st.REQUIREMENT_NONE]),
        "createdDateTime": js.nullable(js.DATETIME), "modifiedDateTime": js.nullable(js.DATETIME)}
    if read:
        return js.obj({"@odata.context": js.STRING, **read_only, **writable},
                      required=[*read_only, *writable], title=STRENGTH)
    if mode == "update":
        return js.obj(writable, odata_types=st._STRENGTH_TYPES, context_annotations=True, title=f"{STRENGTH} (update)",
                      description="Custom strengths only; combinationConfigurations replaces the collection.")
    on_post = {"id": js.nullable(js.STRING), "policyType": js.nullable(js.string(pattern=js.any_case([st.CUSTOM]))),
               "requirementsSatisfied": js.nullable(js.string(
                   pattern=js.any_case([st.REQUIREMENT_MFA, st.REQUIREMENT_NONE]))),
               "createdDateTime": js.nullable(js.DATETIME), "modifiedDateTime": js.nullable(js.DATETIME)}
    on_post = {name: {**schema, "description": _READ_ONLY} for name, schema in on_post.items()}
    return js.obj({**writable, **on_post}, required=["displayName", "allowedCombinations"],
                  odata_types=st._STRENGTH_TYPES, context_annotations=True, title=f"{STRENGTH} (create)")


# ---------------------------------------------------------------------------------------------- Conditional Access

def _ids(*keywords: str, what: str = "a GUID") -> js.Schema:
    item = js.guid() if not keywords else {"anyOf": [js.guid(), js.string(pattern=js.any_case(keywords))]}
    return js.nullable(js.array(item, unique=True, description=f"{what}" + (
        f", or {', '.join(keywords)} (alone in the list: All, None)" if keywords else "")))


def _users(*, read: bool, create: bool) -> js.Schema:
    if read:
        users = {**{name: js.array(js.STRING) for name in ca_graph._USER_LISTS},
                 **{name: _NULL for name in ca_graph._USERS_NOT_SUPPORTED}}
        return js.obj(users, required=list(users))
    props = {"includeUsers": _ids(ca.ALL, ca.NONE, what="user ids"), "excludeUsers": _ids(what="user ids"),
             "includeGroups": _ids(what="group ids"), "excludeGroups": _ids(what="group ids"),
             "includeRoles": _ids(what="directory role template ids"),
             "excludeRoles": _ids(what="directory role template ids"),
             **{name: _EMPTY for name in ca_graph._USERS_NOT_SUPPORTED}}
    return js.obj(props, context_annotations=True,
                  description="At least one of includeUsers, includeGroups, includeRoles" if create else "")


def _applications(*, read: bool) -> js.Schema:
    lists = ("includeApplications", "excludeApplications", "includeUserActions")
    if read:
        apps = {**{name: js.array(js.STRING) for name in lists},
                "includeAuthenticationContextClassReferences": js.array(js.STRING, max_items=0),
                "applicationFilter": _NULL}
        return js.obj(apps, required=list(apps))
    actions = js.nullable(js.array(js.string(pattern=js.any_case([ca.REGISTER_SECURITY_INFO])), unique=True))
    props = {"includeApplications": _ids(ca.ALL, ca.NONE, ca.ADMIN_PORTALS, what="application (client) ids"),
             "excludeApplications": _ids(ca.ADMIN_PORTALS, what="application (client) ids"),
             "includeUserActions": actions, **{name: _EMPTY for name in ca_graph._APPLICATIONS_NOT_SUPPORTED}}
    return js.obj(props, context_annotations=True,
                  description="includeApplications or includeUserActions, not both")


def _conditions(*, read: bool, create: bool) -> js.Schema:
    client_apps = {"anyOf": [{"type": "null"}, {"const": ["all"]}]}
    if read:
        conditions = {"users": _users(read=True, create=False), "applications": _applications(read=True),
                      "clientAppTypes": js.array(js.string(enum=["all"])),
                      **{name: js.array(js.STRING, max_items=0) if name in ca_graph.V1_RISK_LISTS else _NULL
                         for name in ca_graph.V1_CONDITIONS_EMPTY}}
        return js.obj(conditions, required=list(conditions))
    props = {"users": _users(read=False, create=create), "applications": _applications(read=False),
             "clientAppTypes": client_apps, **{name: _EMPTY for name in ca_graph._CONDITIONS_NOT_SUPPORTED}}
    return js.obj(props, required=["users", "applications"] if create else (), context_annotations=True)


def _grant(*, read: bool, create: bool) -> js.Schema:
    if read:
        whole = _strength("read")
        whole = {**whole, "properties": {k: v for k, v in whole["properties"].items() if k != "@odata.context"},
                 "description": "The strength (a custom one Passgate no longer has: its id and last name only)."}
        strength = {"anyOf": [whole, js.obj({"id": js.STRING, "displayName": js.nullable(js.STRING)},
                                            required=["id", "displayName"])]}
        return js.obj({"operator": js.string(enum=list(ca.OPERATORS)),
                       "builtInControls": js.array(js.string(enum=[ca.BLOCK, ca.MFA])),
                       "customAuthenticationFactors": js.array(js.STRING, max_items=0),
                       "termsOfUse": js.array(js.STRING, max_items=0), "authenticationStrength": js.nullable(strength)},
                      required=["operator", "builtInControls", "customAuthenticationFactors", "termsOfUse",
                                "authenticationStrength"])
    reference = {name: js.ANY for name in ca_graph._STRENGTH_REF_KEYS}
    reference["id"] = js.string(min_length=1, description="A built-in or custom strength's id")
    strength = js.obj(reference, required=["id"], odata_types=["microsoft.graph.authenticationStrengthPolicy"],
                      context_annotations=True, description="Only the id counts (a GET answers the whole strength).")
    props = {"operator": js.string(enum=list(ca.OPERATORS)),
             "builtInControls": js.nullable(js.array(js.string(enum=[ca.BLOCK, ca.MFA]), unique=True)),
             "authenticationStrength": js.nullable(strength),
             **{name: _EMPTY for name in ca_graph._GRANT_NOT_SUPPORTED}}
    return js.obj(props, required=["operator"] if create else (), context_annotations=True,
                  description="'block' alone, or 'mfa' or an authenticationStrength")


def _ca_policy(mode: str) -> js.Schema:
    read, create = mode == "read", mode == "create"
    state = js.string(enum=[s.value for s in ca.PolicyState])
    if read:
        return js.obj({"@odata.context": js.STRING, "id": js.STRING, "displayName": js.STRING,
                       "description": _NULL, "templateId": _NULL, "deletedDateTime": _NULL,
                       "createdDateTime": js.nullable(js.DATETIME), "modifiedDateTime": js.nullable(js.DATETIME),
                       "state": state, "conditions": _conditions(read=True, create=False),
                       "grantControls": js.nullable(_grant(read=True, create=False)),
                       "sessionControls": _NULL},
                      required=["id", "displayName", "description", "templateId", "deletedDateTime",
                                "createdDateTime", "modifiedDateTime", "state", "conditions", "grantControls",
                                "sessionControls"], title=CA_POLICY)
    props: dict[str, js.Schema] = {
        "displayName": js.string(min_length=1, max_length=ca.MAX_DISPLAY_NAME), "state": state,
        "conditions": _conditions(read=False, create=create), "grantControls": _grant(read=False, create=create),
        **{name: _EMPTY for name in ca_graph._NOT_SUPPORTED_TOP}}
    if create:
        on_post = {"id": js.nullable(js.STRING), "createdDateTime": js.nullable(js.DATETIME),
                   "modifiedDateTime": js.nullable(js.DATETIME), "templateId": _NULL, "deletedDateTime": _NULL}
        props.update({name: {**schema, "description": _READ_ONLY} for name, schema in on_post.items()})
        return js.obj(props, required=["displayName", "state", "conditions", "grantControls"],
                      odata_types=ca_graph._POLICY_TYPES, context_annotations=True, title=f"{CA_POLICY} (create)")
    props.update({name: {**_NULL, "description": "Read-only: accepted on PATCH only as null."}
                  for name in ca_graph._ALWAYS_NULL})
    return js.obj(props, odata_types=ca_graph._POLICY_TYPES, context_annotations=True, title=f"{CA_POLICY} (update)",
                  description="Objects merge into objects, arrays replace; the result must be a valid policy.")


def schemas() -> dict[str, js.Schema]:
    usage = js.array(js.ref(CA_POLICY))
    return {
        STRENGTH: _strength("read"), f"{STRENGTH}.create": _strength("create"),
        f"{STRENGTH}.update": _strength("update"),
        CA_POLICY: _ca_policy("read"), f"{CA_POLICY}.create": _ca_policy("create"),
        f"{CA_POLICY}.update": _ca_policy("update"),
        USAGE: js.obj({"@odata.context": js.STRING, "mfa": usage, "none": usage}, required=["mfa", "none"],
                      title=USAGE),
        CONFIGURATION: js.obj({"@odata.context": js.STRING,
                               **_combination_configuration(read=True)["properties"]},
                              required=["@odata.type", "id", "appliesToCombinations", "allowedAAGUIDs"],
                              title=CONFIGURATION),
        f"{CONFIGURATION}.create": _combination_configuration(read=False),
        f"{CONFIGURATION}.update": js.obj({"appliesToCombinations": js.array(js.string(enum=[st.FIDO2_COMBINATION]),
                                                                             min_items=1, max_items=1),
                                           "allowedAAGUIDs": js.array(js.guid(), min_items=1, unique=True)},
                                          odata_types=st._CONFIG_TYPES, context_annotations=True),
        f"{CONFIGURATION}.collection": js.obj({"@odata.context": js.STRING,
                                               "value": js.array(_combination_configuration(read=True))},
                                              required=["@odata.context", "value"]),
        UPDATE_COMBINATIONS: js.obj({"allowedCombinations": js.array(_COMBINATION, min_items=1, unique=True)},
                                    required=["allowedCombinations"]),
        UPDATE_COMBINATIONS_RESULT: js.obj({
            "@odata.context": js.STRING, "additionalInformation": js.nullable(js.STRING),
            "conditionalAccessReferences": js.array(js.STRING), "currentCombinations": js.array(js.STRING),
            "previousCombinations": js.array(js.STRING)},
            required=["conditionalAccessReferences", "currentCombinations", "previousCombinations"],
            title=UPDATE_COMBINATIONS_RESULT),
        "emptyValue": js.EMPTY_VALUE,
    }
