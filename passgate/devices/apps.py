from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "passgate.devices"
    label = "devices"
    verbose_name = "Devices"
    default_auto_field = "django.db.models.BigAutoField"
