"""Reports: passkeys whose authenticator model FIDO metadata no longer trusts."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from passgate.credentials.metadata import flagged_passkeys
from passgate.trust_store.selectors import current_blob
from passgate.web.views.admin.access import Admin, admin_view, render_admin


@admin_view(read="methods.read")
def untrusted_models(request: HttpRequest, admin: Admin) -> HttpResponse:
    return render_admin(request, admin, "passgate/admin/untrusted_models.html", {
        "passkeys": list(flagged_passkeys()[:500]), "blob": current_blob(),
        "refused_at_sign_in": settings.PASSGATE.refuse_revoked_models,
    }, section="reports")
