"""The configuration generation row, and the triggers that bump it (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import migrations, models

# Frozen here (a migration must not change with the code): passgate.freshness.generation.WATCHED as of 0001.
WATCHED = (
    "credentials_policyversion",
    "access_strengthpolicy",
    "access_accesspolicy",
    "trust_store_metadatablob",
    "apps_appregistration",
    "apps_signingkey",
)
BUMP = "UPDATE freshness_generation SET value = value + 1 WHERE id = 1"


def install(apps: Any, schema_editor: Any) -> None:
    conn = schema_editor.connection
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO freshness_generation (id, epoch, value) VALUES (1, %s, 0)",
                       [secrets.token_hex(16)])
        if conn.vendor == "postgresql":
            cursor.execute("CREATE OR REPLACE FUNCTION passgate_generation_bump() RETURNS trigger "
                           f"LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$")
            for table in WATCHED:
                cursor.execute(f"CREATE TRIGGER passgate_generation_{table} AFTER INSERT OR UPDATE OR DELETE "
                               f"OR TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION "
                               "passgate_generation_bump()")
        elif conn.vendor == "sqlite":
            for table in WATCHED:
                for event in ("INSERT", "UPDATE", "DELETE"):
                    cursor.execute(f"CREATE TRIGGER passgate_generation_{table}_{event.lower()} AFTER {event} "
                                   f"ON {table} BEGIN {BUMP}; END")
        else:
            raise RuntimeError(f"no generation triggers for the {conn.vendor} database")


def uninstall(apps: Any, schema_editor: Any) -> None:
    conn = schema_editor.connection
    with conn.cursor() as cursor:
        for table in WATCHED:
            if conn.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS passgate_generation_{table} ON {table}")
            else:
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS passgate_generation_{table}_{event}")
        if conn.vendor == "postgresql":
            cursor.execute("DROP FUNCTION IF EXISTS passgate_generation_bump()")


class Migration(migrations.Migration):
    initial = True
    dependencies = [
        ("credentials", "0010_device_sign_in"),
        ("access", "0002_stored_json_reads_replace_lone_surrogates"),
        ("trust_store", "0001_initial"),
        ("apps", "0005_app_require_pkce"),
    ]
    operations = [
        migrations.CreateModel(
            name="Generation",
            fields=[
                ("id", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("epoch", models.CharField(max_length=32)),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
