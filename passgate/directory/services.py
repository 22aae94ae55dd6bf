"""Directory service functions: keyword-only, one transaction each, each writing an audit row."""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction

from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_record
from passgate.core import directory as rules
from passgate.core.errors import Conflict, NotFound
from passgate.directory.models import DirectoryRole, GroupMembership, RoleAssignment, SecurityGroup, User


def user_target(user: User) -> Target:
    return Target(type="user", id=str(user.id), name=user.user_principal_name)


def group_target(group: SecurityGroup) -> Target:
    return Target(type="group", id=str(group.id), name=group.display_name)


def actor_for(user: User) -> Actor:
    return Actor(id=user.id, name=user.user_principal_name)


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def user_get(*, upn_or_id: str) -> User:
    """Find a user by UPN (case-insensitive) or by object id."""
    key = upn_or_id.strip()
    found: User | None
    if "@" in key:
        found = User.objects.filter(upn_normalized=rules.normalise_upn(key)).first()
    else:
        as_id = _as_uuid(key)
        found = User.objects.filter(pk=as_id).first() if as_id else None
    if found is None:
        raise NotFound(f"No user {key!r}", code="user_not_found")
    return found


def group_get(*, name_or_id: str) -> SecurityGroup:
    key = name_or_id.strip()
    found = SecurityGroup.objects.filter(name_normalized=key.lower()).first()
    if found is None and (as_id := _as_uuid(key)):
        found = SecurityGroup.objects.filter(pk=as_id).first()
    if found is None:
        raise NotFound(f"No group {key!r}", code="group_not_found")
    return found


@transaction.atomic
def user_create(
    *, upn: str, display_name: str, actor: Actor, context: RequestContext = NO_CONTEXT,
    roles: tuple[DirectoryRole, ...] = (),
) -> User:
    upn = rules.validate_upn(upn)
    display_name = rules.validate_display_name(display_name)
    if User.objects.filter(upn_normalized=rules.normalise_upn(upn)).exists():
        raise Conflict(f"A user with userPrincipalName {upn!r} already exists", code="upn_in_use")
    user = User(user_principal_name=upn, display_name=display_name)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(f"A user with userPrincipalName {upn!r} already exists", code="upn_in_use") from exc
    for role in roles:
        RoleAssignment.objects.create(user=user, role=role)
    audit_record(category=Category.DIRECTORY, activity="user.add", actor=actor, target=user_target(user),
                 context=context, details={"displayName": display_name, "roles": [r.label for r in roles]})
    return user


@transaction.atomic
def user_set_enabled(*, user: User, enabled: bool, actor: Actor, context: RequestContext = NO_CONTEXT) -> User:
    if user.account_enabled == enabled:
        return user
    user.account_enabled = enabled
    user.save(update_fields=["account_enabled", "updated_at"])
    audit_record(category=Category.DIRECTORY, activity="user.enable" if enabled else "user.disable",
                 actor=actor, target=user_target(user), context=context,
                 details={"accountEnabled": {"old": not enabled, "new": enabled}})
    return user


@transaction.atomic
def user_set_upn(*, user: User, upn: str, actor: Actor, context: RequestContext = NO_CONTEXT) -> User:
    upn = rules.validate_upn(upn)
    old = user.user_principal_name
    if rules.normalise_upn(upn) != user.upn_normalized and User.objects.filter(
        upn_normalized=rules.normalise_upn(upn)
    ).exists():
        raise Conflict(f"A user with userPrincipalName {upn!r} already exists", code="upn_in_use")
    user.user_principal_name = upn
    user.save(update_fields=["user_principal_name", "upn_normalized", "updated_at"])
    audit_record(category=Category.DIRECTORY, activity="user.setUpn", actor=actor, target=user_target(user),
                 context=context, details={"userPrincipalName": {"old": old, "new": upn}})
    return user


@transaction.atomic
def group_create(*, display_name: str, description: str = "", actor: Actor,
                 context: RequestContext = NO_CONTEXT) -> SecurityGroup:
    display_name = rules.validate_display_name(display_name)
    if SecurityGroup.objects.filter(name_normalized=display_name.lower()).exists():
        raise Conflict(f"A group named {display_name!r} already exists", code="group_name_in_use")
    group = SecurityGroup.objects.create(display_name=display_name, description=description.strip()[:1024])
    audit_record(category=Category.DIRECTORY, activity="group.add", actor=actor, target=group_target(group),
                 context=context)
    return group


@transaction.atomic
def group_add_member(*, group: SecurityGroup, user: User, actor: Actor,
                     context: RequestContext = NO_CONTEXT) -> None:
    if GroupMembership.objects.filter(group=group, user=user).exists():
        raise Conflict(f"{user.user_principal_name} is already a member of {group.display_name}",
                       code="already_member")
    GroupMembership.objects.create(group=group, user=user)
    audit_record(category=Category.DIRECTORY, activity="group.addMember", actor=actor,
                 target=group_target(group), context=context,
                 details={"member": {"id": str(user.id), "userPrincipalName": user.user_principal_name}})


@transaction.atomic
def group_remove_member(*, group: SecurityGroup, user: User, actor: Actor,
                        context: RequestContext = NO_CONTEXT) -> None:
    deleted, _ = GroupMembership.objects.filter(group=group, user=user).delete()
    if not deleted:
        raise NotFound(f"{user.user_principal_name} is not a member of {group.display_name}", code="not_member")
    audit_record(category=Category.DIRECTORY, activity="group.removeMember", actor=actor,
                 target=group_target(group), context=context,
                 details={"member": {"id": str(user.id), "userPrincipalName": user.user_principal_name}})
