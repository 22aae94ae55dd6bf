"""Conditional Access: Graph's ``conditionalAccessPolicy`` (the subset Passgate implements) and its evaluation.

As in Entra, a policy applies to a sign-in when the person is included (``All``, their id, one of their
groups or directory roles) and not excluded (an exclusion always wins), and the application is included
and not excluded, or the request is a user action the policy names (``urn:user:registersecurityinfo``,
adding a passkey or another method). An enabled policy that applies either blocks (``block`` wins over
everything) or grants access once its controls are met: ``mfa`` is the built-in Multifactor
authentication strength, ``authenticationStrength`` a built-in or custom strength; operator ``AND`` needs
every control, ``OR`` one. Report-only policies are evaluated and reported but never change the outcome;
disabled ones are reported ``notEnabled``. With no policy applying, access is allowed.

Where Passgate differs from Entra:

- Conditions are users, groups, directory roles, applications and the security-info user action only.
  ``MicrosoftAdminPortals`` means the Passgate admin centre (:data:`ADMIN_CENTRE_APP_ID`). Every other
  real condition (platforms, locations, risk levels, devices, client applications, guests, authentication
  contexts, ...) is refused with ``notSupported`` unless it is null or empty; ``clientAppTypes`` is
  ``["all"]`` or absent. ``includeApplications`` and ``includeUserActions`` are mutually exclusive and one
  is required; ``All`` and ``None`` stand alone in a list. A repeated id is refused.
- ``grantControls`` is required (Passgate has no session controls); ``builtInControls`` may be ``block``
  and ``mfa`` only (others are refused, named, with ``notSupported``); ``block`` stands alone; ``mfa`` and
  ``authenticationStrength`` can't both be present (Entra refuses that too); a grant control is required.
- PATCH merges objects into objects and replaces arrays (OData); read-only properties (``id``,
  ``createdDateTime``, ``modifiedDateTime``, ``templateId``) are refused on PATCH, and on POST when they
  differ from what Passgate sets (null counts as absent).
- A policy whose authentication strength no longer exists blocks (fails closed) rather than asking for a
  step-up nobody can satisfy.
- ``enforcedGrantControls`` of a result lists the policy's controls when it applied, and nothing otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum, unique
from typing import Final

from passgate.core.access.methods import Authentication
from passgate.core.access.strengths import (
    MULTIFACTOR_ID,
    AuthenticationStrength,
    find_strength,
    strength_check,
    strength_requirement,
)
from passgate.core.policy.errors import POLICY_RULE, PolicyValidationError

ADMIN_CENTRE_APP_ID: Final = "a7c2b5d1-6f0e-4c43-9b59-2f2d5a0c9e11"  # the Passgate admin centre as a CA target
REGISTER_SECURITY_INFO: Final = "urn:user:registersecurityinfo"
ALL: Final = "All"
NONE: Final = "None"
ADMIN_PORTALS: Final = "MicrosoftAdminPortals"
BLOCK: Final = "block"
MFA: Final = "mfa"
OPERATORS: Final = ("AND", "OR")
MAX_DISPLAY_NAME: Final = 256

# Graph's appliedConditionalAccessPolicy results and enforcedGrantControls labels.
SUCCESS: Final = "success"
FAILURE: Final = "failure"
NOT_APPLIED: Final = "notApplied"
NOT_ENABLED: Final = "notEnabled"
REPORT_ONLY_SUCCESS: Final = "reportOnlySuccess"
REPORT_ONLY_FAILURE: Final = "reportOnlyFailure"
REPORT_ONLY_NOT_APPLIED: Final = "reportOnlyNotApplied"
CONTROL_BLOCK: Final = "block"
CONTROL_MFA: Final = "Mfa"
CONTROL_STRENGTH: Final = "RequireAuthenticationStrength"


@unique
class PolicyState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    REPORT_ONLY = "enabledForReportingButNotEnforced"


@dataclass(frozen=True, slots=True)
class GrantControls:
    """``conditionalAccessGrantControls``: what a person must do to be let in (or ``block``)."""

    operator: str  # "AND" | "OR"
    built_in_controls: tuple[str, ...]  # "block" and "mfa" only
    authentication_strength_id: str | None
    # The strength's display name when the policy was last written (for Graph JSON); not part of equality.
    authentication_strength_name: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ConditionalAccessPolicy:
    """``conditionalAccessPolicy``: ids lower-case; ``All``, ``None``, ``MicrosoftAdminPortals`` as Graph has them."""

    id: str
    display_name: str
    state: PolicyState
    include_users: tuple[str, ...]  # user ids, or "All" / "None"
    exclude_users: tuple[str, ...]
    include_groups: tuple[str, ...]
    exclude_groups: tuple[str, ...]
    include_roles: tuple[str, ...]  # directory role template ids
    exclude_roles: tuple[str, ...]
    include_applications: tuple[str, ...]  # client ids, "All", "None", "MicrosoftAdminPortals"
    exclude_applications: tuple[str, ...]  # client ids, "MicrosoftAdminPortals"
    include_user_actions: tuple[str, ...]  # REGISTER_SECURITY_INFO only
    grant_controls: GrantControls | None
    created: datetime | None = None
    modified: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """Who is signing in to what: the person, their groups and directory roles, and the app or user action."""

    user_id: str
    group_ids: frozenset[str]
    role_template_ids: frozenset[str]
    application_id: str | None = None  # the client id of the app being signed in to (or ADMIN_CENTRE_APP_ID)
    user_action: str | None = None  # REGISTER_SECURITY_INFO


@unique
class Outcome(StrEnum):
    ALLOW = "allow"
    STEP_UP = "stepUp"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class PolicyResult:
    """One row of Graph's ``appliedConditionalAccessPolicy``."""

    policy_id: str
    display_name: str
    result: str  # success | failure | notApplied | notEnabled | reportOnlySuccess | reportOnlyFailure | ...NotApplied
    enforced_grant_controls: tuple[str, ...]  # ("block",), ("Mfa",), ("RequireAuthenticationStrength",)
    reason: str | None  # for a failure: what was missing, in a sentence


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """The outcome of every policy together, with a row per policy (in id order) for the sign-in log."""

    outcome: Outcome
    results: tuple[PolicyResult, ...]
    required_strengths: tuple[AuthenticationStrength, ...]  # STEP_UP: the unmet strengths (mfa = Multifactor)
    blocking_policy_ids: tuple[str, ...]
    message: str | None  # one human sentence for the step-up or block page, naming the rule that failed


# ---------------------------------------------------------------------------------------------- evaluation


def _lower(values: Sequence[str] | frozenset[str]) -> set[str]:
    return {value.lower() for value in values}


def _applications(values: Sequence[str]) -> set[str]:
    return {ADMIN_CENTRE_APP_ID if value == ADMIN_PORTALS else value.lower() for value in values}


def user_in_scope(policy: ConditionalAccessPolicy, request: AccessRequest) -> bool:
    """Included (All, by id, group or role) and not excluded: an exclusion always wins."""
    user, groups, roles = request.user_id.lower(), _lower(request.group_ids), _lower(request.role_template_ids)
    if user in _lower(policy.exclude_users) or groups & _lower(policy.exclude_groups) or \
            roles & _lower(policy.exclude_roles):
        return False
    return (ALL in policy.include_users or user in _lower(policy.include_users)
            or bool(groups & _lower(policy.include_groups)) or bool(roles & _lower(policy.include_roles)))


def _matched_user_action(policy: ConditionalAccessPolicy, request: AccessRequest) -> bool:
    action = request.user_action
    return action is not None and action.lower() in _lower(policy.include_user_actions)


def application_in_scope(policy: ConditionalAccessPolicy, request: AccessRequest) -> bool:
    """The request's user action is one the policy names, or its application is included and not excluded."""
    if _matched_user_action(policy, request):
        return True
    if request.application_id is None:
        return False
    app = request.application_id.lower()
    if app in _applications(policy.exclude_applications):
        return False
    return ALL in policy.include_applications or app in _applications(policy.include_applications)


def policy_applies(policy: ConditionalAccessPolicy, request: AccessRequest) -> bool:
    return user_in_scope(policy, request) and application_in_scope(policy, request)


def _controls(grant: GrantControls) -> tuple[str, ...]:
    labels: list[str] = []
    if BLOCK in grant.built_in_controls:
        labels.append(CONTROL_BLOCK)
    if MFA in grant.built_in_controls:
        labels.append(CONTROL_MFA)
    if grant.authentication_strength_id is not None:
        labels.append(CONTROL_STRENGTH)
    return tuple(labels)


def _what(policy: ConditionalAccessPolicy, request: AccessRequest) -> str:
    if _matched_user_action(policy, request):
        return "adding sign-in methods (security info)"
    if request.application_id is not None and request.application_id.lower() == ADMIN_CENTRE_APP_ID:
        return "the admin centre"
    return "this app"


@dataclass(frozen=True, slots=True)
class _Verdict:
    granted: bool
    blocks: bool  # refused outright (block, or a strength that no longer exists): no step-up helps
    unmet: tuple[AuthenticationStrength, ...]
    reason: str | None


def _grant_verdict(policy: ConditionalAccessPolicy, request: AccessRequest, auth: Authentication | None,
                   strengths: Mapping[str, AuthenticationStrength],
                   name_of: Callable[[str], str | None]) -> _Verdict:
    grant = policy.grant_controls
    if grant is None:
        return _Verdict(granted=True, blocks=False, unmet=(), reason=None)
    if BLOCK in grant.built_in_controls:
        return _Verdict(granted=False, blocks=True, unmet=(), reason=f"The Conditional Access policy "
                        f"{policy.display_name!r} blocks {_what(policy, request)}.")
    wanted = ([MULTIFACTOR_ID] if MFA in grant.built_in_controls else []) + (
        [grant.authentication_strength_id] if grant.authentication_strength_id is not None else [])
    if not wanted:
        return _Verdict(granted=True, blocks=False, unmet=(), reason=None)
    found = {strength_id: find_strength(strength_id, strengths) for strength_id in wanted}
    gone = [strength_id for strength_id, strength in found.items() if strength is None]
    if gone:
        return _Verdict(granted=False, blocks=True, unmet=(),
                        reason=f"The Conditional Access policy {policy.display_name!r} requires an authentication "
                               f"strength ({gone[0]}) that no longer exists, so it blocks {_what(policy, request)}.")
    required = [strength for strength in found.values() if strength is not None]
    unmet: list[AuthenticationStrength] = []
    reasons: list[str] = []
    for strength in required:
        if auth is not None:
            check = strength_check(strength, auth, name_of=name_of)
            if check.satisfied:
                continue
            reasons.append(check.reason or strength_requirement(strength, name_of=name_of))
        else:
            reasons.append(strength_requirement(strength, name_of=name_of))
        unmet.append(strength)
    granted = not unmet if grant.operator == "AND" else len(unmet) < len(required)
    if granted:
        return _Verdict(granted=True, blocks=False, unmet=(), reason=None)
    if grant.operator != "AND" and len(unmet) > 1:
        reason = "Satisfy one of these: " + " Or: ".join(reasons)
    else:
        reason = " ".join(reasons)
    return _Verdict(granted=False, blocks=False, unmet=tuple(unmet), reason=reason)


def evaluate_access(policies: Sequence[ConditionalAccessPolicy], request: AccessRequest, auth: Authentication | None,
                    *, strengths: Mapping[str, AuthenticationStrength],
                    name_of: Callable[[str], str | None] = lambda _: None) -> AccessDecision:
    """What Conditional Access decides for ``request``, given what the session has proven (None before sign-in).

    BLOCK when an enabled policy that applies blocks; else STEP_UP when one has unmet controls
    (``required_strengths``: every unmet strength of every such policy, each once, in policy-id order; after a
    step-up the caller evaluates again); else ALLOW. ``auth`` None counts every requirement unmet.
    ``strengths`` holds the custom strengths (built-ins are always known); ``name_of`` names passkey models.
    """
    results: list[PolicyResult] = []
    blocking: list[str] = []
    required: list[AuthenticationStrength] = []
    block_message: str | None = None
    step_up_message: str | None = None
    for policy in sorted(policies, key=lambda p: p.id):
        if policy.state is PolicyState.DISABLED:
            results.append(PolicyResult(policy.id, policy.display_name, NOT_ENABLED, (), None))
            continue
        report_only = policy.state is PolicyState.REPORT_ONLY
        if not policy_applies(policy, request):
            results.append(PolicyResult(policy.id, policy.display_name,
                                        REPORT_ONLY_NOT_APPLIED if report_only else NOT_APPLIED, (), None))
            continue
        controls = _controls(policy.grant_controls) if policy.grant_controls is not None else ()
        verdict = _grant_verdict(policy, request, auth, strengths, name_of)
        if verdict.granted:
            results.append(PolicyResult(policy.id, policy.display_name,
                                        REPORT_ONLY_SUCCESS if report_only else SUCCESS, controls, None))
            continue
        results.append(PolicyResult(policy.id, policy.display_name,
                                    REPORT_ONLY_FAILURE if report_only else FAILURE, controls, verdict.reason))
        if report_only:
            continue
        if verdict.blocks:
            blocking.append(policy.id)
            block_message = block_message or verdict.reason
        else:
            required.extend(s for s in verdict.unmet if all(s.id != r.id for r in required))
            step_up_message = step_up_message or (f"The Conditional Access policy {policy.display_name!r} asks for "
                                                  f"more. {verdict.reason}")
    if blocking:
        return AccessDecision(Outcome.BLOCK, tuple(results), (), tuple(blocking), block_message)
    if required:
        return AccessDecision(Outcome.STEP_UP, tuple(results), tuple(required), (), step_up_message)
    return AccessDecision(Outcome.ALLOW, tuple(results), (), (), None)


def change_locks_out(before: Sequence[ConditionalAccessPolicy], after: Sequence[ConditionalAccessPolicy],
                     candidates: Sequence[tuple[AccessRequest, Sequence[Authentication]]], *,
                     strengths: Mapping[str, AuthenticationStrength]) -> bool:
    """Whether replacing the policies ``before`` by ``after`` locks every candidate out: before, at least one
    candidate (a request, and each way they can sign in) was allowed; after, none is. With no candidate able to get
    in before, nothing is taken away, so nothing counts as a lock-out."""

    def anyone_allowed(policies: Sequence[ConditionalAccessPolicy]) -> bool:
        return any(evaluate_access(policies, request, auth, strengths=strengths).outcome is Outcome.ALLOW
                   for request, auths in candidates for auth in auths)

    return anyone_allowed(before) and not anyone_allowed(after)


_APPLIED: Final = frozenset({"success", "failure"})
_STRENGTH_CONTROLS: Final = frozenset({"RequireAuthenticationStrength", "Mfa"})


def conditional_access_status(decision: AccessDecision | None) -> str:
    """Graph's ``signIn.conditionalAccessStatus``: failure if an enforced policy wasn't met, success if one was,
    else notApplied (report-only results never count)."""
    results = {r.result for r in decision.results} if decision is not None else set()
    if "failure" in results:
        return "failure"
    return "success" if "success" in results else "notApplied"


def authentication_requirement(decision: AccessDecision | None) -> str:
    """Graph's ``signIn.authenticationRequirement``: multiFactorAuthentication when an enforced policy that applied
    required a strength or MFA, else singleFactorAuthentication."""
    strong = decision is not None and any(
        r.result in _APPLIED and _STRENGTH_CONTROLS & set(r.enforced_grant_controls) for r in decision.results)
    return "multiFactorAuthentication" if strong else "singleFactorAuthentication"


def strength_usage(strength_id: str,
                   policies: Sequence[ConditionalAccessPolicy]) -> tuple[ConditionalAccessPolicy, ...]:
    """The policies whose grant controls name this authentication strength (Graph's ``usage``), in the given order."""
    wanted = strength_id.lower()
    return tuple(p for p in policies if p.grant_controls is not None
                 and (p.grant_controls.authentication_strength_id or "").lower() == wanted)


def strength_delete_check(strength: AuthenticationStrength, policies: Sequence[ConditionalAccessPolicy]) -> None:
    """Refuse deleting a built-in strength, or one a Conditional Access policy uses (as Entra does)."""
    if strength.is_built_in:
        raise PolicyValidationError("Built-in authentication strengths cannot be deleted", target="", code=POLICY_RULE)
    users = strength_usage(strength.id, policies)
    if users:
        names = ", ".join(repr(p.display_name) for p in users)
        raise PolicyValidationError(f"The authentication strength {strength.display_name!r} is used by the Conditional "
                                    f"Access {'policy' if len(users) == 1 else 'policies'} {names}; change "
                                    f"{'it' if len(users) == 1 else 'them'} first", target="", code=POLICY_RULE)
