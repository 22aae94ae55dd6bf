"""``passgate backup FILE`` and ``passgate restore FILE`` (issue 13 part 7; docs/operations.md "Backup and restore").

One archive (a gzip'd tar, written mode 0600) holds what a node cannot be rebuilt without:

- ``manifest.json``: format and version, when, Passgate's version, the database kind, and each member's SHA-256;
- the database: SQLite through its online backup API (a consistent copy while Passgate runs), PostgreSQL through
  ``pg_dump --format=custom``;
- ``secret_key``: the key the token-signing keys are encrypted with and passes and sessions are keyed by (without
  it a restored database's signing keys do not decrypt and every pass is void; passkeys still work).

A restore checks the whole archive before it changes anything (format, version, members, checksums), refuses a
database that already holds Passgate unless ``--force``, and then puts the database back (SQLite: the file replaced
in one rename; PostgreSQL: ``pg_restore --clean``) and the secret key (into the data directory, unless
``PASSGATE_SECRET_KEY`` is set, which must then be the archive's key).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from passgate.cli import CliError
from passgate.config.env import GENERATED_SECRET_KEYS

FORMAT = "passgate-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SECRET_KEY = "secret_key"  # noqa: S105 - the archive member's name
MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MAX_MEMBER_BYTES = 64 * 1024**3  # a member larger than this is not one Passgate wrote


def _passgate_version() -> str:
    try:
        return version("passgate")
    except PackageNotFoundError:
        return "unknown"


def _database() -> tuple[str, dict[str, Any]]:
    db = settings.DATABASES["default"]
    engine = db["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite", dict(db)
    if engine.endswith("postgresql"):
        return "postgresql", dict(db)
    raise CliError(f"backup: the {engine} database is not supported")


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD"),
                      ("NAME", "PGDATABASE")):
        if db.get(key):
            env[name] = str(db[key])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True,  # noqa: S603 - pg_dump/pg_restore
                              check=False, timeout=3600)
    except FileNotFoundError:
        raise CliError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise CliError(f"{command[0]} failed: {lines[-1] if lines else 'exit status ' + str(done.returncode)}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- backup -------------------------------------------------------------------------------------------------

def backup(target: Path, *, force: bool = False) -> dict[str, Any]:
    if target.exists() and not force:
        raise CliError(f"{target} exists; choose another file or pass --force to replace it")
    kind, db = _database()
    with tempfile.TemporaryDirectory(prefix="passgate-backup-") as work:
        folder = Path(work)
        database = folder / MEMBERS[kind]
        if kind == "sqlite":
            connections.close_all()
            with contextlib.closing(sqlite3.connect(str(db["NAME"]))) as source, \
                    contextlib.closing(sqlite3.connect(str(database))) as copy:
                source.backup(copy)  # consistent while other processes write
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={database}"], _pg_env(db))
        key = folder / SECRET_KEY
        key.write_text(settings.SECRET_KEY + "\n", encoding="utf-8")
        manifest = {"format": FORMAT, "version": FORMAT_VERSION,
                    "created": datetime.now(UTC).isoformat(timespec="seconds"), "passgate": _passgate_version(),
                    "database": kind, "files": {p.name: _sha256(p) for p in (database, key)}}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        partial = target.with_name(f".{target.name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name in (MANIFEST, database.name, SECRET_KEY):
                tar.add(folder / name, arcname=name, recursive=False)
        os.replace(partial, target)  # never a half-written archive under the chosen name
    return manifest


# --- restore ------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _checked_archive(source: Path) -> Iterator[tuple[dict[str, Any], Path]]:
    """The archive's manifest and a folder with its members, every check passed; else CliError."""
    if not source.is_file():
        raise CliError(f"{source}: no such file")
    with tempfile.TemporaryDirectory(prefix="passgate-restore-") as work:
        folder = Path(work)
        try:
            with tarfile.open(source, mode="r:gz") as tar:
                members = tar.getmembers()
                names = [m.name for m in members]
                if MANIFEST not in names:
                    raise CliError(f"{source}: not a Passgate backup (no {MANIFEST})")
                for member in members:
                    if not member.isfile() or "/" in member.name or member.name.startswith("."):
                        raise CliError(f"{source}: unexpected member {member.name!r}")
                    if member.size > MAX_MEMBER_BYTES:
                        raise CliError(f"{source}: member {member.name!r} is too large")
                tar.extractall(folder, filter="data")
        except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as exc:
            raise CliError(f"{source}: the archive is damaged or truncated ({type(exc).__name__})") from None
        yield _checked_manifest(source, folder, names), folder


def _checked_manifest(source: Path, folder: Path, names: list[str]) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise CliError(f"{source}: {MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CliError(f"{source}: not a Passgate backup")
    if manifest.get("version") != FORMAT_VERSION:
        raise CliError(f"{source}: backup format version {manifest.get('version')!r}; this Passgate reads "
                       f"version {FORMAT_VERSION}")
    files = manifest.get("files")
    kind = manifest.get("database")
    if kind not in MEMBERS or not isinstance(files, dict) or set(files) != {MEMBERS[kind], SECRET_KEY}:
        raise CliError(f"{source}: the manifest does not list a database and a secret key")
    if set(names) != {MANIFEST, *files}:
        raise CliError(f"{source}: the archive's members differ from its manifest")
    for name, expected in files.items():
        if _sha256(folder / name) != expected:
            raise CliError(f"{source}: {name} does not match its checksum (damaged or altered)")
    return manifest


def _holds_passgate(kind: str, db: dict[str, Any]) -> bool:
    if kind == "sqlite":
        path = Path(str(db["NAME"]))
        if not path.exists() or path.stat().st_size == 0:
            return False
        with contextlib.closing(sqlite3.connect(str(path))) as conn:
            return bool(conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        return bool(cursor.fetchone()[0])


def restore(source: Path, *, force: bool = False) -> dict[str, Any]:
    """Put the archive back, or change nothing: a secret-key file this command's own start created (there was
    none) is removed again when the restore is refused."""
    try:
        return _restore(source, force=force)
    except CliError:
        for path in list(GENERATED_SECRET_KEYS):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            GENERATED_SECRET_KEYS.discard(path)
        raise


def _restore(source: Path, *, force: bool) -> dict[str, Any]:
    kind, db = _database()
    with _checked_archive(source) as (manifest, folder):
        if manifest["database"] != kind:
            raise CliError(f"{source} holds a {manifest['database']} database; this Passgate is configured for "
                           f"{kind} (PASSGATE_DATABASE_URL)")
        key = (folder / SECRET_KEY).read_text(encoding="utf-8").strip()
        given = os.environ.get("PASSGATE_SECRET_KEY")
        key_file = Path(settings.PASSGATE.data_dir) / SECRET_KEY
        if given and given != key and not force:
            raise CliError("PASSGATE_SECRET_KEY is not the key this backup was made with: its signing keys would "
                           "not decrypt and its passes would be void; set it to the archive's secret_key member "
                           "(tar -xzOf FILE secret_key), or pass --force")
        made_now = key_file in GENERATED_SECRET_KEYS  # by this very command's start: nothing depends on it yet
        if (not given and key_file.exists() and not made_now
                and key_file.read_text(encoding="utf-8").strip() != key and not force):
            raise CliError(f"{key_file} holds another secret key; move it away, or pass --force to replace it")
        if _holds_passgate(kind, db) and not force:
            raise CliError("the database already holds Passgate data; restore into an empty database, or pass "
                           "--force to replace it")
        connections.close_all()
        if kind == "sqlite":
            target = Path(str(db["NAME"]))
            target.parent.mkdir(parents=True, exist_ok=True)
            staged = target.with_name(f".{target.name}.restoring")
            with contextlib.closing(sqlite3.connect(str(folder / MEMBERS[kind]))) as source_db, \
                    contextlib.closing(sqlite3.connect(str(staged))) as copy:
                source_db.backup(copy)
            for suffix in ("-wal", "-shm"):  # the old file's write-ahead log must not be replayed onto the new one
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{target}{suffix}").unlink()
            os.replace(staged, target)
        else:
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
                  f"--dbname={db['NAME']}", str(folder / MEMBERS[kind])], _pg_env(db))
        if not given:
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(key + "\n")
    return manifest


def describe(manifest: dict[str, Any]) -> str:
    return (f"{manifest['database']} database and secret key, made {manifest['created']} by Passgate "
            f"{manifest['passgate']}")

