"""Shared values and builders for the access tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from passgate.core.access.conditional_access import (
    ConditionalAccessPolicy,
    GrantControls,
    PolicyState,
)
from passgate.core.access.methods import Authentication, AuthMethodMode, MethodUse
from passgate.core.access.strengths import AuthenticationStrength, strength_from_graph

NOW = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(days=2)

ALICE = "6a1c4b0e-0a51-4c6e-9a0d-0c1b6e1e2a01"
BOB = "6a1c4b0e-0a51-4c6e-9a0d-0c1b6e1e2a02"
ENGINEERING = "0d6d2c8a-6a9e-4a5b-8c41-7f1f7b6b0001"
CONTRACTORS = "0d6d2c8a-6a9e-4a5b-8c41-7f1f7b6b0002"
GLOBAL_ADMIN_ROLE = "62e90394-69f5-4237-9190-012177145e10"
HELPDESK_ROLE = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
PAYROLL_APP = "4f8a3a52-7d1e-4b5f-9a33-1c2b3d4e5f60"
WIKI_APP = "4f8a3a52-7d1e-4b5f-9a33-1c2b3d4e5f61"
YUBIKEY_5 = "2fc0579f-8113-47ea-b116-bb5a8db9202a"
FEITIAN = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
ICLOUD = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
NIL = "00000000-0000-0000-0000-000000000000"
STRENGTH_ID = "3b0f7a2e-5f7c-4c2e-8f0e-2d4c6a8b0c01"
OTHER_STRENGTH_ID = "3b0f7a2e-5f7c-4c2e-8f0e-2d4c6a8b0c02"
POLICY_ID = "9c1d2e3f-4a5b-4c6d-8e7f-001122334455"
MODEL_NAMES = {YUBIKEY_5: "YubiKey 5 Series", FEITIAN: "Feitian ePass"}


def name_of(aaguid: str) -> str | None:
    return MODEL_NAMES.get(aaguid)


def passkey(aaguid: str | None = YUBIKEY_5, *, device_bound: bool | None = True,
            at: datetime = NOW, method_id: str | None = None) -> MethodUse:
    return MethodUse(AuthMethodMode.FIDO2, at, aaguid=aaguid, device_bound=device_bound, method_id=method_id)


def use(mode: AuthMethodMode, at: datetime = NOW, method_id: str | None = None) -> MethodUse:
    return MethodUse(mode, at, method_id=method_id)


def session(*uses: MethodUse, user_id: str = ALICE) -> Authentication:
    return Authentication(user_id=user_id, methods=uses)


def strength_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"displayName": "Contractor keys", "description": "Security keys we hand out",
                            "allowedCombinations": ["fido2"]}
    body.update(extra)
    return body


def fido2_config(*aaguids: str, **extra: Any) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.fido2CombinationConfiguration", "appliesToCombinations": ["fido2"],
            "allowedAAGUIDs": list(aaguids or (YUBIKEY_5,)), **extra}


def contractor_keys() -> AuthenticationStrength:
    """A custom strength: a YubiKey 5 or Feitian passkey, or an app code together with a one-time pass."""
    return strength_from_graph(strength_body(allowedCombinations=["fido2", "softwareOath,temporaryAccessPassOneTime"],
                                             combinationConfigurations=[fido2_config(YUBIKEY_5, FEITIAN)]),
                               id=STRENGTH_ID, now=NOW)


def policy_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "displayName": "Require MFA for payroll",
        "state": "enabled",
        "conditions": {"users": {"includeUsers": ["All"]},
                       "applications": {"includeApplications": [PAYROLL_APP]},
                       "clientAppTypes": ["all"]},
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    }
    body.update(extra)
    return body


def policy(*, policy_id: str = POLICY_ID, name: str = "Policy", state: PolicyState = PolicyState.ENABLED,
           include_users: tuple[str, ...] = ("All",), exclude_users: tuple[str, ...] = (),
           include_groups: tuple[str, ...] = (), exclude_groups: tuple[str, ...] = (),
           include_roles: tuple[str, ...] = (), exclude_roles: tuple[str, ...] = (),
           include_applications: tuple[str, ...] = ("All",), exclude_applications: tuple[str, ...] = (),
           include_user_actions: tuple[str, ...] = (), controls: tuple[str, ...] = ("mfa",),
           strength_id: str | None = None, operator: str = "OR") -> ConditionalAccessPolicy:
    return ConditionalAccessPolicy(
        id=policy_id, display_name=name, state=state, include_users=include_users, exclude_users=exclude_users,
        include_groups=include_groups, exclude_groups=exclude_groups, include_roles=include_roles,
        exclude_roles=exclude_roles, include_applications=include_applications,
        exclude_applications=exclude_applications, include_user_actions=include_user_actions,
        grant_controls=GrantControls(operator=operator, built_in_controls=controls,
                                     authentication_strength_id=strength_id))
