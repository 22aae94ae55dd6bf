"""Reading strengths and Conditional Access policies, and the access decision for one person and one app.

Every authorization request reads them, so parsed values are cached per process while the configuration's
generation is unchanged (:mod:`passgate.freshness.generation`: one small query per request for every kind); a change
on any node is seen at the next request.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from passgate.access.models import AccessPolicy, StrengthPolicy
from passgate.core.access import (
    BUILT_IN_STRENGTHS,
    AccessDecision,
    AccessRequest,
    Authentication,
    AuthenticationStrength,
    ConditionalAccessPolicy,
    ca_policy_from_document,
    evaluate_access,
    strength_from_document,
)
from passgate.core.errors import NotFound
from passgate.directory.facts import user_group_ids, user_role_ids
from passgate.directory.models import User
from passgate.freshness.generation import cached
from passgate.trust_store.selectors import catalogue

T = TypeVar("T")


def _parsed(model: type[StrengthPolicy] | type[AccessPolicy], parse: Callable[[object], T]) -> list[T]:
    """Every row of ``model`` parsed, from the cache while the configuration's generation is unchanged."""
    return list(cached(f"access.{model.__name__}",
                       lambda: tuple(parse(document) for document in model.objects.values_list("document", flat=True))))


def custom_strengths() -> list[AuthenticationStrength]:
    return _parsed(StrengthPolicy, strength_from_document)


def strengths() -> dict[str, AuthenticationStrength]:
    """Every strength by id: the three built-ins, then the custom ones by name."""
    found: dict[str, AuthenticationStrength] = dict(BUILT_IN_STRENGTHS)
    found.update((s.id, s) for s in custom_strengths())
    return found


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise NotFound(f"There is no {what} {value!r}.", code="not_found") from None


def strength_get(strength_id: str) -> AuthenticationStrength:
    key = _uuid(strength_id, "authentication strength")
    if key in BUILT_IN_STRENGTHS:
        return BUILT_IN_STRENGTHS[key]
    row = StrengthPolicy.objects.filter(pk=key).first()
    if row is None:
        raise NotFound(f"There is no authentication strength {strength_id!r}.", code="not_found")
    return strength_from_document(row.document)


def ca_policies() -> list[ConditionalAccessPolicy]:
    """Every policy, oldest first. A policy keeps the strength's display name it was saved with; the Graph answer
    shows the current one (``ca_policy_to_graph(..., strengths=strengths())``) and evaluation looks strengths up
    by id."""
    return _parsed(AccessPolicy, ca_policy_from_document)


def ca_policy_get(policy_id: str) -> ConditionalAccessPolicy:
    key = _uuid(policy_id, "Conditional Access policy")
    row = AccessPolicy.objects.filter(pk=key).first()
    if row is None:
        raise NotFound(f"There is no Conditional Access policy {policy_id!r}.", code="not_found")
    return ca_policy_from_document(row.document)


def access_request_for(user: User, *, application_id: str | None = None,
                       user_action: str | None = None) -> AccessRequest:
    groups = user_group_ids(user)
    roles = user_role_ids(user)
    return AccessRequest(user_id=str(user.pk), group_ids=groups, role_template_ids=roles,
                         application_id=application_id, user_action=user_action)


def model_name_of(aaguid: str) -> str | None:
    """The catalogue's name for a passkey model, or None when it doesn't know it (for the core's messages)."""
    entry = catalogue().lookup(aaguid)
    return entry.name if entry is not None else None


def access_decide(*, user: User, auth: Authentication | None, application_id: str | None = None,
                  user_action: str | None = None) -> AccessDecision:
    """What Conditional Access decides for this person signing in to this app (or doing this user action)."""
    known = strengths()
    return evaluate_access(ca_policies(), access_request_for(user, application_id=application_id,
                                                                  user_action=user_action),
                           auth, strengths=known, name_of=model_name_of)
