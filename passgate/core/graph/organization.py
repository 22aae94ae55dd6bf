"""Graph's ``organization``: the one tenant a Passgate installation is (pure).

Its properties are those of ``EntityType organization`` (and ``directoryObject``'s ``deletedDateTime``) in Graph's
v1.0 CSDL (microsoftgraph/msgraph-metadata ``schemas/v1.0-Prod.csdl``, commit f54f11b6, MIT licence; the elements
are copied in passgate/graph_api/data/graph-v1.0.csdl, which tests/graph/test_openapi_csdl.py checks this schema
against). Passgate keeps none of the postal, plan or notification data: those are null, or [] for the
collections Graph declares non-nullable. ``mobileDeviceManagementAuthority`` (a non-nullable ``mdmAuthority``) is
``unknown``: Passgate is no MDM authority.

- ``id``: Passgate has no tenant id, so it is a name-based UUID (RFC 9562 version 5) of the public origin: stable
  while the origin stays, the same on every worker.
- ``displayName``: the relying-party name people see (``PASSGATE_RP_NAME``).
- ``verifiedDomains``: the relying-party id (the domain passkeys are bound to), Passgate's one domain: default and
  initial, ``type`` ``Managed``.
"""

from __future__ import annotations

import uuid
from typing import Any

from passgate.core.graph import jsonschema as js

TYPE = "#microsoft.graph.organization"

_STRING_LISTS = ("businessPhones", "marketingNotificationEmails", "securityComplianceNotificationMails",
                 "securityComplianceNotificationPhones", "technicalNotificationMails")
_OBJECT_LISTS = ("assignedPlans", "provisionedPlans")
_NULL_STRINGS = ("city", "country", "countryLetterCode", "defaultUsageLocation", "postalCode", "preferredLanguage",
                 "state", "street", "tenantType", "partnerTenantType")
_NULL_DATES = ("deletedDateTime", "createdDateTime", "onPremisesLastSyncDateTime")

VERIFIED_DOMAIN = js.obj({"capabilities": js.nullable(js.STRING), "isDefault": js.nullable(js.BOOLEAN),
                          "isInitial": js.nullable(js.BOOLEAN), "name": js.nullable(js.STRING),
                          "type": js.nullable(js.STRING)}, title="verifiedDomain")

SCHEMA = js.obj({
    "@odata.context": js.STRING,  # on GET /organization/{id}
    "@odata.type": js.STRING,
    "id": js.STRING,
    "displayName": js.nullable(js.STRING),
    "verifiedDomains": js.array(VERIFIED_DOMAIN),
    "mobileDeviceManagementAuthority": js.string(enum=["unknown", "intune", "sccm", "office365"]),
    "onPremisesSyncEnabled": js.nullable(js.BOOLEAN),
    "privacyProfile": js.nullable(js.obj({"contactEmail": js.nullable(js.STRING),
                                          "statementUrl": js.nullable(js.STRING)}, title="privacyProfile")),
    **{name: js.array(js.STRING) for name in _STRING_LISTS},
    "assignedPlans": js.array(js.obj({"assignedDateTime": js.nullable(js.DATETIME),
                                      "capabilityStatus": js.nullable(js.STRING), "service": js.nullable(js.STRING),
                                      "servicePlanId": js.nullable(js.STRING)}, title="assignedPlan")),
    "provisionedPlans": js.array(js.obj({"capabilityStatus": js.nullable(js.STRING),
                                         "provisioningStatus": js.nullable(js.STRING),
                                         "service": js.nullable(js.STRING)}, title="provisionedPlan")),
    **{name: js.nullable(js.STRING) for name in _NULL_STRINGS},
    **{name: js.nullable(js.DATETIME) for name in _NULL_DATES},
}, title="microsoft.graph.organization",
    description="The Passgate installation as Graph's organization (one).")


def tenant_id(origin: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, origin.rstrip("/").lower()))


def organization_json(*, origin: str, display_name: str, domain: str) -> dict[str, Any]:
    out: dict[str, Any] = {"@odata.type": TYPE, "id": tenant_id(origin), "displayName": display_name}
    out.update({name: [] for name in (*_STRING_LISTS, *_OBJECT_LISTS)})
    out.update({name: None for name in (*_NULL_STRINGS, *_NULL_DATES)})
    out.update({"mobileDeviceManagementAuthority": "unknown", "onPremisesSyncEnabled": None, "privacyProfile": None,
                "verifiedDomains": [{"capabilities": "None", "isDefault": True, "isInitial": True, "name": domain,
                                     "type": "Managed"}]})
    return out
