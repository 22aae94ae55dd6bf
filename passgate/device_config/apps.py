from django.apps import AppConfig


class DeviceConfigConfig(AppConfig):
    name = "passgate.device_config"
    label = "device_config"
    verbose_name = "Device configuration"
    default_auto_field = "django.db.models.BigAutoField"
