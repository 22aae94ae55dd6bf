"""One sign-in log row per attempt to sign in to an app (an OpenID Connect client, or the admin centre): who, which
app, how they signed in (each method, the passkey's model), the strength satisfied, every Conditional Access policy
with its result, report-only ones included, and the device signed in to. Thin: it only shapes what the callers
(the web pages, the device API) already decided."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from passgate.audit.services import RequestContext
from passgate.audit.signins import SignInError, signin_record
from passgate.core.access import (
    AccessDecision,
    Authentication,
    AuthenticationStrength,
    AuthMethodMode,
    MethodUse,
    amr,
    authentication_requirement,
    conditional_access_status,
)
from passgate.directory.models import User
from passgate.trust_store.selectors import catalogue


def _method(use: MethodUse) -> tuple[str, str]:
    if use.mode is AuthMethodMode.FIDO2:
        entry = catalogue().lookup(use.aaguid) if use.aaguid else None
        kind = "Passkey (device-bound)" if use.device_bound else "Passkey (synced)"
        return kind, entry.name if entry is not None else "Unknown model"
    if use.mode is AuthMethodMode.TAP_ONE_TIME:
        return "Temporary Access Pass", "One-time"
    if use.mode is AuthMethodMode.TAP_MULTI_USE:
        return "Temporary Access Pass", "Multi-use"
    if use.mode is AuthMethodMode.SOFTWARE_OATH:
        return "OATH verification code", "Authenticator app"
    return use.mode.value, ""


def authentication_details(auth: Authentication | None) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for index, use in enumerate(auth.methods if auth is not None else ()):
        method, detail = _method(use)
        steps.append({"authenticationMethod": method, "authenticationMethodDetail": detail,
                      "authenticationStepDateTime": use.at,
                      "authenticationStepRequirement": "Primary authentication" if index == 0 else "Step-up",
                      "authenticationStepResultDetail": "Completed", "succeeded": True})
    return steps


def _policies(decision: AccessDecision | None) -> list[dict[str, Any]]:
    if decision is None:
        return []
    return [{"id": r.policy_id, "displayName": r.display_name, "enforcedGrantControls": list(r.enforced_grant_controls),
             "enforcedSessionControls": [], "result": r.result, "reason": r.reason} for r in decision.results]


def record_app_signin(*, context: RequestContext, user: User, app_id: str, app_name: str,
                      auth: Authentication | None, decision: AccessDecision | None = None,
                      error: SignInError | None = None, failure_reason: str = "", reason_code: str = "",
                      acr: str | None = None, strengths: Mapping[str, AuthenticationStrength] | None = None,
                      correlation_id: str | None = None, device: Mapping[str, str] | None = None) -> None:
    """Record one attempt: a success (``error`` None) or a failure with Entra's error number and a sentence."""
    strength = (strengths or {}).get(acr) if acr else None
    passkeys: Sequence[MethodUse] = [m for m in (auth.methods if auth else ()) if m.mode is AuthMethodMode.FIDO2]
    signin_record(
        user_id=str(user.pk), user_principal_name=user.user_principal_name, user_display_name=user.display_name,
        app_id=app_id, app_display_name=app_name, context=context, device=device,
        succeeded=error is None, error_code=0 if error is None else int(error), failure_reason=failure_reason,
        reason_code=reason_code, authentication_details=authentication_details(auth),
        authentication_requirement=authentication_requirement(decision),
        authentication_strength={"id": strength.id, "displayName": strength.display_name} if strength else None,
        acr=acr, amr=amr(auth) if auth else (), aaguid=passkeys[-1].aaguid if passkeys else None,
        applied_policies=_policies(decision), conditional_access_status=conditional_access_status(decision),
        correlation_id=correlation_id)
