"""Creating, changing and deleting custom authentication strengths and Conditional Access policies.

Each service takes Graph JSON (a POST or PATCH body), lets ``passgate.core.access`` validate it, stores the
result as its Graph document and writes an audit row (category policy), in one transaction. A refused body
changes nothing and is audited with its reason code.

Two rules beyond Graph's validation:

- A strength that a Conditional Access policy names can't be deleted (Graph answers the same).
- No change may lock every Global Administrator out of the admin centre: if, before the change, at least one
  enabled Global Administrator could reach it with one of their passkeys and, after it, none could, the change
  is refused (``adminLockout``). Entra only warns; a self-hosted identity provider has no support line to call.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from passgate.access.models import AccessPolicy, StrengthPolicy
from passgate.access.selectors import access_request_for, ca_policies, ca_policy_get, strength_get, strengths
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_failure, audit_record
from passgate.core.access import (
    ADMIN_CENTRE_APP_ID,
    BUILT_IN_STRENGTHS,
    Authentication,
    AuthenticationStrength,
    AuthMethodMode,
    ConditionalAccessPolicy,
    MethodUse,
    ca_policy_apply_patch,
    ca_policy_from_graph,
    ca_policy_to_graph,
    change_locks_out,
    strength_apply_patch,
    strength_delete_check,
    strength_from_graph,
    strength_to_graph,
    strength_usage,
)
from passgate.core.access.strengths import Fido2CombinationConfiguration
from passgate.core.errors import Conflict, NotFound, PassgateError
from passgate.core.policy.errors import ADMIN_LOCKOUT, POLICY_RULE, PolicyValidationError
from passgate.directory.models import DirectoryRole, User

STRENGTH = "authenticationStrengthPolicy"
CA_POLICY = "conditionalAccessPolicy"
T = TypeVar("T")


def _target(kind: str, object_id: str, name: str) -> Target:
    return Target(type=kind, id=object_id, name=name[:256])


def _audited(activity: str, work: Callable[[], T], *, kind: str, object_id: str, actor: Actor,
             context: RequestContext) -> T:
    """Run ``work``; audit a refusal (with its reason code) and re-raise it."""
    try:
        return work()
    except PassgateError as exc:
        audit_failure(category=Category.POLICY, activity=activity, reason=exc.code, actor=actor,
                      target=_target(kind, object_id, ""), context=context,
                      details={"message": exc.message[:500],
                               **({"target": exc.target} if isinstance(exc, PolicyValidationError) else {})})
        raise


# --- authentication strengths -------------------------------------------------------------------------------------

def _unique_name(name: str, *, exclude: str | None = None) -> None:
    clash = StrengthPolicy.objects.filter(name_key=name.casefold())
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists() or any(s.display_name.casefold() == name.casefold() for s in BUILT_IN_STRENGTHS.values()):
        raise PolicyValidationError(f"displayName: an authentication strength is already called {name!r}",
                                    target="displayName", code=POLICY_RULE)


def strength_create(*, body: Mapping[str, Any], actor: Actor,
                    context: RequestContext = NO_CONTEXT) -> AuthenticationStrength:
    new_id = str(uuid.uuid4())

    def work() -> AuthenticationStrength:
        now = timezone.now()
        strength = strength_from_graph(body, id=new_id, now=now)
        _unique_name(strength.display_name)
        try:
            with transaction.atomic():
                StrengthPolicy.objects.create(id=new_id, display_name=strength.display_name,
                                              name_key=strength.display_name.casefold(),
                                              document=strength_to_graph(strength), created_at=now, modified_at=now)
                audit_record(category=Category.POLICY, activity=f"{STRENGTH}.create", actor=actor,
                             target=_target(STRENGTH, new_id, strength.display_name), context=context,
                             details={"new": strength_to_graph(strength)})
        except IntegrityError:
            raise Conflict(f"An authentication strength called {strength.display_name!r} was just created.",
                           code="name_taken") from None
        return strength

    return _audited(f"{STRENGTH}.create", work, kind=STRENGTH, object_id=new_id, actor=actor,
                    context=context)


def strength_update(*, strength_id: str, body: Mapping[str, Any], actor: Actor,
                    context: RequestContext = NO_CONTEXT) -> AuthenticationStrength:
    def work() -> AuthenticationStrength:
        with transaction.atomic():
            current = strength_get(strength_id)
            changed = strength_apply_patch(current, body, now=timezone.now())  # built-ins: refused here
            row = _locked_row(current)
            _unique_name(changed.display_name, exclude=current.id)
            before, after = strength_to_graph(current), strength_to_graph(changed)
            if _settings(before) == _settings(after):
                return current
            row.display_name = changed.display_name
            row.name_key = changed.display_name.casefold()
            row.document = after
            row.modified_at = changed.modified or timezone.now()
            row.save()
            audit_record(category=Category.POLICY, activity=f"{STRENGTH}.update", actor=actor,
                         target=_target(STRENGTH, current.id, changed.display_name), context=context,
                         details={"old": before, "new": after})
            return changed

    return _audited(f"{STRENGTH}.update", work, kind=STRENGTH, object_id=strength_id, actor=actor,
                    context=context)


# --- a strength's sub-resources (Graph: combinationConfigurations, updateAllowedCombinations) --------------------

def _configuration_of(strength: AuthenticationStrength, configuration_id: str) -> Fido2CombinationConfiguration:
    found = strength.fido2_configuration
    if found is None or found.id.lower() != configuration_id.lower():
        raise NotFound(f"There is no combination configuration {configuration_id!r} in this authentication strength.",
                       code="not_found")
    return found


def _configuration_graph(config: Fido2CombinationConfiguration) -> dict[str, Any]:
    return {"@odata.type": config.ODATA_TYPE, "appliesToCombinations": list(config.APPLIES_TO_COMBINATIONS),
            "allowedAAGUIDs": list(config.allowed_aaguids)}


def strength_configuration_create(*, strength_id: str, body: Mapping[str, Any], actor: Actor,
                                  context: RequestContext = NO_CONTEXT) -> Fido2CombinationConfiguration:
    """``POST …/combinationConfigurations``: a strength has at most one (for ``fido2``); a second is refused."""
    def check() -> None:
        if strength_get(strength_id).fido2_configuration is not None:
            raise PolicyValidationError("combinationConfigurations: this authentication strength already has a "
                                        "fido2 combination configuration; change it (PATCH) or delete it first",
                                        target="combinationConfigurations", code=POLICY_RULE)

    _audited(f"{STRENGTH}.update", check, kind=STRENGTH, object_id=strength_id, actor=actor, context=context)
    changed = strength_update(strength_id=strength_id, body={"combinationConfigurations": [dict(body)]}, actor=actor,
                              context=context)
    created = changed.fido2_configuration
    assert created is not None  # noqa: S101 - strength_update stored exactly one
    return created


def strength_configuration_update(*, strength_id: str, configuration_id: str, body: Mapping[str, Any], actor: Actor,
                                  context: RequestContext = NO_CONTEXT) -> Fido2CombinationConfiguration:
    """``PATCH …/combinationConfigurations/{id}``: the properties given replace the configuration's."""
    current = _audited(f"{STRENGTH}.update", lambda: _configuration_of(strength_get(strength_id), configuration_id),
                       kind=STRENGTH, object_id=strength_id, actor=actor, context=context)
    merged = {**_configuration_graph(current), **dict(body)}
    changed = strength_update(strength_id=strength_id, body={"combinationConfigurations": [merged]}, actor=actor,
                              context=context)
    updated = changed.fido2_configuration
    assert updated is not None  # noqa: S101 - one was there, and a PATCH keeps it
    return updated


def strength_configuration_delete(*, strength_id: str, configuration_id: str, actor: Actor,
                                  context: RequestContext = NO_CONTEXT) -> None:
    _audited(f"{STRENGTH}.update", lambda: _configuration_of(strength_get(strength_id), configuration_id),
             kind=STRENGTH, object_id=strength_id, actor=actor, context=context)
    strength_update(strength_id=strength_id, body={"combinationConfigurations": []}, actor=actor, context=context)


def strength_update_allowed_combinations(*, strength_id: str, body: Mapping[str, Any], actor: Actor,
                                         context: RequestContext = NO_CONTEXT) -> dict[str, Any]:
    """Graph's ``updateAllowedCombinations`` action: the strength's combinations replaced, and Graph's
    ``updateAllowedCombinationsResult`` (the combinations before and after, and the Conditional Access policies
    that require the strength, which the change affects)."""
    def check() -> AuthenticationStrength:
        if not isinstance(body, Mapping) or set(body) != {"allowedCombinations"}:
            raise PolicyValidationError("updateAllowedCombinations takes exactly one property, allowedCombinations",
                                        target="allowedCombinations", code=POLICY_RULE)
        return strength_get(strength_id)

    before = _audited(f"{STRENGTH}.update", check, kind=STRENGTH, object_id=strength_id, actor=actor,
                      context=context)
    after = strength_update(strength_id=strength_id, body={"allowedCombinations": body["allowedCombinations"]},
                            actor=actor, context=context)
    return {"additionalInformation": None,
            "conditionalAccessReferences": [p.id for p in strength_usage(before.id, ca_policies())],
            "currentCombinations": list(after.allowed_combinations),
            "previousCombinations": list(before.allowed_combinations)}


def strength_delete(*, strength_id: str, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    def work() -> None:
        with transaction.atomic():
            strength = strength_get(strength_id)
            strength_delete_check(strength, ca_policies())  # built-ins, and strengths a policy uses: refused
            _locked_row(strength).delete()
            audit_record(category=Category.POLICY, activity=f"{STRENGTH}.delete", actor=actor,
                         target=_target(STRENGTH, strength.id, strength.display_name), context=context,
                         details={"old": strength_to_graph(strength)})

    _audited(f"{STRENGTH}.delete", work, kind=STRENGTH, object_id=strength_id, actor=actor,
                    context=context)


def _locked_row(strength: AuthenticationStrength) -> StrengthPolicy:
    """The strength's row, locked for this transaction (gone meanwhile: not found)."""
    row = StrengthPolicy.objects.select_for_update().filter(pk=strength.id).first()
    if row is None:
        raise NotFound(f"There is no authentication strength {strength.id!r}.", code="not_found")
    return row


def _settings(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("createdDateTime", "modifiedDateTime")}


# --- Conditional Access policies ----------------------------------------------------------------------------------

def _require_no_lockout(before: Sequence[ConditionalAccessPolicy], after: Sequence[ConditionalAccessPolicy],
                        known: Mapping[str, AuthenticationStrength]) -> None:
    """Every enabled Global Administrator, reaching the admin centre with each of their own passkeys."""
    now = timezone.now()
    candidates = []
    for admin in User.objects.filter(account_enabled=True,
                                     role_assignments__role=DirectoryRole.GLOBAL_ADMINISTRATOR).distinct():
        request = access_request_for(admin, application_id=ADMIN_CENTRE_APP_ID)
        auths = [Authentication(user_id=str(admin.pk), methods=(
            MethodUse(AuthMethodMode.FIDO2, now, aaguid=str(aaguid), device_bound=not backup_eligible),))
            for aaguid, backup_eligible in admin.passkeys.values_list("aaguid", "backup_eligible")]
        candidates.append((request, auths))
    if change_locks_out(before, after, candidates, strengths=known):
        raise PolicyValidationError(
            "This change would lock every Global Administrator out of the admin centre: none of them could sign "
            "in to it with a passkey they have. Exclude an administrators' group or the Global Administrator "
            "role, or try the policy in report-only mode first.", target="", code=ADMIN_LOCKOUT)


def ca_policy_create(*, body: Mapping[str, Any], actor: Actor,
                     context: RequestContext = NO_CONTEXT) -> ConditionalAccessPolicy:
    new_id = str(uuid.uuid4())

    def work() -> ConditionalAccessPolicy:
        now = timezone.now()
        known = strengths()
        policy = ca_policy_from_graph(body, id=new_id, now=now, strengths=known)
        with transaction.atomic():
            existing = ca_policies()
            _require_no_lockout(existing, [*existing, policy], known)
            document = ca_policy_to_graph(policy, strengths=known)
            AccessPolicy.objects.create(id=new_id, display_name=policy.display_name, document=document,
                                        created_at=now, modified_at=now)
            audit_record(category=Category.POLICY, activity=f"{CA_POLICY}.create", actor=actor,
                         target=_target(CA_POLICY, new_id, policy.display_name), context=context,
                         details={"new": document})
        return policy

    return _audited(f"{CA_POLICY}.create", work, kind=CA_POLICY, object_id=new_id, actor=actor,
                    context=context)


def ca_policy_update(*, policy_id: str, body: Mapping[str, Any], actor: Actor,
                     context: RequestContext = NO_CONTEXT) -> ConditionalAccessPolicy:
    def work() -> ConditionalAccessPolicy:
        known = strengths()
        with transaction.atomic():
            current = ca_policy_get(policy_id)
            row = AccessPolicy.objects.select_for_update().get(pk=current.id)
            changed = ca_policy_apply_patch(current, body, now=timezone.now(), strengths=known)
            before = ca_policy_to_graph(current, strengths=known)
            after = ca_policy_to_graph(changed, strengths=known)
            if _settings(before) == _settings(after):
                return current
            existing = ca_policies()
            _require_no_lockout(existing, [changed if p.id == changed.id else p for p in existing], known)
            row.display_name = changed.display_name
            row.document = after
            row.modified_at = changed.modified or timezone.now()
            row.save()
            audit_record(category=Category.POLICY, activity=f"{CA_POLICY}.update", actor=actor,
                         target=_target(CA_POLICY, current.id, changed.display_name), context=context,
                         details={"old": before, "new": after})
            return changed

    return _audited(f"{CA_POLICY}.update", work, kind=CA_POLICY, object_id=policy_id, actor=actor,
                    context=context)


def ca_policy_delete(*, policy_id: str, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    def work() -> None:
        with transaction.atomic():
            policy = ca_policy_get(policy_id)
            AccessPolicy.objects.select_for_update().filter(pk=policy.id).first()
            AccessPolicy.objects.filter(pk=policy.id).delete()
            audit_record(category=Category.POLICY, activity=f"{CA_POLICY}.delete", actor=actor,
                         target=_target(CA_POLICY, policy.id, policy.display_name), context=context,
                         details={"old": ca_policy_to_graph(policy)})

    _audited(f"{CA_POLICY}.delete", work, kind=CA_POLICY, object_id=policy_id, actor=actor,
                    context=context)
