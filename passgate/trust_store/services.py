"""Importing a FIDO Metadata Service BLOB: verify it in the core, keep it with its history, audit the outcome.
A refused BLOB changes nothing and leaves the previous snapshot in force."""

from __future__ import annotations

import hashlib
import urllib.request
from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_failure, audit_record
from passgate.core.errors import Conflict, InvalidInput, PassgateError
from passgate.core.trust.blob import DEFAULT_MAX_BYTES, verify_blob
from passgate.core.trust.mds import MetadataSnapshot
from passgate.trust_store.models import MetadataBlob
from passgate.trust_store.selectors import current_blob, root_der

MDS_URL = "https://mds3.fidoalliance.org/"
TARGET = Target(type="metadataService", id="mds3", name="FIDO Metadata Service")


def mds_import(*, blob: bytes, source: str, actor: Actor, crls: Sequence[bytes] = (), now: datetime | None = None,
               context: RequestContext = NO_CONTEXT) -> tuple[MetadataBlob, MetadataSnapshot]:
    """Verify and keep a BLOB. Importing the BLOB in force again is a no-op that answers it."""
    when = now or timezone.now()
    digest = hashlib.sha256(blob).hexdigest()
    try:
        in_force = current_blob()
        snapshot = verify_blob(blob, root_der=root_der(), now=when, crls=crls,
                               current_no=in_force.no if in_force else None)
        if in_force is not None and in_force.no == snapshot.no:
            if in_force.sha256 == digest:
                return in_force, snapshot
            raise Conflict(f"A different BLOB with serial number no={snapshot.no} is already in force; a new "
                           "BLOB must have a higher number.", code="mds_duplicate_no")
        try:
            with transaction.atomic():
                row = MetadataBlob.objects.create(
                    no=snapshot.no, next_update=snapshot.next_update, sha256=digest, blob=blob,
                    entries=len(snapshot.entries), legal_header=snapshot.legal_header[:5000], imported_at=when,
                    imported_by=actor.name, source=source[:512])
                details = {"no": snapshot.no, "nextUpdate": snapshot.next_update.isoformat(),
                           "entries": len(snapshot.entries), "stale": snapshot.stale, "sha256": digest,
                           "source": source[:512]}
                audit_record(category=Category.SYSTEM, activity="mds.import", actor=actor, target=TARGET,
                             context=context, details=details)
        except IntegrityError:
            raise Conflict(f"A BLOB with serial number no={snapshot.no} was imported at the same time.",
                           code="mds_duplicate_no") from None
    except PassgateError as exc:
        audit_failure(category=Category.SYSTEM, activity="mds.import", reason=exc.code, actor=actor, target=TARGET,
                      context=context, details={"message": exc.message[:500], "sha256": digest,
                                                "source": source[:512]})
        raise
    return row, snapshot


def mds_download(url: str = MDS_URL, *, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = 30.0) -> bytes:
    """Fetch a BLOB over https (or from a file:// URL), refusing anything larger than ``max_bytes``."""
    if not url.startswith(("https://", "file://")):
        raise InvalidInput(f"{url!r}: the metadata URL must be https:// (or file:// for a local copy)",
                           code="invalid_mds_url")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            data: bytes = response.read(max_bytes + 1)
    except OSError as exc:
        raise InvalidInput(f"Could not download the metadata BLOB from {url}: {exc}", code="mds_download_failed") \
            from None
    if len(data) > max_bytes:
        raise InvalidInput(f"The metadata BLOB at {url} is larger than {max_bytes} bytes", code="mds_too_large")
    return data
