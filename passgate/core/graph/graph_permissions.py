"""Microsoft Graph's application permissions as Graph names them in ``requiredResourceAccess``: the ids of the app
roles of Graph's service principal, from the Microsoft Graph permissions reference
(https://learn.microsoft.com/graph/permissions-reference, "Application" identifiers)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from passgate.core.graph.authz import Permission

GRAPH_APP_ROLE_IDS: Mapping[Permission, str] = MappingProxyType({
    Permission.POLICY_READ_ALL: "246dd0d5-5bd0-4def-940b-0421030a5b68",
    Permission.POLICY_READWRITE_AUTHENTICATION_METHOD: "29c18626-4985-4dcd-85c0-193eef327366",
    Permission.POLICY_READWRITE_CONDITIONAL_ACCESS: "01c0a623-fc9b-48e9-b794-0756f8e8f067",
    Permission.USER_READ_ALL: "df021288-bdef-4463-88db-98f22de89214",
    Permission.USER_READWRITE_ALL: "741f803b-c850-494e-b5df-cde7c675a1ca",
    Permission.USER_REVOKE_SESSIONS_ALL: "77f3a031-c388-4f99-b373-dc68676a979e",
    Permission.GROUP_READ_ALL: "5b567255-7703-4780-807c-7be8301ae99b",
    Permission.GROUP_READWRITE_ALL: "62a82d76-70ea-41e2-9197-370581804d09",
    Permission.USER_AUTHENTICATION_METHOD_READ_ALL: "38d9df27-64da-44fd-b7c5-a6fbac20248f",
    Permission.USER_AUTHENTICATION_METHOD_READWRITE_ALL: "50483e42-d915-4231-9639-7fdb7fd190e5",
    Permission.AUDIT_LOG_READ_ALL: "b0afded3-3588-46d8-8b3d-9842eff778da",
    Permission.APPLICATION_READ_ALL: "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    Permission.APPLICATION_READWRITE_ALL: "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    Permission.DEVICE_READ_ALL: "7438b122-aefc-4978-80ed-43db9fcc7715",
    Permission.DEVICE_READWRITE_ALL: "1138cb37-bd11-4084-a2b7-9f71582aeddb",
    Permission.DEVICE_MANAGEMENT_CONFIGURATION_READ_ALL: "dc377aa6-52d8-4e23-b271-2a7ae04cedf3",
    Permission.DEVICE_MANAGEMENT_CONFIGURATION_READWRITE_ALL: "9241abd9-d0e6-425a-bd4f-47ba86e767a4",
    Permission.ROLE_MANAGEMENT_READ_DIRECTORY: "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
    Permission.ROLE_MANAGEMENT_READWRITE_DIRECTORY: "9e3f62cf-ca93-4989-b6ce-bf83c28f9fe8",
    Permission.APP_ROLE_ASSIGNMENT_READWRITE_ALL: "06b708a9-e830-4db3-a914-8e69da51d44f",
})
PERMISSION_BY_ROLE_ID: Mapping[str, str] = {role_id: p.value for p, role_id in GRAPH_APP_ROLE_IDS.items()}
