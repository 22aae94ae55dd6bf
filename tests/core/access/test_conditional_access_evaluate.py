"""Evaluating Conditional Access policies against a request and what the session has proven."""

from __future__ import annotations

from dataclasses import replace

import pytest

from passgate.core.access.conditional_access import (
    ADMIN_CENTRE_APP_ID,
    REGISTER_SECURITY_INFO,
    AccessDecision,
    AccessRequest,
    ConditionalAccessPolicy,
    Outcome,
    PolicyResult,
    PolicyState,
    authentication_requirement,
    change_locks_out,
    conditional_access_status,
    evaluate_access,
    policy_applies,
)
from passgate.core.access.methods import Authentication, AuthMethodMode
from passgate.core.access.strengths import MULTIFACTOR, PHISHING_RESISTANT_MFA, PHISHING_RESISTANT_MFA_ID
from tests.core.access.helpers import (
    ALICE,
    BOB,
    CONTRACTORS,
    ENGINEERING,
    FEITIAN,
    GLOBAL_ADMIN_ROLE,
    HELPDESK_ROLE,
    ICLOUD,
    OTHER_STRENGTH_ID,
    PAYROLL_APP,
    STRENGTH_ID,
    WIKI_APP,
    contractor_keys,
    name_of,
    passkey,
    policy,
    session,
    use,
)

STRENGTHS = {STRENGTH_ID: contractor_keys()}
PAYROLL = AccessRequest(ALICE, frozenset({ENGINEERING}), frozenset(), application_id=PAYROLL_APP)
APP_CODE = session(use(AuthMethodMode.SOFTWARE_OATH))
PASSKEY = session(passkey())


def _decide(policies: list[ConditionalAccessPolicy], request: AccessRequest = PAYROLL,
            auth: Authentication | None = APP_CODE) -> AccessDecision:
    return evaluate_access(policies, request, auth, strengths=STRENGTHS, name_of=name_of)


class TestScope:
    @pytest.mark.parametrize(("changes", "applies"), [
        ({}, True),
        ({"include_users": (ALICE,)}, True),
        ({"include_users": (ALICE.upper(),)}, True),
        ({"include_users": (BOB,)}, False),
        ({"include_users": ("None",)}, False),
        ({"include_users": (), "include_groups": (ENGINEERING,)}, True),
        ({"include_users": (), "include_groups": (CONTRACTORS,)}, False),
        ({"include_users": (), "include_roles": (GLOBAL_ADMIN_ROLE,)}, False),
        ({"include_users": ("None",), "include_groups": (ENGINEERING,)}, True),
        ({"exclude_users": (ALICE,)}, False),
        ({"exclude_groups": (ENGINEERING,)}, False),
        ({"include_users": (ALICE,), "exclude_groups": (ENGINEERING,)}, False),
        ({"include_applications": (PAYROLL_APP,)}, True),
        ({"include_applications": (PAYROLL_APP.upper(),)}, True),
        ({"include_applications": (WIKI_APP,)}, False),
        ({"include_applications": ("None",)}, False),
        ({"exclude_applications": (PAYROLL_APP,)}, False),
        ({"include_applications": ("MicrosoftAdminPortals",)}, False),
        ({"include_applications": (), "include_user_actions": (REGISTER_SECURITY_INFO,)}, False),
    ])
    def test_payroll(self, changes: dict[str, object], applies: bool) -> None:
        assert policy_applies(replace(policy(), **changes), PAYROLL) is applies  # type: ignore[arg-type]

    def test_a_role(self) -> None:
        admin = AccessRequest(BOB, frozenset(), frozenset({GLOBAL_ADMIN_ROLE}), application_id=ADMIN_CENTRE_APP_ID)
        assert policy_applies(policy(include_users=(), include_roles=(GLOBAL_ADMIN_ROLE,)), admin)
        assert not policy_applies(policy(include_users=(), include_roles=(HELPDESK_ROLE,)), admin)
        assert not policy_applies(policy(include_roles=(GLOBAL_ADMIN_ROLE,), exclude_roles=(GLOBAL_ADMIN_ROLE,)),
                                  admin)

    def test_admin_portals_is_the_admin_centre(self) -> None:
        admin = AccessRequest(BOB, frozenset(), frozenset(), application_id=ADMIN_CENTRE_APP_ID)
        assert policy_applies(policy(include_applications=("MicrosoftAdminPortals",)), admin)
        assert policy_applies(policy(include_applications=(ADMIN_CENTRE_APP_ID,)), admin)
        assert not policy_applies(policy(exclude_applications=("MicrosoftAdminPortals",)), admin)

    def test_the_security_info_action(self) -> None:
        registering = AccessRequest(ALICE, frozenset(), frozenset(), user_action=REGISTER_SECURITY_INFO)
        action_policy = policy(include_applications=(), include_user_actions=(REGISTER_SECURITY_INFO,))
        assert policy_applies(action_policy, registering)
        assert not policy_applies(action_policy, PAYROLL)
        # Without an application, application policies (even "All") don't apply to a user action.
        assert not policy_applies(policy(), registering)
        assert policy_applies(action_policy, replace(registering, application_id=PAYROLL_APP))


class TestOutcomes:
    def test_no_policy_allows(self) -> None:
        decision = _decide([])
        assert (decision.outcome, decision.results, decision.message) == (Outcome.ALLOW, (), None)

    def test_mfa_satisfied(self) -> None:
        decision = evaluate_access([policy()], PAYROLL, PASSKEY, strengths={})
        assert decision.outcome is Outcome.ALLOW
        assert decision.results == (PolicyResult("9c1d2e3f-4a5b-4c6d-8e7f-001122334455", "Policy", "success", ("Mfa",),
                                                 None),)

    def test_mfa_unmet_is_a_step_up_to_the_built_in_multifactor_strength(self) -> None:
        decision = evaluate_access([policy(name="Payroll MFA")], PAYROLL, APP_CODE, strengths={})
        assert decision.outcome is Outcome.STEP_UP
        assert decision.required_strengths == (MULTIFACTOR,)
        assert decision.blocking_policy_ids == ()
        assert decision.results[0].result == "failure"
        assert decision.results[0].enforced_grant_controls == ("Mfa",)
        assert decision.message == (
            "The Conditional Access policy 'Payroll MFA' asks for more. Sign in with a passkey or a Temporary Access "
            "Pass: Multifactor authentication (a built-in authentication strength) requires one of these.")

    def test_nobody_signed_in_counts_every_requirement_unmet(self) -> None:
        decision = evaluate_access([policy()], PAYROLL, None, strengths={})
        assert (decision.outcome, decision.required_strengths) == (Outcome.STEP_UP, (MULTIFACTOR,))

    def test_a_custom_strength_names_the_models(self) -> None:
        contractors = policy(name="Contractor keys only", controls=(), strength_id=STRENGTH_ID)
        decision = _decide([contractors], auth=session(passkey(ICLOUD)))
        assert decision.outcome is Outcome.STEP_UP
        assert decision.results[0].enforced_grant_controls == ("RequireAuthenticationStrength",)
        assert decision.message == (
            "The Conditional Access policy 'Contractor keys only' asks for more. Sign in with a passkey or both an "
            "authenticator-app code and a one-time Temporary Access Pass. Contractor keys (a custom authentication "
            "strength) allows only these passkey models: YubiKey 5 Series, Feitian ePass.")
        assert _decide([contractors], auth=session(passkey(FEITIAN))).outcome is Outcome.ALLOW

    def test_block_wins_over_everything(self) -> None:
        blocker = policy(policy_id="b", name="No contractors", include_users=(), include_groups=(ENGINEERING,),
                         controls=("block",))
        decision = _decide([policy(policy_id="a"), blocker, policy(policy_id="c", controls=(),
                                                                   strength_id=PHISHING_RESISTANT_MFA_ID)])
        assert decision.outcome is Outcome.BLOCK
        assert decision.blocking_policy_ids == ("b",)
        assert decision.required_strengths == ()
        assert decision.message == "The Conditional Access policy 'No contractors' blocks this app."
        assert [r.result for r in decision.results] == ["failure", "failure", "failure"]
        assert decision.results[1].enforced_grant_controls == ("block",)

    @pytest.mark.parametrize(("request_", "what"), [
        (AccessRequest(ALICE, frozenset(), frozenset(), application_id=ADMIN_CENTRE_APP_ID), "the admin centre"),
        (AccessRequest(ALICE, frozenset(), frozenset(), user_action=REGISTER_SECURITY_INFO),
         "adding sign-in methods (security info)"),
    ])
    def test_block_messages(self, request_: AccessRequest, what: str) -> None:
        blocker = policy(name="Stop", controls=("block",), include_applications=(),
                         include_user_actions=(REGISTER_SECURITY_INFO,))
        if request_.application_id:
            blocker = policy(name="Stop", controls=("block",), include_applications=("MicrosoftAdminPortals",))
        assert _decide([blocker], request_).message == f"The Conditional Access policy 'Stop' blocks {what}."

    def test_every_unmet_strength_of_every_policy_once_in_policy_order(self) -> None:
        policies = [policy(policy_id="c", controls=(), strength_id=STRENGTH_ID),
                    policy(policy_id="a", controls=(), strength_id=PHISHING_RESISTANT_MFA_ID),
                    policy(policy_id="b", controls=(), strength_id=PHISHING_RESISTANT_MFA_ID.upper())]
        decision = _decide(policies)
        assert decision.required_strengths == (PHISHING_RESISTANT_MFA, contractor_keys())
        assert [r.policy_id for r in decision.results] == ["a", "b", "c"]

    def test_and_needs_every_control_or_needs_one(self) -> None:
        both = policy(name="Both", strength_id=PHISHING_RESISTANT_MFA_ID)  # built directly: mfa and a strength
        one_time_pass = session(use(AuthMethodMode.TAP_ONE_TIME))
        and_decision = _decide([replace(both, grant_controls=replace(both.grant_controls, operator="AND"))],
                               auth=one_time_pass)
        assert and_decision.outcome is Outcome.STEP_UP
        assert and_decision.required_strengths == (PHISHING_RESISTANT_MFA,)
        assert _decide([both], auth=one_time_pass).outcome is Outcome.ALLOW
        or_decision = _decide([both], auth=APP_CODE)
        assert or_decision.required_strengths == (MULTIFACTOR, PHISHING_RESISTANT_MFA)
        assert or_decision.results[0].reason.startswith("Satisfy one of these: Sign in with")
        assert or_decision.results[0].enforced_grant_controls == ("Mfa", "RequireAuthenticationStrength")

    def test_a_missing_strength_fails_closed(self) -> None:
        orphan = policy(name="Orphan", controls=(), strength_id=OTHER_STRENGTH_ID)
        decision = _decide([orphan], auth=PASSKEY)
        assert decision.outcome is Outcome.BLOCK
        assert decision.message == (
            f"The Conditional Access policy 'Orphan' requires an authentication strength ({OTHER_STRENGTH_ID}) that no "
            "longer exists, so it blocks this app.")

    def test_no_grant_controls_grant(self) -> None:
        assert _decide([replace(policy(), grant_controls=None)]).outcome is Outcome.ALLOW
        empty = replace(policy(), grant_controls=replace(policy().grant_controls, built_in_controls=()))
        assert _decide([empty]).results[0].result == "success"


class TestStates:
    def test_disabled_is_not_enabled(self) -> None:
        decision = _decide([policy(state=PolicyState.DISABLED, controls=("block",))])
        assert decision.outcome is Outcome.ALLOW
        assert decision.results[0].result == "notEnabled"
        assert decision.results[0].enforced_grant_controls == ()

    @pytest.mark.parametrize(("controls", "auth", "result"), [
        (("block",), APP_CODE, "reportOnlyFailure"),
        (("mfa",), APP_CODE, "reportOnlyFailure"),
        (("mfa",), PASSKEY, "reportOnlySuccess"),
    ])
    def test_report_only_is_reported_not_enforced(self, controls: tuple[str, ...], auth: Authentication,
                                                  result: str) -> None:
        decision = _decide([policy(state=PolicyState.REPORT_ONLY, controls=controls)], auth=auth)
        assert decision.outcome is Outcome.ALLOW
        assert decision.results[0].result == result
        assert (decision.results[0].reason is None) is (result == "reportOnlySuccess")

    def test_report_only_not_applied(self) -> None:
        decision = _decide([policy(state=PolicyState.REPORT_ONLY, include_users=(BOB,))])
        assert decision.results[0].result == "reportOnlyNotApplied"

    def test_not_applied(self) -> None:
        decision = _decide([policy(include_users=(BOB,), controls=("block",))])
        assert (decision.outcome, decision.results[0].result) == (Outcome.ALLOW, "notApplied")
        assert decision.results[0].enforced_grant_controls == ()


class TestLockOutAndSignInLogFacts:
    BLOCK_ALL = policy(controls=("block",))
    ADMIN_CENTRE = AccessRequest(ALICE, frozenset(), frozenset({GLOBAL_ADMIN_ROLE}), application_id=ADMIN_CENTRE_APP_ID)

    def test_a_change_locks_out_only_when_someone_could_get_in_before_and_nobody_after(self) -> None:
        admins = [(self.ADMIN_CENTRE, [PASSKEY])]
        assert change_locks_out([], [self.BLOCK_ALL], admins, strengths=STRENGTHS)
        excluded = policy(controls=("block",), exclude_roles=(GLOBAL_ADMIN_ROLE,))
        assert not change_locks_out([], [excluded], admins, strengths=STRENGTHS)
        report_only = replace(self.BLOCK_ALL, state=PolicyState.REPORT_ONLY)
        assert not change_locks_out([], [report_only], admins, strengths=STRENGTHS)
        # A strength the administrator's passkey meets is no lock-out; one it doesn't meet is.
        phr = policy(controls=(), strength_id=PHISHING_RESISTANT_MFA_ID)
        assert not change_locks_out([], [phr], admins, strengths=STRENGTHS)
        other_model = [(self.ADMIN_CENTRE, [session(passkey(ICLOUD, device_bound=False))])]
        keys_only = policy(controls=(), strength_id=STRENGTH_ID)  # contractor keys: not this model
        assert change_locks_out([], [keys_only], other_model, strengths=STRENGTHS)
        assert not change_locks_out([], [keys_only], admins, strengths=STRENGTHS)
        # Nobody could get in before (no passkey at all): nothing is taken away.
        assert not change_locks_out([], [self.BLOCK_ALL], [(self.ADMIN_CENTRE, [])], strengths=STRENGTHS)
        assert not change_locks_out([self.BLOCK_ALL], [self.BLOCK_ALL], admins, strengths=STRENGTHS)

    def test_the_sign_in_log_status_and_requirement_follow_enforced_results_only(self) -> None:
        assert (conditional_access_status(None), authentication_requirement(None)) == (
            "notApplied", "singleFactorAuthentication")
        met = _decide([policy(controls=(), strength_id=PHISHING_RESISTANT_MFA_ID)], auth=PASSKEY)
        assert (conditional_access_status(met), authentication_requirement(met)) == (
            "success", "multiFactorAuthentication")
        unmet = _decide([policy(controls=(), strength_id=PHISHING_RESISTANT_MFA_ID)])
        assert conditional_access_status(unmet) == "failure"
        report_only = _decide([replace(policy(controls=("block",)), state=PolicyState.REPORT_ONLY)])
        assert (conditional_access_status(report_only), authentication_requirement(report_only)) == (
            "notApplied", "singleFactorAuthentication")
        blocked = _decide([policy(controls=("block",))])
        assert (conditional_access_status(blocked), authentication_requirement(blocked)) == (
            "failure", "singleFactorAuthentication")
