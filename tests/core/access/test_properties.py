"""Properties over random sessions, strengths, policies and requests, and over random JSON for the parsers."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from passgate.core.access.conditional_access import (
    AccessRequest,
    ConditionalAccessPolicy,
    GrantControls,
    Outcome,
    PolicyState,
    evaluate_access,
    policy_applies,
)
from passgate.core.access.conditional_access_graph import (
    ca_policy_apply_patch,
    ca_policy_from_document,
    ca_policy_from_graph,
    ca_policy_to_graph,
)
from passgate.core.access.methods import Authentication, AuthMethodMode, MethodUse
from passgate.core.access.strengths import (
    BUILT_IN_STRENGTHS,
    MULTIFACTOR,
    PASSWORDLESS_MFA,
    PHISHING_RESISTANT_MFA,
    AuthenticationStrength,
    acr_for,
    combination_modes,
    find_strength,
    strength_apply_patch,
    strength_check,
    strength_from_document,
    strength_from_graph,
    strength_to_graph,
)
from passgate.core.policy.errors import PolicyValidationError
from tests.core.access.helpers import LATER, STRENGTH_ID, contractor_keys
from tests.core.access.strategies import (
    POLICY_IDS,
    authentications,
    ca_policies,
    custom_strengths,
    json_values,
    method_uses,
    passgate_authentications,
    policy_lists,
    requests,
    strength_maps,
)

_READ_ONLY_STRENGTH = ("id", "policyType", "requirementsSatisfied", "createdDateTime", "modifiedDateTime")
_READ_ONLY_POLICY = ("id", "createdDateTime", "modifiedDateTime")
known_ids = st.sampled_from((*BUILT_IN_STRENGTHS, STRENGTH_ID, "urn:unknown", "0"))


# ---------------------------------------------------------------------------------------------- strengths


@given(custom_strengths() | st.sampled_from(list(BUILT_IN_STRENGTHS.values())), authentications())
def test_strength_check_is_its_definition(strength: AuthenticationStrength, auth: Authentication) -> None:
    config = strength.fido2_configuration
    models = {use.aaguid for use in auth.methods if use.mode is AuthMethodMode.FIDO2}

    def met(combination: str) -> bool:
        modes = combination_modes(combination)
        return modes <= auth.modes and (AuthMethodMode.FIDO2 not in modes or config is None
                                        or bool(models & set(config.allowed_aaguids)))

    check = strength_check(strength, auth)
    assert check.satisfied == any(met(c) for c in strength.allowed_combinations)
    if check.satisfied:
        assert check.combination in strength.allowed_combinations
        assert check.combination is not None
        assert met(check.combination)
        assert check.reason is None
    else:
        assert check.combination is None
        assert check.reason
        assert strength.display_name in check.reason


@given(custom_strengths() | st.sampled_from(list(BUILT_IN_STRENGTHS.values())), authentications(), method_uses())
def test_a_step_up_never_loses_a_strength(strength: AuthenticationStrength, auth: Authentication,
                                          extra: MethodUse) -> None:
    if strength_check(strength, auth).satisfied:
        assert strength_check(strength, auth.with_method(extra)).satisfied


@given(authentications())
def test_built_ins_are_nested(auth: Authentication) -> None:
    if strength_check(PHISHING_RESISTANT_MFA, auth).satisfied:
        assert strength_check(PASSWORDLESS_MFA, auth).satisfied
    if strength_check(PASSWORDLESS_MFA, auth).satisfied:
        assert strength_check(MULTIFACTOR, auth).satisfied


@given(passgate_authentications, st.lists(known_ids, max_size=4), strength_maps())
def test_acr_is_satisfied_and_unmet_is_what_was_asked(auth: Authentication, requested: list[str],
                                                      strengths: dict[str, AuthenticationStrength]) -> None:
    acr, unmet = acr_for(auth, requested=requested, strengths=strengths)
    known = [s for s in (find_strength(r, strengths) for r in requested) if s is not None]
    if acr is not None:
        strength = find_strength(acr, strengths)
        assert strength is not None
        assert strength_check(strength, auth).satisfied
        assert unmet == ()
        if known:
            assert acr == next(s.id for s in known if strength_check(s, auth).satisfied)
    elif known:
        assert not any(strength_check(s, auth).satisfied for s in known)
        assert unmet == tuple(dict.fromkeys(known))
    else:
        assert unmet == ()
        assert not strength_check(MULTIFACTOR, auth).satisfied


@given(custom_strengths())
def test_strength_documents_round_trip(strength: AuthenticationStrength) -> None:
    document = strength_to_graph(strength)
    assert json.loads(json.dumps(document)) == document
    assert strength_from_document(document) == strength


@given(custom_strengths())
def test_strength_post_of_a_get_body_round_trips(strength: AuthenticationStrength) -> None:
    fresh = replace(strength, modified=strength.created)
    assert fresh.created is not None
    assert strength_from_graph(strength_to_graph(fresh), id=fresh.id, now=fresh.created) == fresh


@given(custom_strengths())
def test_strength_patch_with_its_own_values_changes_only_the_time(strength: AuthenticationStrength) -> None:
    body = {k: v for k, v in strength_to_graph(strength).items() if k not in _READ_ONLY_STRENGTH}
    assert strength_apply_patch(strength, body, now=LATER) == replace(strength, modified=LATER)


@given(json_values)
def test_strength_parsers_refuse_only_with_validation_errors(doc: object) -> None:
    for parse in (lambda: strength_from_graph(doc, id=STRENGTH_ID, now=LATER),
                  lambda: strength_apply_patch(contractor_keys(), doc, now=LATER),
                  lambda: strength_from_document(doc)):
        try:
            parse()
        except PolicyValidationError as exc:
            assert exc.code
            assert exc.message


# ---------------------------------------------------------------------------------------------- Conditional Access


def _decide(policies: list[ConditionalAccessPolicy], request: AccessRequest, auth: Authentication | None,
            strengths: dict[str, AuthenticationStrength]) -> tuple[object, ...]:
    decision = evaluate_access(policies, request, auth, strengths=strengths)
    return decision.outcome, decision.required_strengths, decision.blocking_policy_ids, decision.message


@given(policy_lists, requests, st.none() | passgate_authentications, strength_maps())
def test_results_cover_every_policy_in_id_order(policies: list[ConditionalAccessPolicy], request: AccessRequest,
                                               auth: Authentication | None,
                                               strengths: dict[str, AuthenticationStrength]) -> None:
    decision = evaluate_access(policies, request, auth, strengths=strengths)
    assert [r.policy_id for r in decision.results] == sorted(p.id for p in policies)
    assert (decision.outcome is Outcome.BLOCK) == bool(decision.blocking_policy_ids)
    assert (decision.outcome is Outcome.STEP_UP) == bool(decision.required_strengths)
    assert (decision.message is None) == (decision.outcome is Outcome.ALLOW)
    failed = [r for r in decision.results if r.result == "failure"]
    assert (decision.outcome is Outcome.ALLOW) == (not failed)
    for strength in decision.required_strengths:
        assert auth is None or not strength_check(strength, auth).satisfied


@given(ca_policies(), requests, st.sampled_from(("users", "groups", "roles")))
def test_exclusion_always_wins(policy: ConditionalAccessPolicy, request: AccessRequest, how: str) -> None:
    if how == "users":
        excluded = replace(policy, exclude_users=(*policy.exclude_users, request.user_id))
    elif how == "groups" and request.group_ids:
        excluded = replace(policy, exclude_groups=(*policy.exclude_groups, *sorted(request.group_ids)))
    elif how == "roles" and request.role_template_ids:
        excluded = replace(policy, exclude_roles=(*policy.exclude_roles, *sorted(request.role_template_ids)))
    else:
        return
    assert not policy_applies(excluded, request)
    result = evaluate_access([excluded], request, None, strengths={}).results[0].result
    assert result in ("notApplied", "notEnabled", "reportOnlyNotApplied")


@given(policy_lists, ca_policies(policy_id="ffffffff-0000-4000-8000-000000000000"), requests,
       st.none() | passgate_authentications, strength_maps())
def test_a_disabled_or_report_only_policy_never_changes_the_outcome(
        policies: list[ConditionalAccessPolicy], extra: ConditionalAccessPolicy, request: AccessRequest,
        auth: Authentication | None, strengths: dict[str, AuthenticationStrength]) -> None:
    before = _decide(policies, request, auth, strengths)
    for state in (PolicyState.DISABLED, PolicyState.REPORT_ONLY):
        assert _decide([*policies, replace(extra, state=state)], request, auth, strengths) == before


@given(policy_lists, ca_policies(policy_id="ffffffff-0000-4000-8000-000000000000"), requests,
       st.none() | passgate_authentications, strength_maps())
def test_an_enabled_block_that_applies_always_blocks(
        policies: list[ConditionalAccessPolicy], extra: ConditionalAccessPolicy, request: AccessRequest,
        auth: Authentication | None, strengths: dict[str, AuthenticationStrength]) -> None:
    blocker = replace(extra, state=PolicyState.ENABLED, grant_controls=GrantControls("OR", ("block",), None))
    decision = evaluate_access([*policies, blocker], request, auth, strengths=strengths)
    if policy_applies(blocker, request):
        assert decision.outcome is Outcome.BLOCK
        assert blocker.id in decision.blocking_policy_ids
    else:
        assert decision.outcome == evaluate_access(policies, request, auth, strengths=strengths).outcome


@given(policy_lists, requests, passgate_authentications, method_uses(), strength_maps())
def test_a_step_up_never_makes_things_worse(policies: list[ConditionalAccessPolicy], request: AccessRequest,
                                            auth: Authentication, extra: MethodUse,
                                            strengths: dict[str, AuthenticationStrength]) -> None:
    before = evaluate_access(policies, request, auth, strengths=strengths)
    after = evaluate_access(policies, request, auth.with_method(extra), strengths=strengths)
    rank = {Outcome.ALLOW: 0, Outcome.STEP_UP: 1, Outcome.BLOCK: 2}
    assert rank[after.outcome] <= rank[before.outcome]
    assert {s.id for s in after.required_strengths} <= {s.id for s in before.required_strengths}


@given(policy_lists, requests, strength_maps())
def test_nobody_signed_in_is_never_allowed_past_an_enforced_policy(
        policies: list[ConditionalAccessPolicy], request: AccessRequest,
        strengths: dict[str, AuthenticationStrength]) -> None:
    decision = evaluate_access(policies, request, None, strengths=strengths)
    enforced = [p for p in policies if p.state is PolicyState.ENABLED and policy_applies(p, request)]
    assert (decision.outcome is Outcome.ALLOW) == (not enforced)


@given(ca_policies(), strength_maps())
def test_policy_documents_round_trip(policy: ConditionalAccessPolicy,
                                     strengths: dict[str, AuthenticationStrength]) -> None:
    document = ca_policy_to_graph(policy, strengths=strengths)
    assert json.loads(json.dumps(document)) == document
    assert ca_policy_from_document(document, strengths=strengths) == policy
    assert ca_policy_from_document(document) == policy


@given(ca_policies(), strength_maps())
def test_policy_post_of_a_get_body_round_trips(policy: ConditionalAccessPolicy,
                                               strengths: dict[str, AuthenticationStrength]) -> None:
    fresh = replace(policy, modified=policy.created)
    assert fresh.created is not None
    created = ca_policy_from_graph(ca_policy_to_graph(fresh), id=fresh.id, now=fresh.created, strengths=strengths)
    assert created == fresh
    assert ca_policy_to_graph(created, strengths=strengths) == ca_policy_to_graph(fresh, strengths=strengths)


@given(ca_policies(), strength_maps())
def test_policy_patch_with_its_own_values_changes_only_the_time(policy: ConditionalAccessPolicy,
                                                                strengths: dict[str, AuthenticationStrength]) -> None:
    body = {k: v for k, v in ca_policy_to_graph(policy).items() if k not in _READ_ONLY_POLICY}
    assert ca_policy_apply_patch(policy, body, now=LATER, strengths=strengths) == replace(policy, modified=LATER)


@given(json_values, ca_policies(), strength_maps())
def test_policy_parsers_refuse_only_with_validation_errors(doc: object, policy: ConditionalAccessPolicy,
                                                           strengths: dict[str, AuthenticationStrength]) -> None:
    for parse in (lambda: ca_policy_from_graph(doc, id=POLICY_IDS[0], now=LATER, strengths=strengths),
                  lambda: ca_policy_apply_patch(policy, doc, now=LATER, strengths=strengths),
                  lambda: ca_policy_from_document(doc, strengths=strengths)):
        try:
            parse()
        except PolicyValidationError as exc:
            assert exc.code
            assert exc.message


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path into a JSON document (object keys and array indexes)."""
    found: list[tuple[object, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutated(document: dict[str, object], path: tuple[object, ...], value: object) -> dict[str, object]:
    result = json.loads(json.dumps(document))
    here = result
    for step in path[:-1]:
        here = here[step]
    here[path[-1]] = value
    return result  # type: ignore[no-any-return]


@given(st.data(), custom_strengths(), json_values)
def test_a_strength_with_one_value_changed_parses_or_is_refused(data: st.DataObject, strength: AuthenticationStrength,
                                                                value: object) -> None:
    document = strength_to_graph(strength)
    body = _mutated(document, data.draw(st.sampled_from(_paths(document))), value)
    for parse in (lambda: strength_from_document(body),
                  lambda: strength_apply_patch(strength, {k: v for k, v in body.items()
                                                          if k not in _READ_ONLY_STRENGTH}, now=LATER)):
        try:
            parse()
        except PolicyValidationError as exc:
            assert exc.code


@given(st.data(), ca_policies(), strength_maps(), json_values)
def test_a_policy_with_one_value_changed_parses_or_is_refused(data: st.DataObject, policy: ConditionalAccessPolicy,
                                                              strengths: dict[str, AuthenticationStrength],
                                                              value: object) -> None:
    document = ca_policy_to_graph(policy)
    body = _mutated(document, data.draw(st.sampled_from(_paths(document))), value)
    for parse in (lambda: ca_policy_from_document(body, strengths=strengths),
                  lambda: ca_policy_apply_patch(policy, {k: v for k, v in body.items() if k not in _READ_ONLY_POLICY},
                                                now=LATER, strengths=strengths)):
        try:
            parse()
        except PolicyValidationError as exc:
            assert exc.code
