"""/organization: the one tenant a Passgate installation is (``passgate.core.graph.organization``)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.response import Response

from passgate.core.graph import jsonschema as js
from passgate.core.graph import organization as org
from passgate.core.graph.errors import GraphError
from passgate.core.graph.odata import QuerySpec, project
from passgate.graph_api.registry import Call, endpoint, register_schema
from passgate.graph_api.representations import entity_context

register_schema("organization", org.SCHEMA)
register_schema("organization.collection", js.obj(
    {"@odata.context": js.STRING, "value": js.array(js.ref("organization"))}, required=["@odata.context", "value"],
    title="Collection(microsoft.graph.organization)"))

QUERY = QuerySpec(type_name="microsoft.graph.organization", entity="Organization",
                  selectable=tuple(k for k in org.SCHEMA["properties"] if not k.startswith("@")), filterable={})


def _organization(call: Call) -> dict[str, object]:
    return org.organization_json(origin=call.origin, display_name=settings.PASSGATE.rp_name,
                                 domain=settings.PASSGATE.rp_id)


@endpoint("GET", "/organization", operation=None, tag="organization", summary="List organizations (one)",
          responses={200: "organization.collection"}, query=("$select",), any_caller=True)
def organization_list(call: Call) -> Response:
    """Any caller with a token or a session may read it (Graph lets every signed-in user read their organization):
    the name and domain are what the sign-in page shows anyway."""
    query = call.query(QUERY, collection=True, supported=("$select",))
    return Response({"@odata.context": call.metadata(entity_context("organization", query.select, single=False)),
                     "value": [project(_organization(call), query.select)]})


@endpoint("GET", "/organization/{organization-id}", operation=None, tag="organization", summary="Get the organization",
          responses={200: "organization"}, query=("$select",), any_caller=True)
def organization_get(call: Call, organization_id: str) -> Response:
    query = call.query(QUERY, collection=False, supported=("$select",))
    found = _organization(call)
    if organization_id.lower() != found["id"]:
        raise GraphError.not_found(organization_id)
    return Response({"@odata.context": call.metadata(entity_context("organization", query.select, single=True)),
                     **project(found, query.select)})
