"""Read-only queries the admin centre needs and the selectors don't have yet. Nothing here writes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from passgate.audit.models import AuditEvent, Result
from passgate.core import tap as tap_rules
from passgate.credentials.models import Passkey, SoftwareOathMethod, TemporaryAccessPass
from passgate.directory.models import DirectoryRole, GroupMembership, RoleAssignment, SecurityGroup, User

USERS_PER_PAGE = 25
GROUPS_PER_PAGE = 25
AUDIT_PER_PAGE = 50


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- overview ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    users: int
    users_disabled: int
    users_with_passkey: int
    groups: int
    passkeys: int
    failures_24h: int


def counts() -> Counts:
    since = timezone.now() - timedelta(hours=24)
    return Counts(
        users=User.objects.count(),
        users_disabled=User.objects.filter(account_enabled=False).count(),
        users_with_passkey=User.objects.filter(passkeys__isnull=False).distinct().count(),
        groups=SecurityGroup.objects.count(),
        passkeys=Passkey.objects.count(),
        failures_24h=AuditEvent.objects.filter(result=Result.FAILURE, occurred_at__gte=since).count(),
    )


# --- users ---------------------------------------------------------------------------------------------------

def user_search(*, text: str, page: str | None) -> Page[Any]:
    """Users whose UPN or display name contains ``text`` (case-insensitive), by UPN, one page of them."""
    qs = User.objects.all()
    text = text.strip()
    if text:
        qs = qs.filter(Q(upn_normalized__contains=text.lower()) | Q(display_name__icontains=text))
    qs = qs.annotate(passkey_count=Count("passkeys", distinct=True)).order_by("upn_normalized")
    return Paginator(qs, USERS_PER_PAGE).get_page(page)


def role_names_by_user(users: Iterable[User]) -> dict[uuid.UUID, list[str]]:
    labels = dict(DirectoryRole.choices)
    found: dict[uuid.UUID, list[str]] = {}
    for user_id, role in RoleAssignment.objects.filter(user__in=list(users)).values_list("user_id", "role"):
        found.setdefault(user_id, []).append(labels.get(role, role))
    return {k: sorted(v) for k, v in found.items()}


def user_by_id(user_id: object) -> User | None:
    as_id = _uuid(user_id)
    return User.objects.filter(pk=as_id).first() if as_id else None


def user_groups(user: User) -> list[SecurityGroup]:
    return list(SecurityGroup.objects.filter(groupmembership__user=user).order_by("name_normalized"))


def user_passkeys(user: User) -> list[Passkey]:
    return list(Passkey.objects.filter(user=user).order_by("created_at"))


def user_passkey(user: User, passkey_id: object) -> Passkey | None:
    as_id = _uuid(passkey_id)
    return Passkey.objects.filter(pk=as_id, user=user).select_related("user").first() if as_id else None


def user_authenticator_apps(user: User) -> list[SoftwareOathMethod]:
    return list(SoftwareOathMethod.objects.filter(user=user, is_verified=True).order_by("created_at"))


def user_authenticator_app(user: User, method_id: object) -> SoftwareOathMethod | None:
    as_id = _uuid(method_id)
    if as_id is None:
        return None
    return SoftwareOathMethod.objects.filter(pk=as_id, user=user, is_verified=True).select_related("user").first()


@dataclass(frozen=True)
class PassView:
    """A Temporary Access Pass as the admin centre lists it (never the pass itself: only its hash is stored)."""

    row: TemporaryAccessPass
    state: tap_rules.TapState
    expires_at: datetime

    @property
    def label(self) -> str:
        return PASS_STATES[self.state]


PASS_STATES = {tap_rules.TapState.USABLE: "Usable", tap_rules.TapState.NOT_YET_VALID: "Not valid yet",
               tap_rules.TapState.EXPIRED: "Expired", tap_rules.TapState.USED: "Used",
               tap_rules.TapState.REVOKED: "Revoked"}


def user_passes(user: User, *, limit: int = 10) -> list[PassView]:
    now = timezone.now()
    views = []
    for row in TemporaryAccessPass.objects.filter(user=user).order_by("-created_at")[:limit]:
        record = tap_rules.TapRecord(start=row.start_at, lifetime_minutes=row.lifetime_minutes,
                                     is_usable_once=row.is_usable_once, used=row.used_at is not None,
                                     revoked=row.revoked_at is not None)
        views.append(PassView(row=row, state=tap_rules.state(record, now=now), expires_at=record.expires))
    return views


# --- groups --------------------------------------------------------------------------------------------------

def group_search(*, text: str, page: str | None) -> Page[Any]:
    qs = SecurityGroup.objects.all()
    text = text.strip()
    if text:
        qs = qs.filter(name_normalized__contains=text.lower())
    qs = qs.annotate(member_count=Count("members", distinct=True)).order_by("name_normalized")
    return Paginator(qs, GROUPS_PER_PAGE).get_page(page)


def group_by_id(group_id: object) -> SecurityGroup | None:
    as_id = _uuid(group_id)
    return SecurityGroup.objects.filter(pk=as_id).first() if as_id else None


def group_members(group: SecurityGroup) -> list[User]:
    return list(User.objects.filter(groupmembership__group=group).order_by("upn_normalized"))


def all_groups() -> list[SecurityGroup]:
    """Every group with its member count, by name: the rows of the policy pages' target tables."""
    return list(SecurityGroup.objects.annotate(member_count=Count("members", distinct=True))
                .order_by("name_normalized"))


def group_names(ids: Iterable[str]) -> dict[str, str]:
    wanted = [u for u in (_uuid(i) for i in ids) if u is not None]
    return {str(g.pk): g.display_name for g in SecurityGroup.objects.filter(pk__in=wanted)}


def is_member(group: SecurityGroup, user: User) -> bool:
    return GroupMembership.objects.filter(group=group, user=user).exists()


# --- audit log -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilters:
    category: str = ""
    result: str = ""
    activity: str = ""
    actor: str = ""
    target: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def audit_search(filters: AuditFilters, *, page: str | None) -> Page[AuditEvent]:
    """Audit rows matching every filter (the text filters are "contains", case-insensitive), newest first."""
    qs: QuerySet[AuditEvent] = AuditEvent.objects.all()
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.result:
        qs = qs.filter(result=filters.result)
    if filters.activity:
        qs = qs.filter(activity__icontains=filters.activity)
    if filters.actor:
        qs = qs.filter(actor_name__icontains=filters.actor)
    if filters.target:
        qs = qs.filter(Q(target_name__icontains=filters.target) | Q(target_id__icontains=filters.target))
    if filters.date_from:
        qs = qs.filter(occurred_at__gte=_start_of(filters.date_from))
    if filters.date_to:
        qs = qs.filter(occurred_at__lt=_start_of(filters.date_to + timedelta(days=1)))
    return Paginator(qs.order_by("-occurred_at", "-id"), AUDIT_PER_PAGE).get_page(page)
