"""Reports: passkeys whose authenticator model FIDO metadata no longer trusts, and the tenant's switch to refuse
them at sign-in (the Fido2 policy's ``@passgate.refuseFlaggedModelsAtSignIn``, changed through ``policy_update``
like every policy setting: versioned, audited, and the same as a Graph PATCH)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from passgate.core.errors import PassgateError
from passgate.core.policy.graph import REFUSE_FLAGGED
from passgate.credentials.metadata import flagged_passkeys
from passgate.credentials.policy import policy_update
from passgate.credentials.policy_selectors import current_policy
from passgate.credentials.selectors import fragile_passkey_holders
from passgate.trust_store.selectors import current_blob
from passgate.web.errors import request_context
from passgate.web.messages import for_person
from passgate.web.views.admin.access import Admin, admin_view, flash, render_admin


@admin_view(read="methods.read", write="policy.write")
def untrusted_models(request: HttpRequest, admin: Admin) -> HttpResponse:
    error = ""
    if request.method == "POST":
        refuse = request.POST.get("refuse") == "on"
        try:
            policy_update(body={REFUSE_FLAGGED: refuse}, method_id="Fido2", actor=admin.actor,
                          context=request_context(request))
        except PassgateError as exc:
            error = for_person(exc)
        else:
            flash(request, "Passkeys of untrusted models are now refused at sign-in." if refuse else
                  "Passkeys of untrusted models can sign in again (they stay flagged and reported).")
            return redirect(request.path)
    return render_admin(request, admin, "passgate/admin/untrusted_models.html", {
        "passkeys": list(flagged_passkeys()[:500]), "blob": current_blob(), "error": error,
        "refused_at_sign_in": current_policy().fido2.refuse_flagged_models_at_sign_in,
        "may_change": admin.can("policy.write"),
    }, section="reports", status=400 if error else 200)


@admin_view(read="methods.read")
def passkey_redundancy(request: HttpRequest, admin: Admin) -> HttpResponse:
    """People with one passkey, or whose passkeys are all synced by one provider: one lost phone or account from a
    helpdesk call (``core.redundancy``)."""
    total, rows = fragile_passkey_holders()
    return render_admin(request, admin, "passgate/admin/passkey_redundancy.html",
                        {"total": total, "rows": rows}, section="redundancy")

