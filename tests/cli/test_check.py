"""``passgate check``: one line per problem and exit status 1, or "all is well" and 0; it changes nothing.

Each case runs the real command in a process of its own, on a database migrated once for the module (a fresh
PostgreSQL database on a PostgreSQL run), changing one thing in the environment.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import cli, passgate_env, scratch_database

GOOD_SECRET = "Vq3" + "kP9xZ2mL7tR4wN8bY6cH1sD5fG0jQ-_aeiouBCDEFGHIJ"  # 48 characters, 45 distinct
ORIGIN = "https://id.contoso.com"


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a deployment that passes: migrated, both signing keys made."""
    tmp = tmp_path_factory.mktemp("check")
    with scratch_database(tmp, "check") as database_url:
        (tmp / "data").mkdir()
        env = passgate_env(tmp / "data", database_url, PASSGATE_ORIGIN=ORIGIN, PASSGATE_SECRET_KEY=GOOD_SECRET,
                           PASSGATE_TRUSTED_PROXIES="127.0.0.1/32")
        cli(env, "keys", "rotate", "--alg", "ES256")  # migrates first
        cli(env, "keys", "rotate", "--alg", "RS256")
        yield env


def check(env: dict[str, str], **changes: str | None) -> tuple[int, list[str]]:
    run_env = {k: v for k, v in {**env, **changes}.items() if v is not None}
    done = subprocess.run([sys.executable, "-m", "passgate.cli", "check"], env=run_env, capture_output=True,
                          text=True, check=False, timeout=120)
    return done.returncode, done.stdout.splitlines()


def test_a_sound_deployment_passes(ready: dict[str, str]) -> None:
    status, lines = check(ready)
    assert (status, lines) == (0, [f"passgate check: all is well (origin {ORIGIN}, RP ID id.contoso.com)"])


@pytest.mark.parametrize(("changes", "line"), [
    ({"PASSGATE_ORIGIN": "http://id.contoso.com"}, "configuration: PASSGATE_ORIGIN: 'http://id.contoso.com' uses http"),
    ({"PASSGATE_METRICS_TOKEN": "too-short"}, "configuration: PASSGATE_METRICS_TOKEN: must be at least 32 characters"),
    ({"PASSGATE_SECRET_KEY": "x" * 20}, "configuration: PASSGATE_SECRET_KEY: must be at least 32 characters"),
    ({"PASSGATE_ORIGIN": None}, "PASSGATE_ORIGIN: not set, so http://localhost:8000"),
    ({"PASSGATE_RP_ID": "com"}, "PASSGATE_RP_ID: 'com' is a top-level domain"),
    ({"PASSGATE_DEBUG": "true"}, f"PASSGATE_DEBUG: on for the public origin {ORIGIN}"),
    ({"PASSGATE_METRICS_TOKEN": GOOD_SECRET}, "PASSGATE_METRICS_TOKEN: is the secret key"),
    ({"PASSGATE_TRUSTED_PROXIES": None}, "PASSGATE_TRUSTED_PROXIES: not set, but the origin is https"),
])
def test_each_configuration_problem_is_one_line(ready: dict[str, str], changes: dict[str, str | None],
                                                line: str) -> None:
    status, lines = check(ready, **changes)
    assert status == 1 and len(lines) == 1 and lines[0].startswith(line), lines


def test_an_ip_address_is_no_rp_id(ready: dict[str, str]) -> None:
    status, lines = check(ready, PASSGATE_ORIGIN="https://10.0.0.5")
    assert status == 1 and "PASSGATE_RP_ID: '10.0.0.5' is an IP address; WebAuthn needs a domain name" in lines


def test_a_guessable_secret_key_is_named_and_the_keys_made_with_another_are_unusable(ready: dict[str, str]) -> None:
    status, lines = check(ready, PASSGATE_SECRET_KEY="ab" * 20)
    assert status == 1 and len(lines) == 2, lines
    assert lines[0] == ("secret key: too easy to guess (40 characters, 2 distinct); use python3 -c 'import secrets; "
                        "print(secrets.token_urlsafe(48))'")
    assert lines[1].startswith("signing keys: no usable current ES256 or RS256 key") and "abab" not in lines[1]


def test_no_secret_key_yet_is_a_problem_and_check_writes_none(ready: dict[str, str], tmp_path: Path) -> None:
    status, lines = check(ready, PASSGATE_SECRET_KEY=None, PASSGATE_DATA_DIR=str(tmp_path))
    assert status == 1 and len(lines) == 1 and lines[0].startswith("secret key: none yet"), lines
    assert not (tmp_path / "secret_key").exists()


def test_a_secret_key_file_others_can_read(ready: dict[str, str], tmp_path: Path) -> None:
    key = tmp_path / "secret_key"
    key.write_text(GOOD_SECRET + "\n")
    key.chmod(0o644)
    status, lines = check(ready, PASSGATE_SECRET_KEY=None, PASSGATE_DATA_DIR=str(tmp_path))
    assert (status, lines) == (1, [f"secret key: {key} is readable by others (mode 644); chmod 600 {key}"])
    key.chmod(0o600)
    assert check(ready, PASSGATE_SECRET_KEY=None, PASSGATE_DATA_DIR=str(tmp_path))[0] == 0


def test_the_data_directory_must_be_a_directory_that_exists(ready: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert check(ready, PASSGATE_DATA_DIR=str(missing)) == (
        1, [f"data directory: {missing} does not exist (PASSGATE_DATA_DIR)"])
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert check(ready, PASSGATE_DATA_DIR=str(a_file)) == (
        1, [f"data directory: {a_file} is not a directory (PASSGATE_DATA_DIR)"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any directory")
def test_a_read_only_data_directory(ready: dict[str, str], tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        status, lines = check(ready, PASSGATE_DATA_DIR=str(tmp_path))
    finally:
        tmp_path.chmod(0o700)
    assert status == 1 and lines[0].startswith(f"data directory: {tmp_path} is not writable")


def test_a_database_without_migrations(ready: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    status, lines = check(ready, PASSGATE_DATABASE_URL=f"sqlite:///{empty}")
    assert status == 1 and len(lines) == 1, lines
    assert lines[0].startswith("database: ") and "unapplied migration(s)" in lines[0]
    assert lines[0].endswith("; run passgate migrate")


def test_a_missing_sqlite_file_is_named_and_not_created(ready: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "absent.sqlite3"
    assert check(ready, PASSGATE_DATABASE_URL=f"sqlite:///{path}") == (
        1, [f"database: {path} does not exist; run passgate migrate"])
    assert not path.exists()


def test_an_unreachable_database_names_no_password(ready: dict[str, str]) -> None:
    status, lines = check(ready, PASSGATE_DATABASE_URL="postgresql://passgate:hunter2-secret@127.0.0.1:1/passgate")
    assert status == 1 and len(lines) == 1 and lines[0].startswith("database: unreachable: "), lines
    assert "hunter2" not in lines[0]


@pytest.mark.django_db
def test_metadata_the_policy_needs_but_lacks(settings: Any) -> None:
    from passgate.apps.keys import signing_keys_ensure
    from passgate.audit.services import Actor
    from passgate.cli.check import database_problems
    from passgate.credentials.policy import policy_update

    signing_keys_ensure()
    assert database_problems(secret_key_known=True) == []
    policy_update(body={"@passgate.refuseFlaggedModelsAtSignIn": True}, method_id="Fido2", actor=Actor.system("t"))
    assert database_problems(secret_key_known=True) == [
        "mds: the policy needs FIDO metadata and none is imported: passgate mds refresh"]


def test_check_migrates_nothing(ready: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    assert check(ready, PASSGATE_DATABASE_URL=f"sqlite:///{empty}")[0] == 1
    with sqlite3.connect(empty) as db:  # opened (SQLite writes its header), no table made
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
