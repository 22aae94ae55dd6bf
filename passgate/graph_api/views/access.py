"""Authentication strengths and Conditional Access policies (Graph v1.0 shapes).

- ``/policies/authenticationStrengthPolicies`` (and Graph's alias
  ``/identity/conditionalAccess/authenticationStrength/policies``): the three built-ins, read-only, then custom
  strengths; ``…/{id}/usage`` lists the Conditional Access policies that require a strength.
- ``/identity/conditionalAccess/policies``: Conditional Access policies (the subset ``passgate.core.access``
  evaluates; anything else is refused naming it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.response import Response

from passgate.access.selectors import ca_policies, ca_policy_get, strength_get, strengths
from passgate.access.services import (
    ca_policy_create,
    ca_policy_delete,
    ca_policy_update,
    strength_configuration_create,
    strength_configuration_delete,
    strength_configuration_update,
    strength_create,
    strength_delete,
    strength_update,
    strength_update_allowed_combinations,
)
from passgate.core.access import ca_policy_to_graph, strength_to_graph, strength_usage
from passgate.core.access import schema as access_schema
from passgate.core.access.query import CA_POLICY_OPTIONS, CA_POLICY_QUERY, STRENGTH_OPTIONS, STRENGTH_QUERY
from passgate.core.access.strengths import Fido2CombinationConfiguration
from passgate.core.graph import jsonschema as js
from passgate.core.graph.errors import GraphError
from passgate.core.graph.odata import evaluate, project
from passgate.graph_api.registry import Call, endpoint, register_schema
from passgate.graph_api.representations import entity_context

STRENGTHS = "/policies/authenticationStrengthPolicies"
STRENGTHS_ALIAS = "/identity/conditionalAccess/authenticationStrength/policies"
CA = "/identity/conditionalAccess/policies"
STRENGTH_ID = "{authenticationStrengthPolicy-id}"
CONFIGURATION_ID = "{authenticationCombinationConfiguration-id}"
CA_ID = "{conditionalAccessPolicy-id}"

for _name, _schema in access_schema.schemas().items():
    register_schema(_name, _schema)
for _name in (access_schema.STRENGTH, access_schema.CA_POLICY):
    # a listing's items: the resource's properties, any of them left out by $select
    _items = {k: v for k, v in access_schema.schemas()[_name].items() if k != "required"}
    register_schema(f"{_name}.collection", js.obj({"@odata.context": js.STRING, "@odata.count": {"type": "integer"},
                                                   "@odata.nextLink": js.STRING, "value": js.array(_items)},
                                                  required=["@odata.context", "value"]))


def _object(call: Call) -> dict[str, Any]:
    body = call.body
    if not isinstance(body, dict):
        raise GraphError.bad_request("The request body must be a JSON object.")
    return body


def _strength_context(call: Call, prefix: str, *, single: bool) -> str:
    base = prefix.strip("/")
    return call.metadata(f"{base}/$entity" if single else base)


# --- authentication strengths -------------------------------------------------------------------------------------

def _strength_list(call: Call, prefix: str) -> Response:
    """``$filter`` on ``policyType`` and ``displayName`` (``eq``), as Graph documents; other options are 400."""
    query = call.query(STRENGTH_QUERY, collection=True, supported=STRENGTH_OPTIONS)
    rows = evaluate([strength_to_graph(s) for s in strengths().values()], query)
    return Response({"@odata.context": _strength_context(call, prefix, single=False), "value": rows})


def _strength_get(call: Call, prefix: str, strength_id: str) -> Response:
    return Response({"@odata.context": _strength_context(call, prefix, single=True),
                     **strength_to_graph(strength_get(strength_id))})


def _strength_create(call: Call, prefix: str) -> Response:
    strength = strength_create(body=_object(call), actor=call.actor, context=call.context)
    return Response({"@odata.context": _strength_context(call, prefix, single=True),
                     **strength_to_graph(strength)}, status=201)


def _strength_patch(call: Call, authentication_strength_policy_id: str) -> Response:
    strength_update(strength_id=authentication_strength_policy_id, body=_object(call), actor=call.actor,
                    context=call.context)
    return Response(status=204)


def _strength_delete(call: Call, authentication_strength_policy_id: str) -> Response:
    strength_delete(strength_id=authentication_strength_policy_id, actor=call.actor, context=call.context)
    return Response(status=204)


def _register_strengths(prefix: str, tag: str, suffix: str) -> None:
    """The same five endpoints at Graph's path and at its Conditional Access alias."""
    handlers: list[tuple[str, str, str, str | None, dict[int, str | None], Callable[..., Response]]] = [
        ("GET", prefix, "List authentication strengths", None, {200: "authenticationStrengthPolicy.collection"},
         lambda call: _strength_list(call, prefix)),
        ("POST", prefix, "Create a custom authentication strength", "authenticationStrengthPolicy.create",
         {201: "authenticationStrengthPolicy"}, lambda call: _strength_create(call, prefix)),
        ("GET", f"{prefix}/{STRENGTH_ID}", "Get an authentication strength", None,
         {200: "authenticationStrengthPolicy"},
         lambda call, authentication_strength_policy_id: _strength_get(
             call, prefix, authentication_strength_policy_id)),
        ("PATCH", f"{prefix}/{STRENGTH_ID}", "Update a custom authentication strength",
         "authenticationStrengthPolicy.update",
         {204: None}, _strength_patch),
        ("DELETE", f"{prefix}/{STRENGTH_ID}", "Delete a custom authentication strength", None, {204: None},
         _strength_delete),
    ]
    for method, route, summary, request, responses, handler in handlers:
        write = method != "GET"
        endpoint(method, route, operation="strengths.write" if write else "strengths.read", tag=tag,
                 summary=summary + suffix, request=request, responses=responses,
                 query=STRENGTH_OPTIONS if method == "GET" and route == prefix else (),
                 operation_id=f"{tag}.{method.lower()}{route.replace('/', '.')}")(handler)


_register_strengths(STRENGTHS, "policies", "")
_register_strengths(STRENGTHS_ALIAS, "conditionalAccess", " (alias)")


# --- a strength's combination configurations and updateAllowedCombinations ----------------------------------------

def _configuration_graph(config: Fido2CombinationConfiguration) -> dict[str, Any]:
    return {"@odata.type": config.ODATA_TYPE, "id": config.id,
            "appliesToCombinations": list(config.APPLIES_TO_COMBINATIONS),
            "allowedAAGUIDs": list(config.allowed_aaguids)}


def _configurations_context(call: Call, prefix: str, strength_id: str, *, single: bool) -> str:
    base = f"{prefix.strip('/')}('{strength_id}')/combinationConfigurations"
    return call.metadata(f"{base}/$entity" if single else base)


def _register_configurations(prefix: str, tag: str, suffix: str) -> None:
    collection = f"{prefix}/{STRENGTH_ID}/combinationConfigurations"
    item = f"{collection}/{CONFIGURATION_ID}"

    def listing(call: Call, authentication_strength_policy_id: str) -> Response:
        call.query(STRENGTH_QUERY, collection=True, supported=())  # Graph documents no query options here
        strength = strength_get(authentication_strength_policy_id)
        return Response({"@odata.context": _configurations_context(call, prefix, strength.id, single=False),
                         "value": [_configuration_graph(c) for c in strength.combination_configurations]})

    def create(call: Call, authentication_strength_policy_id: str) -> Response:
        made = strength_configuration_create(strength_id=authentication_strength_policy_id, body=_object(call),
                                             actor=call.actor, context=call.context)
        return Response({"@odata.context": _configurations_context(call, prefix, authentication_strength_policy_id,
                                                                   single=True), **_configuration_graph(made)},
                        status=201)

    def get(call: Call, authentication_strength_policy_id: str,
            authentication_combination_configuration_id: str) -> Response:
        strength = strength_get(authentication_strength_policy_id)
        found = strength.fido2_configuration
        if found is None or found.id.lower() != authentication_combination_configuration_id.lower():
            raise GraphError.not_found(authentication_combination_configuration_id)
        return Response({"@odata.context": _configurations_context(call, prefix, strength.id, single=True),
                         **_configuration_graph(found)})

    def patch(call: Call, authentication_strength_policy_id: str,
              authentication_combination_configuration_id: str) -> Response:
        strength_configuration_update(strength_id=authentication_strength_policy_id,
                                      configuration_id=authentication_combination_configuration_id,
                                      body=_object(call), actor=call.actor, context=call.context)
        return Response(status=204)

    def delete(call: Call, authentication_strength_policy_id: str,
               authentication_combination_configuration_id: str) -> Response:
        strength_configuration_delete(strength_id=authentication_strength_policy_id,
                                      configuration_id=authentication_combination_configuration_id,
                                      actor=call.actor, context=call.context)
        return Response(status=204)

    def update_allowed(call: Call, authentication_strength_policy_id: str) -> Response:
        result = strength_update_allowed_combinations(strength_id=authentication_strength_policy_id,
                                                      body=_object(call), actor=call.actor, context=call.context)
        return Response({"@odata.context": call.metadata("microsoft.graph.updateAllowedCombinationsResult"),
                         **result})

    handlers: list[tuple[str, str, str, str | None, dict[int, str | None], Callable[..., Response]]] = [
        ("GET", collection, "List a strength's combination configurations", None,
         {200: f"{access_schema.CONFIGURATION}.collection"}, listing),
        ("POST", collection, "Create a strength's fido2 combination configuration",
         f"{access_schema.CONFIGURATION}.create", {201: access_schema.CONFIGURATION}, create),
        ("GET", item, "Get a combination configuration", None, {200: access_schema.CONFIGURATION}, get),
        ("PATCH", item, "Update a combination configuration", f"{access_schema.CONFIGURATION}.update",
         {204: None}, patch),
        ("DELETE", item, "Delete a combination configuration", None, {204: None}, delete),
        ("POST", f"{prefix}/{STRENGTH_ID}/updateAllowedCombinations", "Replace a strength's allowed combinations",
         access_schema.UPDATE_COMBINATIONS, {200: access_schema.UPDATE_COMBINATIONS_RESULT}, update_allowed),
    ]
    for method, route, summary, request, responses, handler in handlers:
        endpoint(method, route, operation="strengths.read" if method == "GET" else "strengths.write", tag=tag,
                 summary=summary + suffix, request=request, responses=responses,
                 operation_id=f"{tag}.{method.lower()}{route.replace('/', '.')}")(handler)


_register_configurations(STRENGTHS, "policies", "")
_register_configurations(STRENGTHS_ALIAS, "conditionalAccess", " (alias)")


@endpoint("GET", f"{STRENGTHS}/{STRENGTH_ID}/usage()", operation="access.read", tag="policies",
          summary="List the Conditional Access policies that require an authentication strength (as the SDK calls "
                  "it: the function usage())", responses={200: "authenticationStrengthUsage"},
          operation_id="policies.get.authenticationStrengthPolicies.usage.function")
@endpoint("GET", f"{STRENGTHS}/{STRENGTH_ID}/usage", operation="access.read", tag="policies",
          summary="List the Conditional Access policies that require an authentication strength",
          responses={200: "authenticationStrengthUsage"})
def strength_usage_get(call: Call, authentication_strength_policy_id: str) -> Response:
    """Graph's ``authenticationStrengthUsage``: the policies under ``mfa`` or ``none`` as the strength's
    ``requirementsSatisfied`` says."""
    strength = strength_get(authentication_strength_policy_id)
    known = strengths()
    using = [ca_policy_to_graph(p, strengths=known) for p in strength_usage(strength.id, ca_policies())]
    mfa = strength.requirements_satisfied == "mfa"
    return Response({"@odata.context": call.metadata("microsoft.graph.authenticationStrengthUsage"),
                     "mfa": using if mfa else [], "none": [] if mfa else using})


# --- Conditional Access policies ----------------------------------------------------------------------------------

@endpoint("GET", CA, operation="access.read", tag="conditionalAccess", summary="List Conditional Access policies",
          responses={200: "conditionalAccessPolicy.collection"}, query=CA_POLICY_OPTIONS)
def ca_list(call: Call) -> Response:
    """``$filter`` (``eq``, ``in``, ``ne`` on id, displayName and state; ``startswith()`` on displayName),
    ``$orderby`` (displayName, createdDateTime, modifiedDateTime), ``$select``, ``$top``, ``$skip`` and
    ``$count``, as Graph documents for this list; other options are 400."""
    query = call.query(CA_POLICY_QUERY, collection=True, supported=CA_POLICY_OPTIONS)
    known = strengths()
    rows = evaluate([ca_policy_to_graph(p, strengths=known) for p in ca_policies()], query)
    page, next_link = call.in_memory_page(rows, query)
    body: dict[str, Any] = {"@odata.context": call.metadata(entity_context(
        "identity/conditionalAccess/policies", query.select, single=False))}
    if query.count:
        body["@odata.count"] = len(rows)
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = [project(r, query.select) for r in page]
    return Response(body)


@endpoint("POST", CA, operation="access.write", tag="conditionalAccess",
          summary="Create a Conditional Access policy", request="conditionalAccessPolicy.create",
          responses={201: "conditionalAccessPolicy"})
def ca_create(call: Call) -> Response:
    """Users (include/exclude users, groups, directory roles, ``All``), applications (app ids, ``All``,
    ``MicrosoftAdminPortals`` = the Passgate admin centre) or the user action ``urn:user:registersecurityinfo``,
    grant controls ``block``, ``mfa`` or an ``authenticationStrength``; state ``enabled``, ``disabled`` or
    ``enabledForReportingButNotEnforced``. A policy that would lock every Global Administrator out of the admin
    centre is refused (400 ``adminLockout``)."""
    policy = ca_policy_create(body=_object(call), actor=call.actor, context=call.context)
    return Response({"@odata.context": call.metadata("identity/conditionalAccess/policies/$entity"),
                     **ca_policy_to_graph(policy, strengths=strengths())}, status=201)


@endpoint("GET", f"{CA}/{CA_ID}", operation="access.read", tag="conditionalAccess",
          summary="Get a Conditional Access policy", responses={200: "conditionalAccessPolicy"})
def ca_get(call: Call, conditional_access_policy_id: str) -> Response:
    return Response({"@odata.context": call.metadata("identity/conditionalAccess/policies/$entity"),
                     **ca_policy_to_graph(ca_policy_get(conditional_access_policy_id), strengths=strengths())})


@endpoint("PATCH", f"{CA}/{CA_ID}", operation="access.write", tag="conditionalAccess",
          summary="Update a Conditional Access policy", request="conditionalAccessPolicy.update",
          responses={204: None})
def ca_patch(call: Call, conditional_access_policy_id: str) -> Response:
    """Objects merge into objects (``{"conditions": {"users": {"excludeGroups": [...]}}}`` changes that list
    only); arrays replace."""
    ca_policy_update(policy_id=conditional_access_policy_id, body=_object(call), actor=call.actor,
                     context=call.context)
    return Response(status=204)


@endpoint("DELETE", f"{CA}/{CA_ID}", operation="access.write", tag="conditionalAccess",
          summary="Delete a Conditional Access policy", responses={204: None})
def ca_delete(call: Call, conditional_access_policy_id: str) -> Response:
    ca_policy_delete(policy_id=conditional_access_policy_id, actor=call.actor, context=call.context)
    return Response(status=204)
