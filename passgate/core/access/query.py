"""The query options Graph documents for Conditional Access policies and authentication strengths (pure).

- ``GET /identity/conditionalAccess/policies``: "This method supports the $skip, $top, $count, $filter, $orderby,
  and $select OData query parameters" (Graph v1.0, List policies). Passgate filters on ``id``, ``displayName``
  (``eq``, ``startswith``) and ``state`` (``eq``, ``in``, ``ne``), sorts by ``displayName``, ``createdDateTime`` or
  ``modifiedDateTime``.
- ``GET /policies/authenticationStrengthPolicies``: "This method supports the $filter OData query parameter on the
  policyType and policyName properties" (List authenticationStrengthPolicies; there is no ``policyName``
  property, so Passgate reads it as ``displayName``). Nothing else.

Both are small in-memory collections: ``odata.evaluate`` filters and sorts their Graph JSON.
"""

from __future__ import annotations

from passgate.core.access.conditional_access import PolicyState
from passgate.core.access.strengths import BUILT_IN, CUSTOM
from passgate.core.graph.odata import FilterKind, FilterProp, QuerySpec

_EQ = frozenset({"eq", "in", "ne"})
_TEXT = _EQ | {"startswith"}

CA_POLICY_OPTIONS = ("$skip", "$top", "$count", "$filter", "$orderby", "$select")
CA_POLICY_QUERY = QuerySpec(
    type_name="microsoft.graph.conditionalAccessPolicy", entity="ConditionalAccessPolicy",
    # the properties of conditionalAccessPolicy in Graph's v1.0 CSDL
    selectable=("id", "displayName", "description", "createdDateTime", "modifiedDateTime", "state", "templateId",
                "conditions", "grantControls", "sessionControls"),
    filterable={
        "id": FilterProp(FilterKind.STRING, _EQ),
        "displayName": FilterProp(FilterKind.STRING, _TEXT),
        "state": FilterProp(FilterKind.STRING, _EQ, tuple(s.value for s in PolicyState)),
    },
    orderable=("displayName", "createdDateTime", "modifiedDateTime"),
)

STRENGTH_OPTIONS = ("$filter",)
STRENGTH_QUERY = QuerySpec(
    type_name="microsoft.graph.authenticationStrengthPolicy", entity="AuthenticationStrengthPolicy",
    selectable=(),
    filterable={
        "policyType": FilterProp(FilterKind.STRING, frozenset({"eq"}), (BUILT_IN, CUSTOM)),
        "displayName": FilterProp(FilterKind.STRING, frozenset({"eq"})),
    },
)

# A user's authentication methods: "This method does not support optional query parameters to customize the
# response" (List methods, List fido2AuthenticationMethod, List softwareOathMethods, List
# temporaryAccessPassAuthenticationMethods, and their Get pages).
NO_OPTIONS: tuple[str, ...] = ()
METHODS_QUERY = QuerySpec(type_name="microsoft.graph.authenticationMethod", entity="AuthenticationMethod",
                          selectable=(), filterable={})
