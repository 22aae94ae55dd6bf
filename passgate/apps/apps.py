from django.apps import AppConfig


class AppsConfig(AppConfig):
    name = "passgate.apps"
    label = "apps"
    verbose_name = "App registrations"
    default_auto_field = "django.db.models.BigAutoField"
