"""Changing the authentication methods policy: validate in the core, refuse a change that would lock every
Global Administrator out, store a new version, audit exactly the settings that changed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_failure, audit_record
from passgate.core.errors import Conflict, PassgateError
from passgate.core.policy import evaluate
from passgate.core.policy import graph as policy_json
from passgate.core.policy.diff import changed_settings
from passgate.core.policy.errors import PolicyValidationError
from passgate.core.policy.model import AttestationEnforcement, AuthenticationMethodsPolicy
from passgate.credentials.models import Passkey, PolicyVersion
from passgate.credentials.policy_selectors import current_version, policy_at
from passgate.credentials.services import passkey_facts
from passgate.directory.models import DirectoryRole, User
from passgate.trust_store.selectors import current_blob

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
        proposed = policy_preview(body=body, method_id=method_id)
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


@dataclass(frozen=True)
class PolicyImpact:
    """What a proposed policy would do to passkeys already registered (the admin centre's preview)."""

    passkeys_blocked: int
    users_affected: int
    passkeys_total: int
    examples: tuple[tuple[str, str, str], ...]  # (UPN, passkey name, why) for the first few


def policy_impact(*, proposed: AuthenticationMethodsPolicy, examples: int = 5) -> PolicyImpact:
    """Registered passkeys that could sign in under the policy in force but not under ``proposed``."""
    current = policy_at(current_version())
    blocked: list[tuple[str, str, str]] = []
    users: set[str] = set()
    total = 0
    for passkey in Passkey.objects.select_related("user").prefetch_related("user__security_groups").iterator(
            chunk_size=500):
        total += 1
        facts = passkey_facts(passkey)
        user = evaluate.UserFacts(group_ids=frozenset(str(g.pk) for g in passkey.user.security_groups.all()))
        now_ok = evaluate.evaluate_passkey(current, user, facts, evaluate.Phase.SIGN_IN).allowed
        after = evaluate.evaluate_passkey(proposed, user, facts, evaluate.Phase.SIGN_IN)
        if now_ok and not after.allowed:
            users.add(str(passkey.user_id))
            blocked.append((passkey.user.user_principal_name, passkey.display_name, after.message))
    return PolicyImpact(passkeys_blocked=len(blocked), users_affected=len(users), passkeys_total=total,
                        examples=tuple(blocked[:examples]))


def policy_preview(*, body: Mapping[str, Any], method_id: str | None = None) -> AuthenticationMethodsPolicy:
    """The policy a PATCH would produce, validated, without saving anything."""
    current = policy_at(current_version())
    if method_id is None:
        return policy_json.apply_patch(current, body, new_id=lambda: str(uuid.uuid4()))
    return policy_json.apply_method_patch(current, method_id, body, new_id=lambda: str(uuid.uuid4()))


def policy_warnings(*, proposed: AuthenticationMethodsPolicy) -> list[str]:
    """What the review must say before Save, in plain words: a change that would lock out every Global
    Administrator (Save refuses it), and attestation required while no FIDO metadata is loaded (every new passkey
    would be refused)."""
    found: list[str] = []
    current = policy_at(current_version())
    try:
        evaluate.require_an_admin_can_sign_in(proposed, _admin_facts(), old_policy=current)
    except PolicyValidationError as exc:
        why = exc.message.replace("This change was refused: with it, ", "", 1)
        found.append(f"Saving this would lock out every Global Administrator: with it, {why} To avoid it, add the "
                     "administrators' group to a passkey profile their passkeys satisfy, or keep their passkeys' "
                     "type and model allowed. Save will refuse this change.")
    enforcing = [p.name for p in proposed.fido2.passkey_profiles
                 if p.attestation_enforcement is not AttestationEnforcement.DISABLED]
    if enforcing and current_blob() is None:
        found.append(f"No FIDO metadata is loaded, and {', '.join(repr(n) for n in enforcing)} requires "
                     "attestation: every new passkey would be refused. Load the metadata first: passgate mds "
                     "refresh, or passgate mds import FILE on a machine without internet access.")
    return found

