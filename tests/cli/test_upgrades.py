"""Upgrades without downtime (issue 13 part 6, ADR 0010): migrations expand, then contract a release later, so the
previous release's nodes keep working on the migrated schema while the new ones start; ``passgate migrate`` runs
once; ``serve --no-migrate`` never changes the schema and refuses to start behind it.

The previous release is the code as it was before the latest commit that added a migration (``git archive`` of
that commit's parent): it serves a real passkey sign-in and registration on a database the current code migrated.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from django.db import models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddField, AlterField, DeleteModel, RemoveField, RenameField, RenameModel

from tests.conftest import loud_skip
from tests.multinode.cluster import Person
from tests.processes import cli, free_port, passgate_env, scratch_database, started, wait_listening

ROOT = Path(__file__).resolve().parents[2]

# The rule holds from these migrations on (the ones before it were written for single-node upgrades).
RULE_FROM = {"access": 3, "apps": 6, "audit": 7, "credentials": 11, "device_config": 2, "devices": 5,
             "directory": 8, "freshness": 1, "trust_store": 2}
# Contract steps, each a release after the expand step that made the old column unused: "app.migration": why.
CONTRACTS: dict[str, str] = {}
CONTRACT_OPERATIONS = (RemoveField, DeleteModel, RenameField, RenameModel)


def _new_migrations() -> list[Any]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return [m for (app, name), m in sorted(loader.disk_migrations.items())
            if app in RULE_FROM and int(name.split("_", 1)[0]) >= RULE_FROM[app]]


def _was_not_null_without_default(migration: Any, operation: AlterField) -> bool:
    """Before ``migration``, the column was already NOT NULL with nothing for the database to fill in: every older
    node sets it, so altering it otherwise (wider, say) asks nothing new of them."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    before = loader.project_state((migration.app_label, migration.name), at_end=False)
    field = before.models[migration.app_label, operation.model_name_lower].fields[operation.name]
    return not field.null and field.db_default is models.NOT_PROVIDED and not field.many_to_many


def test_new_columns_are_nullable_or_have_a_database_default() -> None:
    """An older node INSERTs rows without the new column: the database must fill it. A column made NOT NULL (by an
    AlterField) must not have been one older nodes leave out."""
    bad = []
    for migration in _new_migrations():
        for operation in migration.operations:
            if isinstance(operation, AddField | AlterField):
                field = operation.field
                if field.many_to_many or field.null or field.db_default is not models.NOT_PROVIDED:
                    continue
                if isinstance(operation, AlterField) and _was_not_null_without_default(migration, operation):
                    continue
                bad.append(f"{migration.app_label}.{migration.name}: {operation.model_name}.{operation.name} is "
                           "NOT NULL without db_default")
    assert not bad, bad


def test_nothing_is_removed_or_renamed_in_the_release_that_stops_using_it() -> None:
    found = [f"{m.app_label}.{m.name}: {type(op).__name__}" for m in _new_migrations() for op in m.operations
             if isinstance(op, CONTRACT_OPERATIONS) and f"{m.app_label}.{m.name}" not in CONTRACTS]
    assert not found, f"contract steps need a release of their own (list them in CONTRACTS with why): {found}"


def test_serve_no_migrate_refuses_a_schema_behind_it_and_changes_nothing(tmp_path: Path) -> None:
    with scratch_database(tmp_path, "nomigrate") as url:
        env = passgate_env(tmp_path / "data", url)
        done = subprocess.run([sys.executable, "-m", "passgate.cli", "serve", "--no-migrate", "--port",
                               str(free_port())], env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 1, done
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "schema is behind this version" in lines[0] and "passgate migrate" in lines[0]
        cli(env, "migrate")  # the operator's one step; then --no-migrate starts
        port = free_port()
        with started(["serve", "--no-migrate", "--port", str(port), "--workers", "1"], env,
                     tmp_path / "serve.log") as proc:
            wait_listening(port, proc, timeout=60)  # type: ignore[arg-type]


def _previous_release(tmp_path: Path) -> Path:
    """The tree before the latest commit that added a migration, extracted to ``tmp_path``."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True,
                              timeout=60).stdout.strip()

    try:
        if git("rev-parse", "--is-shallow-repository") == "true":
            raise subprocess.CalledProcessError(1, "git", "shallow")
        latest = git("log", "-1", "--format=%H", "--diff-filter=A", "--", "passgate/*/migrations/0*.py")
        previous = git("rev-parse", f"{latest}^")
    except (subprocess.CalledProcessError, FileNotFoundError, OSError):
        loud_skip("PREVIOUS-RELEASE UPGRADE TEST", "it needs this repository's git history (a full clone)")
    archive = tmp_path / "previous.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(archive), previous, "passgate"],
                   check=True, timeout=120)
    tree = tmp_path / "previous"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def _sign_in_and_register(base: str, env: dict[str, str], upn: str) -> None:
    person = Person(base)
    tap = json.loads(cli(env, "tap", "issue", "--user", upn, "--json"))["temporaryAccessPass"]
    person.tap_sign_in(base, upn, tap)
    verified, _ = person.register(base, name="Upgrade key")
    assert verified.status_code == 200, verified.text
    person.http.cookies.clear()
    signed = person.sign_in(base)
    assert signed.status_code == 200, signed.text
    assert person.signed_in(base)


def test_the_previous_release_serves_sign_ins_on_the_migrated_schema(tmp_path: Path) -> None:
    tree = _previous_release(tmp_path)
    with scratch_database(tmp_path, "upgrade") as url:
        env = passgate_env(tmp_path / "data", url, PASSGATE_SECRET_KEY="upgrade-secret-key-shared-by-both-nodes-0123")
        cli(env, "migrate")  # the new release's schema
        cli(env, "users", "add", "old@contoso.com", "--display-name", "Old Node")
        cli(env, "users", "add", "new@contoso.com", "--display-name", "New Node")
        old_port, new_port = free_port(), free_port()
        old_env = {**env, "PYTHONPATH": str(tree), "PASSGATE_ORIGIN": f"http://localhost:{old_port}"}
        with started(["serve", "--port", str(old_port), "--workers", "1"], old_env, tmp_path / "old.log",
                     cwd=tree) as old:
            wait_listening(old_port, old, timeout=90)  # type: ignore[arg-type]
            log = (tmp_path / "old.log").read_text()
            assert str(tree) in subprocess.run(
                [sys.executable, "-c", "import passgate; print(passgate.__file__)"], env=old_env, cwd=tree,
                capture_output=True, text=True, check=True).stdout, "the old node must run the old code"
            _sign_in_and_register(f"http://localhost:{old_port}", env, "old@contoso.com")
            new_env = {**env, "PASSGATE_ORIGIN": f"http://localhost:{new_port}"}
            with started(["serve", "--no-migrate", "--port", str(new_port), "--workers", "1"], new_env,
                         tmp_path / "new.log") as new:  # both releases side by side, as in a rolling upgrade
                wait_listening(new_port, new, timeout=90)  # type: ignore[arg-type]
                _sign_in_and_register(f"http://localhost:{new_port}", env, "new@contoso.com")
                _sign_in_and_register(f"http://localhost:{old_port}", env, "new@contoso.com")
            assert "Traceback" not in (tmp_path / "old.log").read_text(), log
