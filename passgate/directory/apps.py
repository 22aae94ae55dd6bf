from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class DirectoryConfig(AppConfig):
    name = "passgate.directory"
    label = "directory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django's auth app updates User.last_login at every login(): one more UPDATE and commit per sign-in for a
        # column Passgate never reads (sign-ins are in the sign-in log and the audit log). Not kept up to date.
        user_logged_in.disconnect(dispatch_uid="update_last_login")
