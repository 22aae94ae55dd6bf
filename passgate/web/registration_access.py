"""Conditional Access for registering security info (the user action ``urn:user:registersecurityinfo``).

Security info asks before offering "Add passkey" or "Add authenticator app", and every step that adds a method
asks again (a page can be stale). A step-up goes through the step-up page and back to Security info; a block is
a refusal naming the policy.
"""

from __future__ import annotations

from django.http import HttpRequest

from passgate.access.selectors import access_decide
from passgate.audit.models import Category
from passgate.audit.services import audit_failure
from passgate.core.access import REGISTER_SECURITY_INFO, AccessDecision, Outcome
from passgate.core.errors import AccessDenied
from passgate.directory.services import actor_for
from passgate.web import session
from passgate.web.errors import request_context
from passgate.web.views.common import signed_in_user
from passgate.web.views.stepup import step_up_url

BACK = "/security-info"


def registration_decision(request: HttpRequest) -> AccessDecision:
    return access_decide(user=signed_in_user(request), auth=session.authentication(request),
                         user_action=REGISTER_SECURITY_INFO)


def step_up_link(decision: AccessDecision) -> str:
    return step_up_url([s.id for s in decision.required_strengths], BACK)


def require_registration_allowed(request: HttpRequest, *, activity: str) -> None:
    """Raise ``AccessDenied`` (audited) unless Conditional Access lets this session register security info now."""
    decision = registration_decision(request)
    if decision.outcome is Outcome.ALLOW:
        return
    blocked = decision.outcome is Outcome.BLOCK
    code = "conditional_access_blocked" if blocked else "conditional_access_step_up"
    audit_failure(category=Category.SECURITY_INFO, activity=activity, reason=code,
                  actor=actor_for(signed_in_user(request)), context=request_context(request),
                  details={"userAction": REGISTER_SECURITY_INFO})
    message = decision.message or "A Conditional Access policy doesn't allow adding security info now."
    raise AccessDenied(message if blocked else f"{message} Confirm it's you first, then add it.", code=code)
