"""/policies/authenticationMethodsPolicy and its authenticationMethodConfigurations (Graph v1.0 shapes)."""

from __future__ import annotations

from rest_framework.response import Response

from passgate.core.graph import jsonschema as js
from passgate.core.graph.errors import GraphError
from passgate.core.policy import graph as policy_json
from passgate.core.policy import graph_schema
from passgate.credentials.policy import policy_update
from passgate.credentials.policy_selectors import current_policy
from passgate.graph_api.registry import Call, endpoint, register_schema

POLICY = "/policies/authenticationMethodsPolicy"
for _name, _schema in graph_schema.schemas().items():
    register_schema(_name, _schema)
register_schema("authenticationMethodConfiguration.collection", js.obj(
    {"@odata.context": js.STRING, "value": js.array(js.ref("authenticationMethodConfiguration"))},
    required=["@odata.context", "value"]))


@endpoint("GET", POLICY, operation="policy.read", tag="policies", summary="Get the authentication methods policy",
          responses={200: "authenticationMethodsPolicy"})
def policy_get(call: Call) -> Response:
    return Response({"@odata.context": call.metadata("policies/authenticationMethodsPolicy/$entity"),
                     **policy_json.to_graph(current_policy())})


@endpoint("PATCH", POLICY, operation="policy.write", tag="policies",
          summary="Update the authentication methods policy", request="authenticationMethodsPolicy.update",
          responses={204: None})
def policy_patch(call: Call) -> Response:
    """In v1.0 only registrationEnforcement is writable here, which Passgate replaces by isRegistrationRequired on
    passkey targets (400 notSupported, naming it); read-only values sent back unchanged are accepted."""
    policy_update(body=_object(call), actor=call.actor, context=call.context)
    return Response(status=204)


@endpoint("GET", POLICY + "/authenticationMethodConfigurations", operation="policy.read", tag="policies",
          summary="List the authentication method configurations",
          responses={200: "authenticationMethodConfiguration.collection"})
def configurations_list(call: Call) -> Response:
    return Response({
        "@odata.context": call.metadata("policies/authenticationMethodsPolicy/authenticationMethodConfigurations"),
        "value": [policy_json.to_graph(c) for c in current_policy().configurations],
    })


@endpoint("GET", POLICY + "/authenticationMethodConfigurations/{authenticationMethodConfiguration-id}",
          operation="policy.read", tag="policies", summary="Get an authentication method configuration",
          responses={200: "authenticationMethodConfiguration"})
def configuration_get(call: Call, authentication_method_configuration_id: str) -> Response:
    """Ids are case-insensitive: ``Fido2``, ``fido2``, ``SoftwareOath``, ``TemporaryAccessPass``."""
    config = policy_json.method_configuration(current_policy(), authentication_method_configuration_id)
    return Response({"@odata.context": call.metadata(
        "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity"),
        **policy_json.to_graph(config)})


@endpoint("PATCH", POLICY + "/authenticationMethodConfigurations/{authenticationMethodConfiguration-id}",
          operation="policy.write", tag="policies", summary="Update an authentication method configuration",
          request="authenticationMethodConfiguration.update", responses={204: None})
def configuration_patch(call: Call, authentication_method_configuration_id: str) -> Response:
    """Properties left out are unchanged; ``passkeyProfiles`` replaces the whole collection (new profiles come
    without an id and get one); errors name the offending property in ``error.target``."""
    policy_update(body=_object(call), method_id=authentication_method_configuration_id, actor=call.actor,
                  context=call.context)
    return Response(status=204)


def _object(call: Call) -> dict[str, object]:
    body = call.body
    if not isinstance(body, dict):
        raise GraphError.bad_request("The request body must be a JSON object.")
    return body
