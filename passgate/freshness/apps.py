from django.apps import AppConfig


class FreshnessConfig(AppConfig):
    name = "passgate.freshness"
    label = "freshness"
    default_auto_field = "django.db.models.BigAutoField"
