"""Changing the authentication methods policy: validate in the core, refuse a change that would lock every
Global Administrator out, store a new version, audit exactly the settings that changed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_failure, audit_record
from passgate.core.errors import Conflict, PassgateError
from passgate.core.policy import evaluate
from passgate.core.policy import graph as policy_json
from passgate.core.policy.diff import changed_settings
from passgate.core.policy.model import AuthenticationMethodsPolicy
from passgate.credentials.models import PolicyVersion
from passgate.credentials.policy_selectors import current_version, policy_at
from passgate.credentials.services import passkey_facts
from passgate.directory.models import DirectoryRole, User

POLICY_TARGET = Target(type="authenticationMethodsPolicy", id="authenticationMethodsPolicy",
                       name="Authentication methods policy")


def _admin_facts() -> list[evaluate.AdminFacts]:
    admins = (User.objects.filter(account_enabled=True, role_assignments__role=DirectoryRole.GLOBAL_ADMINISTRATOR)
              .distinct().prefetch_related("security_groups", "passkeys"))
    return [
        evaluate.AdminFacts(
            user_id=str(admin.pk), upn=admin.user_principal_name,
            group_ids=frozenset(str(g.pk) for g in admin.security_groups.all()),
            passkeys=tuple(passkey_facts(p) for p in admin.passkeys.all() if p.possibly_cloned_at is None),
            # a usable Temporary Access Pass is another way in only while that policy includes the admin;
            # the lock-out rule looks at passkeys, the way Global Administrators sign in day to day
        )
        for admin in admins
    ]


def policy_update(*, body: Mapping[str, Any], actor: Actor, method_id: str | None = None,
                  context: RequestContext = NO_CONTEXT) -> AuthenticationMethodsPolicy:
    """Graph PATCH of the policy (``method_id`` None) or of one method configuration. Nothing changes on error."""
    activity = "authenticationMethodsPolicy.update"
    try:
        row = current_version()
        current = policy_at(row)
        if method_id is None:
            proposed = policy_json.apply_patch(current, body, new_id=lambda: str(uuid.uuid4()))
        else:
            proposed = policy_json.apply_method_patch(current, method_id, body, new_id=lambda: str(uuid.uuid4()))
        changes = changed_settings(current, proposed)
        if not changes:
            return current
        evaluate.require_an_admin_can_sign_in(proposed, _admin_facts(), old_policy=current)
        now = timezone.now()
        try:
            with transaction.atomic():
                PolicyVersion.objects.create(
                    version=(row.version if row else 0) + 1, document=policy_json.to_graph(proposed),
                    changes=[c.to_json() for c in changes], created_at=now, actor_id=actor.id,
                    actor_name=actor.name,
                )
                audit_record(category=Category.POLICY, activity=activity, actor=actor, target=POLICY_TARGET,
                             context=context, details={"changes": [c.to_json() for c in changes],
                                                       "version": (row.version if row else 0) + 1})
        except IntegrityError:
            raise Conflict("The policy was changed by someone else at the same time. Reload it and try again.",
                           code="policy_changed_concurrently") from None
    except PassgateError as exc:
        audit_failure(category=Category.POLICY, activity=activity, reason=exc.code, actor=actor,
                      target=POLICY_TARGET, context=context, details={"message": exc.message[:500]})
        raise
    return policy_at(current_version())
