"""/auditLogs: sign-in logs (``signIns``) and the audit log as Graph's ``directoryAudits``.

Both read-only, newest first, paged with ``$top``/``$skiptoken``; ``audit.read`` (AuditLog.Read.All, Global Reader).
Sign-ins carry ``appliedConditionalAccessPolicies`` only for callers that may also read Conditional Access policies
(``access.read``), as Graph keeps them to callers with Conditional Access read rights; report-only results are sent
as ``unknownFutureValue`` unless the request says ``Prefer: include-unknown-enum-members``, as Graph does.
"""

from __future__ import annotations

import json
from typing import Any

from rest_framework.response import Response

from passgate.audit.models import AuditEvent, SignInEvent
from passgate.audit.selectors import APP_ACTOR_PREFIX, audit_get, audit_list, audit_page_key
from passgate.audit.signins import methods_used, signin_get, signin_list, signin_page_key
from passgate.core.graph import authz
from passgate.core.graph.auditlogs import (
    CA_STATUSES,
    DIRECTORY_AUDIT,
    EMPTY_LOCATION,
    LOGGED_BY_SERVICE,
    SIGN_IN,
    SIGN_IN_BETA,
    applied_policy_result,
    device_detail,
    graph_category,
    operation_type,
    prefers_unknown_enum_members,
    target_resource_type,
)
from passgate.core.graph.errors import GraphError
from passgate.core.graph.odata import Query
from passgate.core.graph.organization import tenant_id
from passgate.core.graph.schema import Resource, format_datetime
from passgate.graph_api.registry import Call, endpoint, register_schema
from passgate.graph_api.representations import entity_context

SIGN_INS = "/auditLogs/signIns"
DIRECTORY_AUDITS = "/auditLogs/directoryAudits"
LIST_QUERY = ("$select", "$filter", "$top", "$skiptoken")
OPERATION_RESULTS = ("success", "failure", "timeout", "unknownFutureValue")


def _register(resource: Resource, short: str) -> None:
    register_schema(short, resource.json_schema("read"))
    register_schema(f"{short}.collection", {
        "type": "object", "title": f"Collection({resource.type_name})",
        "properties": {"@odata.context": {"type": "string"}, "@odata.nextLink": {"type": "string", "format": "uri"},
                       "value": {"type": "array", "items": {"$ref": f"#/components/schemas/{short}"}}},
        "required": ["value"],
    })


_register(SIGN_IN_BETA, "signIn")
_register(DIRECTORY_AUDIT, "directoryAudit")


def _pick(values: dict[str, Any], resource: Resource, select: tuple[str, ...],
          annotations: dict[str, Any]) -> dict[str, Any]:
    if select:
        return {name: values[name] for name in select}
    return {**{name: values[name] for name in resource.default_select}, **annotations}


def _check_enum(query: Query, prop: str, allowed: tuple[str, ...]) -> None:
    for clause in query.filter.clauses if query.filter else ():
        if clause.property == prop and clause.value not in allowed:
            raise GraphError.bad_request(f"Invalid value '{clause.value}' for property '{prop}': use "
                                         f"{', '.join(allowed)}.")


# --- signIns --------------------------------------------------------------------------------------------------

def _sign_in_resource(call: Call) -> Resource:
    return SIGN_IN_BETA if call.version == "beta" else SIGN_IN


def sign_in_json(event: SignInEvent, *, version: str, tenant: str, select: tuple[str, ...] = (),
                 show_policies: bool = True, include_unknown_enum_members: bool = False) -> dict[str, Any]:
    """A ``SignInEvent`` as Graph's ``signIn`` (v1.0, or beta with the authentication details); ``tenant`` is
    the organization's id (home and resource tenant: Passgate is one tenant)."""
    policies = [{
        "id": p["id"], "displayName": p["displayName"], "enforcedGrantControls": p["enforcedGrantControls"],
        "enforcedSessionControls": p["enforcedSessionControls"],
        "result": applied_policy_result(p["result"], include_unknown_enum_members=include_unknown_enum_members),
        **({"@passgate.reason": p["reason"]} if p.get("reason") else {}),
    } for p in event.applied_policies] if show_policies else []
    values: dict[str, Any] = {
        "id": str(event.pk), "createdDateTime": format_datetime(event.created_at),
        "userDisplayName": event.user_display_name, "userPrincipalName": event.user_principal_name,
        "userId": str(event.user_id) if event.user_id else None,
        "appId": event.app_id, "appDisplayName": event.app_display_name, "ipAddress": event.ip_address or "",
        "clientAppUsed": "Browser", "correlationId": event.correlation_id or None,
        "conditionalAccessStatus": event.conditional_access_status, "isInteractive": event.is_interactive,
        "resourceDisplayName": event.resource_display_name or event.app_display_name,
        "resourceId": event.resource_id or event.app_id,
        "riskDetail": "none", "riskLevelAggregated": "none", "riskLevelDuringSignIn": "none", "riskState": "none",
        "riskEventTypes": [], "riskEventTypes_v2": [],
        "status": {"errorCode": event.error_code,
                   "failureReason": None if event.succeeded else (event.failure_reason or "Other."),
                   "additionalDetails": event.reason_code or None},
        "deviceDetail": device_detail(event.user_agent, device_id=event.device_id,
                                      display_name=event.device_display_name, trust_type=event.device_trust_type),
        "location": dict(EMPTY_LOCATION),
        "appliedConditionalAccessPolicies": policies,
        "userAgent": event.user_agent, "homeTenantId": tenant, "resourceTenantId": tenant,
        # people sign in, not service principals; Microsoft Authenticator is not a Passgate method
        "servicePrincipalId": None, "servicePrincipalName": None, "authenticationAppDeviceDetails": None,
    }
    if version == "beta":
        values.update({"authenticationDetails": event.authentication_details,
                       "authenticationRequirement": event.authentication_requirement,
                       "authenticationMethodsUsed": methods_used(event)})
    annotations = {"@passgate.acr": event.acr or None, "@passgate.amr": event.amr,
                   "@passgate.authenticationStrength": event.authentication_strength,
                   "@passgate.aaguid": str(event.aaguid) if event.aaguid else None}
    return _pick(values, SIGN_IN_BETA if version == "beta" else SIGN_IN, select, annotations)


def _sign_in_options(call: Call) -> dict[str, Any]:
    return {"version": call.version, "tenant": tenant_id(call.origin),
            "show_policies": authz.allowed(call.caller, "access.read"),
            "include_unknown_enum_members": prefers_unknown_enum_members(
                str(call.request.META.get("HTTP_PREFER", "")))}


@endpoint("GET", SIGN_INS, operation="audit.read", tag="auditLogs", summary="List sign-ins",
          responses={200: "signIn.collection"}, query=LIST_QUERY)
def sign_ins_list(call: Call) -> Response:
    """Sign-ins to apps, newest first. ``$filter`` takes ``createdDateTime`` (``ge``, ``le``, ``eq``; unquoted,
    e.g. ``createdDateTime ge 2026-01-01T00:00:00Z``), ``eq`` on id, userId, appId, correlationId,
    conditionalAccessStatus, isInteractive and ``status/errorCode`` (0 for successes), and ``eq``/``startswith()``
    on userPrincipalName, userDisplayName, appDisplayName and ipAddress, joined with ``and``. On /beta each
    sign-in also has authenticationDetails, authenticationRequirement and authenticationMethodsUsed."""
    query = call.query(_sign_in_resource(call), collection=True)
    _check_enum(query, "conditionalAccessStatus", CA_STATUSES)
    rows, next_link = call.page(query, signin_list, signin_page_key)
    options = _sign_in_options(call)
    body: dict[str, object] = {"@odata.context": call.metadata(entity_context("auditLogs/signIns", query.select,
                                                                             single=False))}
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = [sign_in_json(e, select=query.select, **options) for e in rows]
    return Response(body)


@endpoint("GET", SIGN_INS + "/{signIn-id}", operation="audit.read", tag="auditLogs", summary="Get a sign-in",
          responses={200: "signIn"}, query=("$select",))
def sign_ins_get(call: Call, sign_in_id: str) -> Response:
    query = call.query(_sign_in_resource(call), collection=False)
    event = signin_get(event_id=sign_in_id)
    if event is None:
        raise GraphError.not_found(sign_in_id)
    return Response({"@odata.context": call.metadata(entity_context("auditLogs/signIns", query.select, single=True)),
                     **sign_in_json(event, select=query.select, **_sign_in_options(call))})


# --- directoryAudits -------------------------------------------------------------------------------------------

def _initiated_by(event: AuditEvent) -> dict[str, Any]:
    name = event.actor_name
    if name.startswith(APP_ACTOR_PREFIX):
        return {"user": None, "app": {"appId": None, "displayName": name.removeprefix(APP_ACTOR_PREFIX),
                                      "servicePrincipalId": str(event.actor_id) if event.actor_id else None,
                                      "servicePrincipalName": None}}
    if event.actor_id is not None or ("@" in name and " " not in name and not name.startswith("cli:")):
        return {"user": {"id": str(event.actor_id) if event.actor_id else None, "displayName": None,
                         "userPrincipalName": name or None, "ipAddress": event.ip_address or None}, "app": None}
    return {"user": None, "app": {"appId": None, "displayName": name or LOGGED_BY_SERVICE, "servicePrincipalId": None,
                                  "servicePrincipalName": None}}


def _json_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True,
                                                          ensure_ascii=False, default=str)


def _is_change(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"old", "new"}


def directory_audit_json(event: AuditEvent, select: tuple[str, ...] = ()) -> dict[str, Any]:
    details = event.details if isinstance(event.details, dict) else {"details": event.details}
    targets: list[dict[str, Any]] = []
    if event.target_type or event.target_id:
        targets.append({
            "id": event.target_id or None, "displayName": event.target_name or None,
            "type": target_resource_type(event.target_type), "groupType": None,
            "userPrincipalName": event.target_name or None if event.target_type == "user" else None,
            "modifiedProperties": [{"displayName": key, "oldValue": _json_text(value["old"]),
                                    "newValue": _json_text(value["new"])}
                                   for key, value in details.items() if _is_change(value)],
            "@passgate.type": event.target_type,
        })
    additional = [{"key": key, "value": _json_text(value)} for key, value in details.items()
                  if not (targets and _is_change(value))]
    if event.user_agent:
        additional.append({"key": "User-Agent", "value": event.user_agent})
    values: dict[str, Any] = {
        "id": str(event.pk), "category": graph_category(event.category, event.target_type), "correlationId": None,
        "result": event.result, "resultReason": event.reason, "activityDisplayName": event.activity,
        "activityDateTime": format_datetime(event.occurred_at), "loggedByService": LOGGED_BY_SERVICE,
        "operationType": operation_type(event.activity), "initiatedBy": _initiated_by(event),
        "targetResources": targets, "additionalDetails": additional,
    }
    return _pick(values, DIRECTORY_AUDIT, select, {"@passgate.category": event.category})


@endpoint("GET", DIRECTORY_AUDITS, operation="audit.read", tag="auditLogs", summary="List directory audits",
          responses={200: "directoryAudit.collection"}, query=LIST_QUERY)
def directory_audits_list(call: Call) -> Response:
    """Passgate's audit log, newest first, as Graph's directoryAudit. ``$filter`` takes ``activityDateTime``
    (``ge``, ``le``, ``eq``), ``eq`` on id, category, result, loggedByService and ``initiatedBy/user/id``, and
    ``eq``/``startswith()`` on activityDisplayName and ``initiatedBy/user/userPrincipalName``."""
    query = call.query(DIRECTORY_AUDIT, collection=True)
    _check_enum(query, "result", OPERATION_RESULTS)
    rows, next_link = call.page(query, audit_list, audit_page_key)
    body: dict[str, object] = {"@odata.context": call.metadata(entity_context("auditLogs/directoryAudits",
                                                                             query.select, single=False))}
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = [directory_audit_json(e, query.select) for e in rows]
    return Response(body)


@endpoint("GET", DIRECTORY_AUDITS + "/{directoryAudit-id}", operation="audit.read", tag="auditLogs",
          summary="Get a directory audit", responses={200: "directoryAudit"}, query=("$select",))
def directory_audits_get(call: Call, directory_audit_id: str) -> Response:
    query = call.query(DIRECTORY_AUDIT, collection=False)
    event = audit_get(event_id=directory_audit_id)
    if event is None:
        raise GraphError.not_found(directory_audit_id)
    return Response({"@odata.context": call.metadata(entity_context("auditLogs/directoryAudits", query.select,
                                                                    single=True)),
                     **directory_audit_json(event, query.select)})
