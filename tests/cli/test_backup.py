"""``passgate backup`` and ``passgate restore`` (issue 13 part 7), through the real CLI and a real server: a person
with a passkey, a backup, everything wiped (a new empty database, a data directory without the secret key), a
restore, and the same passkey signs in to a server on the restored data. Each refusal is one line and changes
nothing. On the PostgreSQL run the database goes through pg_dump and pg_restore; on SQLite through its backup API."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.multinode.cluster import Person
from tests.processes import cli, free_port, on_postgres, passgate_env, scratch_database, started, wait_listening

KEY = "backup-test-secret-key-0123456789-abcdefghij"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "passgate.cli", *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)


def serve(env: dict[str, str], tmp_path: Path, name: str) -> Any:
    port = free_port()
    env = {**env, "PASSGATE_ORIGIN": f"http://localhost:{port}"}
    return port, started(["serve", "--no-migrate", "--port", str(port), "--workers", "1"], env, tmp_path / name)


@pytest.fixture
def original(tmp_path: Path) -> Any:
    """A deployment with a person who registered a passkey over HTTP: (env, the person, their UPN)."""
    with scratch_database(tmp_path, "backup") as url:
        env = passgate_env(tmp_path / "data-a", url)  # the secret key lives in the data directory
        cli(env, "migrate")
        cli(env, "users", "add", "pat@contoso.com", "--display-name", "Pat")
        tap = json.loads(cli(env, "tap", "issue", "--user", "pat@contoso.com", "--json"))["temporaryAccessPass"]
        port, server = serve(env, tmp_path, "a.log")
        with server as proc:
            wait_listening(port, proc, timeout=90)
            base = f"http://localhost:{port}"
            person = Person(base)
            person.tap_sign_in(base, "pat@contoso.com", tap)
            verified, _ = person.register(base, name="Pat's key")
            assert verified.status_code == 200, verified.text
        yield env, person


def test_a_backup_restored_into_an_empty_place_signs_the_same_passkey_in(original: Any, tmp_path: Path) -> None:
    env, person = original
    archive = tmp_path / "passgate-backup.tar.gz"
    done = run(env, "backup", str(archive))
    assert done.returncode == 0, done.stderr
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as tar:
        names = sorted(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    kind = "postgresql" if on_postgres() else "sqlite"
    assert names == sorted(["manifest.json", "secret_key",
                            "database.pgdump" if kind == "postgresql" else "database.sqlite3"])
    assert manifest["format"] == "passgate-backup" and manifest["version"] == 1 and manifest["database"] == kind
    assert run(env, "backup", str(archive)).returncode == 1  # never overwritten without --force

    with scratch_database(tmp_path, "restored") as url:
        fresh = passgate_env(tmp_path / "data-b", url)  # no secret key yet, an empty database
        restored = run(fresh, "restore", str(archive))
        assert restored.returncode == 0, restored.stderr
        assert (tmp_path / "data-b" / "secret_key").read_text() == (tmp_path / "data-a" / "secret_key").read_text()
        assert "pat@contoso.com" in cli(fresh, "users", "list")
        port, server = serve(fresh, tmp_path, "b.log")
        with server as proc:
            wait_listening(port, proc, timeout=90)
            base = f"http://localhost:{port}"
            again = Person(base)
            again.passkeys = person.passkeys  # the same authenticator, its counter where the original left it
            signed = again.sign_in(base)
            assert signed.status_code == 200, signed.text
            assert again.signed_in(base)
        checked = run(fresh, "check").stdout.lower()  # the restored signing keys decrypt with the restored key
        assert "signing key" not in checked and "migration" not in checked, checked

        refused = run(fresh, "restore", str(archive))  # the database holds Passgate now
        assert refused.returncode == 1 and "already holds Passgate data" in refused.stderr
        assert run(fresh, "restore", "--force", str(archive)).returncode == 0


@pytest.fixture(scope="module")
def valid_archive(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A backup of a migrated deployment with one user (no server needed), made once for the refusal tests."""
    tmp = tmp_path_factory.mktemp("archive")
    with scratch_database(tmp, "archived") as url:
        env = passgate_env(tmp / "data", url)
        cli(env, "migrate")
        cli(env, "users", "add", "pat@contoso.com")
        archive = tmp / "good.tar.gz"
        assert run(env, "backup", str(archive)).returncode == 0
        yield archive


def _rewrite(archive: Path, target: Path, change: Any) -> Path:
    """A copy of ``archive`` whose members went through ``change(name, bytes) -> bytes | None`` (None drops)."""
    with tarfile.open(archive) as tar, tarfile.open(target, "w:gz") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            data = change(member.name, data)
            if data is None:
                continue
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return target


def _written(target: Path, data: bytes) -> Path:
    target.write_bytes(data)
    return target


def _manifest(edit: Any) -> Any:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest).encode()

    return change


@pytest.mark.parametrize(("make", "message"), [
    (lambda a, t: _written(t, a.read_bytes()[: len(a.read_bytes()) // 2]), "damaged or truncated"),
    (lambda a, t: _written(t, gzip.compress(b"not a tar")), "damaged or truncated"),
    (lambda a, t: _rewrite(a, t, _manifest(lambda m: m.update(version=2))), "format version 2"),
    (lambda a, t: _rewrite(a, t, _manifest(lambda m: m.update(format="other"))), "not a Passgate backup"),
    (lambda a, t: _rewrite(a, t, lambda n, d: d + b"x" if n == "secret_key" else d), "does not match its checksum"),
    (lambda a, t: _rewrite(a, t, lambda n, d: None if n == "manifest.json" else d), "not a Passgate backup"),
    (lambda a, t: _rewrite(a, t, lambda n, d: None if n == "secret_key" else d), "differ from its manifest"),
], ids=["truncated", "not-a-tar", "version", "format", "tampered", "no-manifest", "missing-member"])
def test_a_bad_archive_is_refused_in_one_line_and_changes_nothing(valid_archive: Path, tmp_path: Path, make: Any,
                                                                  message: str) -> None:
    archive = valid_archive
    bad = make(archive, tmp_path / "bad.tar.gz")
    with scratch_database(tmp_path, "target") as url:
        fresh = passgate_env(tmp_path / "data-c", url)
        done = run(fresh, "restore", str(bad))
        assert done.returncode == 1, done
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], lines
        assert not (tmp_path / "data-c" / "secret_key").exists()
        assert run(fresh, "restore", str(archive)).returncode == 0  # the database was left empty


def test_a_restore_refuses_another_secret_key_in_the_environment(valid_archive: Path, tmp_path: Path) -> None:
    archive = valid_archive
    with scratch_database(tmp_path, "keyed") as url:
        fresh = passgate_env(tmp_path / "data-d", url, PASSGATE_SECRET_KEY=KEY)
        done = run(fresh, "restore", str(archive))
        assert done.returncode == 1 and "PASSGATE_SECRET_KEY is not the key this backup was made with" in done.stderr
        assert KEY not in done.stderr and KEY not in done.stdout
