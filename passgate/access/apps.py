from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "passgate.access"
    label = "access"
    verbose_name = "Authentication strengths and Conditional Access"
    default_auto_field = "django.db.models.BigAutoField"
