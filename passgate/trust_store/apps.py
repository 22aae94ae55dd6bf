from django.apps import AppConfig


class TrustStoreConfig(AppConfig):
    name = "passgate.trust_store"
    label = "trust_store"
    default_auto_field = "django.db.models.BigAutoField"
