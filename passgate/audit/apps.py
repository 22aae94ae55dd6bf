from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created

from passgate.audit.metrics import count_database_errors


def _count_errors(sender: Any, connection: Any, **kwargs: Any) -> None:
    # At the bottom of the stack, never appended: a connection made inside ``connection.execute_wrapper(w)`` would
    # otherwise have this wrapper on top, and the context's exit (which pops the last one) would remove it and leave
    # ``w`` installed for good.
    if count_database_errors not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, count_database_errors)


class AuditConfig(AppConfig):
    name = "passgate.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(_count_errors, dispatch_uid="passgate.audit.metrics.database_errors")
