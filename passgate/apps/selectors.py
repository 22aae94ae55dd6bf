from __future__ import annotations

from typing import Any

from django.conf import settings

from passgate.apps.models import AppRegistration
from passgate.core.graph.schema import format_datetime


def app_list() -> list[AppRegistration]:
    return list(AppRegistration.objects.order_by("created_at"))


def token_endpoint() -> str:
    return f"{settings.PASSGATE.origin}/oauth2/v2.0/token"


def app_as_dict(app: AppRegistration) -> dict[str, Any]:
    """Named as Graph's application resource names them (appId, displayName, passwordCredentials[].hint)."""
    return {
        "id": str(app.id), "appId": str(app.app_id), "displayName": app.display_name,
        "permissions": list(app.permissions), "createdDateTime": format_datetime(app.created_at),
        "passwordCredentials": [{"hint": app.secret_hint}], "createdBy": app.created_by,
    }
