"""FIDO metadata and the passkeys already registered: import a BLOB, then flag every passkey whose model the new
metadata marks untrusted (REVOKED, key compromise, user-verification bypass), each flag audited."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from passgate.audit.models import Category, Result
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_record
from passgate.core.trust.mds import UNTRUSTED_STATUSES, MetadataSnapshot
from passgate.credentials.models import Passkey
from passgate.trust_store.models import MetadataBlob
from passgate.trust_store.services import mds_import


def metadata_import(*, blob: bytes, source: str, actor: Actor, crls: Sequence[bytes] = (),
                    context: RequestContext = NO_CONTEXT) -> tuple[MetadataBlob, MetadataSnapshot, int]:
    """Import a BLOB (see ``mds_import``) and flag the passkeys it revokes; answers how many were flagged."""
    row, snapshot = mds_import(blob=blob, source=source, actor=actor, crls=crls, context=context)
    return row, snapshot, passkeys_flag_untrusted_models(snapshot=snapshot, actor=actor, context=context)


def passkeys_flag_untrusted_models(*, snapshot: MetadataSnapshot, actor: Actor,
                                   context: RequestContext = NO_CONTEXT) -> int:
    now = timezone.now()
    flagged = 0
    for aaguid in Passkey.objects.filter(metadata_revoked_at__isnull=True).values_list("aaguid", flat=True).distinct():
        entry = snapshot.by_aaguid(str(aaguid))
        if entry is None or entry.status not in UNTRUSTED_STATUSES:
            continue
        with transaction.atomic():
            for passkey in Passkey.objects.select_for_update().select_related("user").filter(
                    aaguid=aaguid, metadata_revoked_at__isnull=True):
                passkey.metadata_revoked_at, passkey.metadata_status = now, entry.status.value
                passkey.save(update_fields=["metadata_revoked_at", "metadata_status"])
                audit_record(category=Category.SECURITY_INFO, activity="passkey.modelUntrusted", result=Result.FAILURE,
                             reason=entry.status.value.lower(), actor=actor,
                             target=Target(type="passkey", id=str(passkey.pk), name=passkey.display_name),
                             context=context, details={"owner": passkey.user.user_principal_name,
                                                       "aaGuid": str(aaguid), "model": entry.description or "",
                                                       "status": entry.status.value, "metadataNo": snapshot.no})
                flagged += 1
    return flagged


def flagged_passkeys() -> QuerySet[Passkey]:
    """The admin report: passkeys whose model FIDO metadata no longer trusts."""
    return Passkey.objects.filter(metadata_revoked_at__isnull=False).select_related("user").order_by(
        "-metadata_revoked_at")
