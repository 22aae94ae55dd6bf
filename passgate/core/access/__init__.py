"""Access decisions as values: what a session has proven, authentication strengths, and Conditional Access.

Pure Python (the standard library and ``passgate.core`` only): Graph JSON in, frozen dataclasses out,
decisions from values. Times are passed in; nothing here reads a clock.

- :mod:`~passgate.core.access.methods`: :class:`Authentication`, the methods a session used, and its ``amr``.
- :mod:`~passgate.core.access.strengths`: Graph's ``authenticationStrengthPolicy`` and the ``acr`` of a session.
- :mod:`~passgate.core.access.conditional_access`: Graph's ``conditionalAccessPolicy`` and :func:`evaluate_access`;
  :mod:`~passgate.core.access.conditional_access_graph` reads and writes it as Graph JSON.
"""

from __future__ import annotations

from passgate.core.access.conditional_access import (
    ADMIN_CENTRE_APP_ID,
    REGISTER_SECURITY_INFO,
    AccessDecision,
    AccessRequest,
    ConditionalAccessPolicy,
    GrantControls,
    Outcome,
    PolicyResult,
    PolicyState,
    authentication_requirement,
    change_locks_out,
    conditional_access_status,
    evaluate_access,
    policy_applies,
    strength_delete_check,
    strength_usage,
)
from passgate.core.access.conditional_access_graph import (
    ca_policy_apply_patch,
    ca_policy_from_document,
    ca_policy_from_graph,
    ca_policy_to_graph,
)
from passgate.core.access.methods import (
    PASSGATE_MODES,
    Authentication,
    AuthMethodMode,
    MethodUse,
    amr,
    authentication_from_json,
    authentication_to_json,
)
from passgate.core.access.strengths import (
    BUILT_IN_STRENGTHS,
    MULTIFACTOR_ID,
    PASSWORDLESS_MFA_ID,
    PHISHING_RESISTANT_MFA_ID,
    AuthenticationStrength,
    Fido2CombinationConfiguration,
    StrengthCheck,
    acr_for,
    find_strength,
    strength_apply_patch,
    strength_check,
    strength_from_document,
    strength_from_graph,
    strength_requirement,
    strength_to_graph,
)

__all__ = [
    "ADMIN_CENTRE_APP_ID",
    "BUILT_IN_STRENGTHS",
    "MULTIFACTOR_ID",
    "PASSGATE_MODES",
    "PASSWORDLESS_MFA_ID",
    "PHISHING_RESISTANT_MFA_ID",
    "REGISTER_SECURITY_INFO",
    "AccessDecision",
    "AccessRequest",
    "AuthMethodMode",
    "Authentication",
    "AuthenticationStrength",
    "ConditionalAccessPolicy",
    "Fido2CombinationConfiguration",
    "GrantControls",
    "MethodUse",
    "Outcome",
    "PolicyResult",
    "PolicyState",
    "StrengthCheck",
    "acr_for",
    "amr",
    "authentication_from_json",
    "authentication_requirement",
    "authentication_to_json",
    "ca_policy_apply_patch",
    "ca_policy_from_document",
    "ca_policy_from_graph",
    "ca_policy_to_graph",
    "change_locks_out",
    "conditional_access_status",
    "evaluate_access",
    "find_strength",
    "policy_applies",
    "strength_apply_patch",
    "strength_check",
    "strength_delete_check",
    "strength_from_document",
    "strength_from_graph",
    "strength_requirement",
    "strength_to_graph",
    "strength_usage",
]
