"""PostgreSQL: the challenges table is UNLOGGED (issue 11). A challenge lives five minutes and its loss costs a
retry, so it need not be written to the WAL: issuing one (the options request) commits without a WAL flush. After a
crash PostgreSQL empties the table; a person whose ceremony was in flight starts again. Nothing on SQLite."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def unlogged(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE credentials_challenge SET UNLOGGED")


def logged(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE credentials_challenge SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("credentials", "0010_device_sign_in")]
    operations = [migrations.RunPython(unlogged, logged)]
