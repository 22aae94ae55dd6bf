"""The redundancy nudge (issue 14 item 14): is a person one lost passkey away from a helpdesk call, and when should
Security info ask them to add a second one (``core.redundancy`` decides; this module reads and records)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, RequestContext, audit_record
from passgate.core.redundancy import Fragility, PasskeyKind, fragility, nudge_due
from passgate.credentials.selectors import passkeys_of
from passgate.directory.models import User
from passgate.directory.services import actor_for, user_target


def passkey_redundancy_nudge_due(*, user: User) -> Fragility | None:
    """The person's fragility when Security info should ask for a second passkey now (``core.redundancy``), else
    None. Reads the memoized passkeys and the user row the request has already."""
    found = fragility([PasskeyKind(aaguid=str(p.aaguid), synced=p.backup_eligible) for p in passkeys_of(user)])
    due = nudge_due(found, dismissed_at=user.redundancy_nudge_dismissed_at, now=timezone.now())
    return found if due else None


def passkey_redundancy_nudge_dismiss(*, user: User, context: RequestContext = NO_CONTEXT) -> None:
    """"Not now" to adding a second passkey: quiet for ``core.redundancy.NUDGE_INTERVAL``; audited."""
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(redundancy_nudge_dismissed_at=now)
        audit_record(category=Category.SECURITY_INFO, activity="passkey.redundancyNudgeDismiss",
                     actor=actor_for(user), target=user_target(user), context=context)
    user.redundancy_nudge_dismissed_at = now
