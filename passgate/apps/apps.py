from typing import Any

from django.apps import AppConfig

from passgate.directory.signals import sign_in_sessions_revoked


def _sessions_revoked(sender: Any, *, user: Any, reason: str, context: Any, **kwargs: Any) -> None:
    from passgate.apps.oidc.backchannel import backchannel_logout  # noqa: PLC0415 - models load after the registry

    backchannel_logout(user=user, sid=None, reason=reason, context=context)


class AppsConfig(AppConfig):
    name = "passgate.apps"
    label = "apps"
    verbose_name = "App registrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every session of the person ended (revokeSignInSessions, account disabled): tell the apps at once.
        sign_in_sessions_revoked.connect(_sessions_revoked, dispatch_uid="passgate.apps.backchannel")
