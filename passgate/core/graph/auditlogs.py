"""Graph's ``/auditLogs`` resources, pure: the ``signIn`` and ``directoryAudit`` declarations (``$select``,
``$filter``, OpenAPI), their enumerations, and the small mappings from Passgate's rows to Graph's values.

Property names and filters follow the Microsoft Graph v1.0 ``signIn`` and ``directoryAudit`` resource pages (and
the beta ``signIn`` page for ``authenticationDetails``, ``authenticationRequirement`` and
``authenticationMethodsUsed``): https://learn.microsoft.com/graph/api/resources/signin,
https://learn.microsoft.com/graph/api/resources/directoryaudit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from passgate.core.graph import jsonschema as js
from passgate.core.graph.odata import FilterKind, FilterProp
from passgate.core.graph.schema import Kind, Prop, Resource

EQ = frozenset({"eq"})
EQ_STARTSWITH = frozenset({"eq", "startswith"})
DATES = frozenset({"eq", "ge", "le"})

# --- enumerations ---------------------------------------------------------------------------------------------

# signIn.conditionalAccessStatus (unknownFutureValue is never written)
CA_STATUSES: Final = ("success", "failure", "notApplied")
# appliedConditionalAccessPolicy.result; the report-only members come after unknownFutureValue in Graph's evolvable
# enum, so Graph sends them only to callers with "Prefer: include-unknown-enum-members" (unknownFutureValue otherwise).
POLICY_RESULTS: Final = ("success", "failure", "notApplied", "notEnabled", "unknown")
REPORT_ONLY_RESULTS: Final = ("reportOnlySuccess", "reportOnlyFailure", "reportOnlyNotApplied", "reportOnlyInterrupted")
APPLIED_POLICY_RESULTS: Final = POLICY_RESULTS + REPORT_ONLY_RESULTS
# signIn.authenticationRequirement (beta)
AUTHENTICATION_REQUIREMENTS: Final = ("singleFactorAuthentication", "multiFactorAuthentication")
INCLUDE_UNKNOWN_ENUM_MEMBERS: Final = "include-unknown-enum-members"


def applied_policy_result(result: str, *, include_unknown_enum_members: bool) -> str:
    """A stored ``appliedConditionalAccessPolicy.result`` as Graph sends it to this caller."""
    if result in REPORT_ONLY_RESULTS and not include_unknown_enum_members:
        return "unknownFutureValue"
    return result


def prefers_unknown_enum_members(prefer_header: str) -> bool:
    """Whether a ``Prefer`` header (comma-separated preferences) asks for ``include-unknown-enum-members``."""
    return any(part.split(";")[0].strip().lower() == INCLUDE_UNKNOWN_ENUM_MEMBERS
               for part in prefer_header.split(","))


# --- deviceDetail from a User-Agent ------------------------------------------------------------------------------

_BROWSERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/([0-9][0-9.]*)")),
    ("Opera", re.compile(r"\bOPR/([0-9][0-9.]*)")),
    ("Samsung Browser", re.compile(r"\bSamsungBrowser/([0-9][0-9.]*)")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/([0-9][0-9.]*)")),
    ("Chrome", re.compile(r"(?:Chrome|CriOS)/([0-9][0-9.]*)")),
    ("Safari", re.compile(r"\bVersion/([0-9][0-9.]*)(?:\s+Mobile/\S+)?\s+Safari/")),
)
# Graph's spellings (Windows10, MacOs, Ios ...); the order matters: iOS says "like Mac OS X", Android says "Linux".
_SYSTEMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Windows10", re.compile(r"Windows NT 10\.")),
    ("Windows", re.compile(r"Windows")),
    ("Ios", re.compile(r"iPhone|iPad|iPod")),
    ("Android", re.compile(r"Android")),
    ("MacOs", re.compile(r"Macintosh|Mac OS X")),
    ("ChromeOs", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
)


def browser_of(user_agent: str) -> str:
    """``Chrome 120.0.6099``-style, as Graph's ``deviceDetail.browser``; ``""`` without a User-Agent."""
    text = user_agent[:512]
    if not text.strip():
        return ""
    for name, pattern in _BROWSERS:
        found = pattern.search(text)
        if found:
            return f"{name} {'.'.join(found.group(1).split('.')[:3])}"
    return "Other"


def operating_system_of(user_agent: str) -> str:
    text = user_agent[:512]
    if not text.strip():
        return ""
    return next((name for name, pattern in _SYSTEMS if pattern.search(text)), "Other")


def device_detail(user_agent: str, *, device_id: str = "", display_name: str = "",
                  trust_type: str = "") -> dict[str, Any]:
    """Graph's ``deviceDetail``: browser and operating system from the User-Agent; for a sign-in to a joined
    computer, the device too (``trustType`` AzureAd or ServerAd; Passgate manages the devices it joins)."""
    return {"browser": browser_of(user_agent), "deviceId": device_id, "displayName": display_name,
            "isCompliant": False, "isManaged": bool(device_id),
            "operatingSystem": operating_system_of(user_agent) if not device_id else "Linux",
            "trustType": trust_type}


EMPTY_LOCATION: Mapping[str, Any] = MappingProxyType(
    {"city": None, "state": None, "countryOrRegion": None, "geoCoordinates": None})


# --- directoryAudit mappings -------------------------------------------------------------------------------------

LOGGED_BY_SERVICE: Final = "Passgate"

# (Passgate category, target type or "*") -> Graph category; the first match wins.
_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("directory", "user", "UserManagement"),
    ("directory", "group", "GroupManagement"),
    ("directory", "application", "ApplicationManagement"),
    ("directory", "role", "RoleManagement"),
    ("directory", "*", "DirectoryManagement"),
    ("securityInfo", "*", "UserManagement"),
    ("policy", "*", "Policy"),
    ("signIn", "*", "Authentication"),
    ("system", "signingKey", "KeyManagement"),
    ("system", "*", "Other"),
)
GRAPH_CATEGORIES: Final = tuple(dict.fromkeys(graph for _, _, graph in _CATEGORIES))


def graph_category(category: str, target_type: str) -> str:
    for ours, target, graph in _CATEGORIES:
        if ours == category and target in (target_type, "*"):
            return graph
    return "Other"


def categories_for(graph: str) -> tuple[tuple[str, tuple[str, ...] | None, tuple[str, ...]], ...]:
    """The Passgate rows that Graph category ``graph`` (case-insensitive) names: (category, target types it takes
    or None for any, target types it leaves to earlier rules). Empty for a category Passgate never writes."""
    wanted = graph.lower()
    out: list[tuple[str, tuple[str, ...] | None, tuple[str, ...]]] = []
    for i, (ours, target, mapped) in enumerate(_CATEGORIES):
        if mapped.lower() != wanted:
            continue
        taken = tuple(t for o, t, _ in _CATEGORIES[:i] if o == ours and t != "*")
        out.append((ours, None if target == "*" else (target,), taken if target == "*" else ()))
    return tuple(out)


_TARGET_TYPES: Mapping[str, str] = MappingProxyType({
    "user": "User", "group": "Group", "application": "App", "authenticationMethodsPolicy": "Policy",
    "conditionalAccessPolicy": "Policy", "authenticationStrengthPolicy": "Policy", "role": "Role",
})


def target_resource_type(target_type: str) -> str:
    """Graph's ``targetResource.type``: User, Group, App, Policy, or Other."""
    return _TARGET_TYPES.get(target_type, "Other")


_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("addmember", "Assign"), ("removemember", "Unassign"),
    ("add", "Add"), ("create", "Add"), ("register", "Add"), ("issue", "Add"), ("import", "Add"),
    ("delete", "Delete"), ("remove", "Delete"), ("revoke", "Delete"), ("grantrevoke", "Delete"),
    ("update", "Update"), ("setupn", "Update"), ("enable", "Update"), ("disable", "Update"), ("rename", "Update"),
    ("rotate", "Update"),
    ("addpassword", "Update"), ("removepassword", "Update"),  # Entra: "Update application: Certificates and secrets"
)


def operation_type(activity: str) -> str:
    """Graph's ``operationType`` (Add, Assign, Update, Unassign, Delete) from an activity like ``group.addMember``;
    ``Other`` for the rest (sign-ins, refusals)."""
    verb = activity.rsplit(".", 1)[-1].lower()
    return next((graph for ours, graph in _OPERATIONS if verb == ours), "Other")


# --- the complex values, as the answers carry them ---------------------------------------------------------------

_NULL: Final = {"type": "null"}
_TEXT: Final = js.nullable(js.STRING)
SIGN_IN_STATUS: Final = js.obj({"errorCode": js.integer(minimum=0), "failureReason": _TEXT,
                                "additionalDetails": _TEXT},
                               required=("errorCode", "failureReason", "additionalDetails"),
                               title="microsoft.graph.signInStatus")
DEVICE_DETAIL: Final = js.obj({
    "browser": js.STRING, "deviceId": js.STRING, "displayName": js.STRING, "isCompliant": js.BOOLEAN,
    "isManaged": js.BOOLEAN, "operatingSystem": js.STRING, "trustType": js.STRING},
    required=("browser", "deviceId", "displayName", "isCompliant", "isManaged", "operatingSystem", "trustType"),
    title="microsoft.graph.deviceDetail")
SIGN_IN_LOCATION: Final = js.obj({name: _NULL for name in EMPTY_LOCATION}, required=tuple(EMPTY_LOCATION),
                                 title="microsoft.graph.signInLocation",
                                 description="Passgate does not locate addresses: every field is null.")
APPLIED_POLICY: Final = js.obj({
    "id": js.STRING, "displayName": js.STRING, "enforcedGrantControls": js.array(js.STRING),
    "enforcedSessionControls": js.array(js.STRING),
    "result": js.string(enum=[*APPLIED_POLICY_RESULTS, "unknownFutureValue"]),
    "@passgate.reason": js.string(description="Why the policy applied or not (Passgate's reason code).")},
    required=("id", "displayName", "enforcedGrantControls", "enforcedSessionControls", "result"),
    title="microsoft.graph.appliedConditionalAccessPolicy")
AUTHENTICATION_DETAIL: Final = js.obj({
    "authenticationMethod": _TEXT, "authenticationMethodDetail": _TEXT,
    "authenticationStepDateTime": js.nullable(js.DATETIME), "authenticationStepRequirement": _TEXT,
    "authenticationStepResultDetail": _TEXT, "succeeded": js.BOOLEAN},
    required=("authenticationMethod", "authenticationMethodDetail", "authenticationStepDateTime",
              "authenticationStepRequirement", "authenticationStepResultDetail", "succeeded"),
    title="microsoft.graph.authenticationDetail (beta)")
USER_IDENTITY: Final = js.obj({"id": _TEXT, "displayName": _TEXT, "userPrincipalName": _TEXT, "ipAddress": _TEXT},
                              required=("id", "displayName", "userPrincipalName", "ipAddress"),
                              title="microsoft.graph.userIdentity")
APP_IDENTITY: Final = js.obj({"appId": _TEXT, "displayName": js.STRING, "servicePrincipalId": _TEXT,
                              "servicePrincipalName": _TEXT},
                             required=("appId", "displayName", "servicePrincipalId", "servicePrincipalName"),
                             title="microsoft.graph.appIdentity")
AUDIT_INITIATOR: Final = js.obj({"user": js.nullable(USER_IDENTITY), "app": js.nullable(APP_IDENTITY)},
                                required=("user", "app"), title="microsoft.graph.auditActivityInitiator",
                                description="Exactly one of user and app is set.")
MODIFIED_PROPERTY: Final = js.obj({"displayName": js.STRING, "oldValue": js.STRING, "newValue": js.STRING},
                                  required=("displayName", "oldValue", "newValue"),
                                  title="microsoft.graph.modifiedProperty")
TARGET_RESOURCE: Final = js.obj({
    "id": _TEXT, "displayName": _TEXT, "type": js.string(enum=[*dict.fromkeys(_TARGET_TYPES.values()), "Other"]),
    "groupType": _NULL, "userPrincipalName": _TEXT, "modifiedProperties": js.array(MODIFIED_PROPERTY),
    "@passgate.type": js.string(description="Passgate's own name of the target's kind.")},
    required=("id", "displayName", "type", "groupType", "userPrincipalName", "modifiedProperties"),
    title="microsoft.graph.targetResource")
KEY_VALUE: Final = js.obj({"key": js.STRING, "value": js.STRING}, required=("key", "value"),
                          title="microsoft.graph.keyValue")


# --- the resources -----------------------------------------------------------------------------------------------

def _p(name: str, kind: Kind, description: str, *, nullable: bool = False,
       filter: frozenset[str] = frozenset(), schema: js.Schema | None = None) -> Prop:
    return Prop(name, kind, description, nullable=nullable, filter=filter, schema=schema)


_SIGN_IN_PROPS: tuple[Prop, ...] = (
    _p("id", Kind.STRING, "The sign-in event's id.", filter=EQ),
    _p("createdDateTime", Kind.DATETIME, "When the sign-in was attempted (UTC).", filter=DATES),
    _p("userDisplayName", Kind.STRING, "The person's display name at the time.", filter=EQ_STARTSWITH),
    _p("userPrincipalName", Kind.STRING, "The user name typed or asserted (also for unknown users).",
       filter=EQ_STARTSWITH),
    _p("userId", Kind.GUID, "The person's object id; null when no such user exists.", nullable=True, filter=EQ),
    _p("appId", Kind.STRING, "The client id of the app signed in to.", filter=EQ),
    _p("appDisplayName", Kind.STRING, "The app's name at the time.", filter=EQ_STARTSWITH),
    _p("ipAddress", Kind.STRING, "The client's IP address as Passgate saw it.", filter=EQ_STARTSWITH),
    _p("clientAppUsed", Kind.STRING, "Always Browser: Passgate signs people in through a browser."),
    _p("correlationId", Kind.STRING, "Ties the events of one sign-in flow together.", nullable=True, filter=EQ),
    _p("conditionalAccessStatus", Kind.STRING, "success, failure or notApplied.", filter=EQ),
    _p("isInteractive", Kind.BOOLEAN, "Whether the person took part (false for a silent SSO answer).",
       filter=EQ),
    _p("resourceDisplayName", Kind.STRING, "The resource the token is for (usually the app itself)."),
    _p("resourceId", Kind.STRING, "The resource's id."),
    _p("riskDetail", Kind.STRING, "Always none: Passgate has no risk detection."),
    _p("riskLevelAggregated", Kind.STRING, "Always none."),
    _p("riskLevelDuringSignIn", Kind.STRING, "Always none."),
    _p("riskState", Kind.STRING, "Always none."),
    _p("riskEventTypes", Kind.STRING_LIST, "Always []."),
    _p("riskEventTypes_v2", Kind.STRING_LIST, "Always []."),
    _p("status", Kind.OBJECT, "signInStatus: errorCode (0 for success), failureReason, additionalDetails.",
       schema=SIGN_IN_STATUS),
    _p("deviceDetail", Kind.OBJECT, "deviceDetail: browser and operatingSystem from the User-Agent.",
       schema=DEVICE_DETAIL),
    _p("location", Kind.OBJECT, "signInLocation: not known to Passgate (every field null).", schema=SIGN_IN_LOCATION),
    _p("appliedConditionalAccessPolicies", Kind.OBJECT_LIST,
       "Each Conditional Access policy evaluated, with its result; [] for callers that may not read Conditional "
       "Access policies.", schema=js.array(APPLIED_POLICY)),
    _p("userAgent", Kind.STRING, "The browser's User-Agent header."),
    _p("homeTenantId", Kind.STRING, "The organization's id (Passgate is one tenant)."),
    _p("resourceTenantId", Kind.STRING, "The organization's id (Passgate is one tenant)."),
    _p("servicePrincipalId", Kind.STRING, "Always null: people sign in, not service principals.", nullable=True),
    _p("servicePrincipalName", Kind.STRING, "Always null: people sign in, not service principals.", nullable=True),
    _p("authenticationAppDeviceDetails", Kind.OBJECT, "Always null: Microsoft Authenticator is not a Passgate "
       "method.", nullable=True, schema=_NULL),
)
_SIGN_IN_BETA_PROPS: tuple[Prop, ...] = (
    _p("authenticationDetails", Kind.OBJECT_LIST, "Each authentication step: method, detail, time, result.",
       schema=js.array(AUTHENTICATION_DETAIL)),
    _p("authenticationRequirement", Kind.STRING, "singleFactorAuthentication or multiFactorAuthentication."),
    _p("authenticationMethodsUsed", Kind.STRING_LIST, "The methods of the successful steps."),
)
_SIGN_IN_NESTED = (("status/errorCode", FilterProp(FilterKind.INTEGER, EQ)),)
_SIGN_IN_DESCRIPTION = ("A sign-in to an app: who, which app, from where, how they authenticated, what Conditional "
                        "Access decided, and the result.")

SIGN_IN = Resource(type_name="microsoft.graph.signIn", entity="SignIn", entity_set="auditLogs/signIns",
                   description=_SIGN_IN_DESCRIPTION, props=_SIGN_IN_PROPS, nested_filters=_SIGN_IN_NESTED)
SIGN_IN_BETA = Resource(type_name="microsoft.graph.signIn", entity="SignIn", entity_set="auditLogs/signIns",
                        description=_SIGN_IN_DESCRIPTION, props=_SIGN_IN_PROPS + _SIGN_IN_BETA_PROPS,
                        nested_filters=_SIGN_IN_NESTED)

DIRECTORY_AUDIT = Resource(
    type_name="microsoft.graph.directoryAudit", entity="DirectoryAudit", entity_set="auditLogs/directoryAudits",
    description="A change, or a refusal, recorded in Passgate's audit log.",
    props=(
        _p("id", Kind.STRING, "The audit event's id.", filter=EQ),
        _p("category", Kind.STRING, "UserManagement, GroupManagement, ApplicationManagement, DirectoryManagement, "
                                    "Policy, Authentication, KeyManagement or Other.", filter=EQ),
        _p("correlationId", Kind.STRING, "Not kept by Passgate (always null).", nullable=True),
        _p("result", Kind.STRING, "success or failure.", filter=EQ),
        _p("resultReason", Kind.STRING, "Passgate's reason code for a failure; empty for a success."),
        _p("activityDisplayName", Kind.STRING, "Passgate's activity name, e.g. user.add or group.addMember.",
           filter=EQ_STARTSWITH),
        _p("activityDateTime", Kind.DATETIME, "When it happened (UTC).", filter=DATES),
        _p("loggedByService", Kind.STRING, "Always Passgate.", filter=EQ),
        _p("operationType", Kind.STRING, "Add, Assign, Update, Unassign, Delete or Other."),
        _p("initiatedBy", Kind.OBJECT, "auditActivityInitiator: the user or the app (or Passgate itself) that acted.",
           schema=AUDIT_INITIATOR),
        _p("targetResources", Kind.OBJECT_LIST, "What the activity was about (at most one).",
           schema=js.array(TARGET_RESOURCE, max_items=1)),
        _p("additionalDetails", Kind.OBJECT_LIST, "keyValue pairs: the event's details and the User-Agent.",
           schema=js.array(KEY_VALUE)),
    ),
    nested_filters=(("initiatedBy/user/id", FilterProp(FilterKind.GUID, EQ)),
                    ("initiatedBy/user/userPrincipalName", FilterProp(FilterKind.STRING, EQ_STARTSWITH))),
)
