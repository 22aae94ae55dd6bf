"""Whether this process can serve: the checks behind ``/readyz`` (and ``passgate check``).

Each check answers ``ok`` or names what is wrong in words that hold no secret (no URL with a password, no key).

- ``database``: a query answers, and every migration this code ships is recorded as applied. The migration graph
  is read from disk once per process; each probe then costs one query of ``django_migrations``.
- ``signing_keys``: a current token-signing key exists for every algorithm and decrypts with the secret key (a
  changed secret key makes them unusable; ``passgate serve`` creates them at start).
- ``mds``: when the authentication methods policy needs FIDO metadata (a passkey profile enforces attestation, or
  flagged models are refused at sign-in), a BLOB is in force and not past its ``nextUpdate`` by more than
  ``PASSGATE_MDS_GRACE_DAYS``. When metadata is imported but not needed, a stale BLOB is reported, not fatal.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from passgate.apps.keys import ALGORITHMS, signing_key_usable
from passgate.core.policy.model import AttestationEnforcement, AuthenticationMethodsPolicy, MethodState
from passgate.credentials.policy_selectors import current_policy
from passgate.trust_store.selectors import current_blob

log = logging.getLogger(__name__)

_lock = threading.Lock()
_shipped: frozenset[tuple[str, str]] | None = None


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str  # "ok", or what is wrong (never a secret)
    fatal: bool = True  # a failed non-fatal check is reported and leaves the process ready


def shipped_migrations() -> frozenset[tuple[str, str]]:
    """Every (app, migration) on disk, replaced ones excluded (read once per process: code does not change)."""
    global _shipped  # noqa: PLW0603 - a per-process memo of what is on disk
    with _lock:
        if _shipped is None:
            loader = MigrationLoader(None, ignore_no_migrations=True)
            _shipped = frozenset(loader.graph.nodes)
        return _shipped


def unapplied_migrations() -> list[str]:
    """The migrations on disk the database has not recorded as applied ("app.name"), sorted. Raises DatabaseError."""
    applied = set(MigrationRecorder(connection).applied_migrations())
    return sorted(f"{app}.{name}" for app, name in shipped_migrations() - applied)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        missing = unapplied_migrations()
    except DatabaseError as exc:
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        return Check("database", False, f"unreachable ({type(exc).__name__})")
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        return Check("database", False, f"{len(missing)} unapplied migration(s): {', '.join(missing[:3])}{more}; "
                                        "run passgate migrate")
    return Check("database", True, "ok")


def check_signing_keys() -> Check:
    try:
        missing = [alg for alg in ALGORITHMS if not signing_key_usable(alg)]
    except DatabaseError as exc:
        return Check("signing_keys", False, f"unreadable ({type(exc).__name__})")
    if missing:
        return Check("signing_keys", False, f"no usable current {' or '.join(missing)} key (none yet, or made with "
                                            "another PASSGATE_SECRET_KEY: another node's, or the key was changed "
                                            "since): give every node the same secret key, or passgate keys rotate "
                                            f"--alg {missing[0]}")
    return Check("signing_keys", True, "ok")


def metadata_required(policy: AuthenticationMethodsPolicy) -> bool:
    """Whether sign-in or registration depends on FIDO metadata under this policy."""
    fido2 = policy.fido2
    if fido2.state is not MethodState.ENABLED:
        return False
    return fido2.refuse_flagged_models_at_sign_in or any(
        p.attestation_enforcement is AttestationEnforcement.REGISTRATION_ONLY for p in fido2.passkey_profiles)


def mds_stale(next_update: date, *, today: date | None = None) -> bool:
    today = today or timezone.now().date()
    return today > next_update + timedelta(days=settings.PASSGATE.mds_grace_days)


def check_mds() -> Check:
    try:
        required = metadata_required(current_policy())
        blob = current_blob()
    except DatabaseError as exc:
        return Check("mds", False, f"unreadable ({type(exc).__name__})")
    if blob is None:
        if required:
            return Check("mds", False, "the policy needs FIDO metadata and none is imported: passgate mds refresh")
        return Check("mds", True, "not configured", fatal=False)
    if mds_stale(blob.next_update):
        detail = (f"stale: nextUpdate {blob.next_update.isoformat()} is more than "
                  f"{settings.PASSGATE.mds_grace_days} day(s) ago: passgate mds refresh")
        return Check("mds", False, detail, fatal=required)
    return Check("mds", True, "ok", fatal=required)


def readiness() -> list[Check]:
    database = check_database()
    if not database.ok:  # the other checks read the database too: one clear failure, not three
        return [database]
    return [database, check_signing_keys(), check_mds()]


def failing(checks: list[Check]) -> list[str]:
    return [c.name for c in checks if not c.ok and c.fatal]
