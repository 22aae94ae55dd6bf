"""Directory service functions: keyword-only, one transaction each, each writing an audit row (a refusal too)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import (
    NO_CONTEXT,
    Actor,
    RequestContext,
    Target,
    audit_failure,
    audit_record,
    audited_refusals,
)
from passgate.core import directory as rules
from passgate.core import roles as role_rules
from passgate.core.devices.posix import PosixAccount, next_uid, posix_account
from passgate.core.errors import Conflict, NotFound
from passgate.directory.models import DirectoryRole, GroupMembership, RoleAssignment, SecurityGroup, User
from passgate.directory.signals import sign_in_sessions_revoked


def user_target(user: User) -> Target:
    return Target(type="user", id=str(user.id), name=user.user_principal_name)


def group_target(group: SecurityGroup) -> Target:
    return Target(type="group", id=str(group.id), name=group.display_name)


def actor_for(user: User) -> Actor:
    return Actor(id=user.id, name=user.user_principal_name)


def _user_of(kwargs: Mapping[str, Any]) -> Target | None:
    return user_target(kwargs["user"]) if isinstance(kwargs.get("user"), User) else None


def _group_of(kwargs: Mapping[str, Any]) -> Target | None:
    return group_target(kwargs["group"]) if isinstance(kwargs.get("group"), SecurityGroup) else None


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


@audited_refusals(category=Category.DIRECTORY, activity="user.add")
@transaction.atomic
def user_create(
    *, upn: str, display_name: str, actor: Actor, context: RequestContext = NO_CONTEXT,
    roles: tuple[DirectoryRole, ...] = (), mail_nickname: str | None = None, account_enabled: bool = True,
) -> User:
    upn = rules.validate_upn(upn)
    display_name = rules.validate_display_name(display_name)
    nickname = (rules.validate_mail_nickname(mail_nickname) if mail_nickname is not None
                else rules.mail_nickname_from(upn.split("@")[0]))
    if User.objects.filter(upn_normalized=rules.normalise_upn(upn)).exists():
        raise Conflict(f"A user with userPrincipalName {upn!r} already exists", code="upn_in_use")
    user = User(user_principal_name=upn, display_name=display_name, mail_nickname=nickname,
                account_enabled=account_enabled)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise Conflict(f"A user with userPrincipalName {upn!r} already exists", code="upn_in_use") from exc
    for role in roles:
        RoleAssignment.objects.create(user=user, role=role)
    details: dict[str, object] = {"displayName": display_name, "roles": [r.label for r in roles]}
    if not account_enabled:
        details["accountEnabled"] = False
    audit_record(category=Category.DIRECTORY, activity="user.add", actor=actor, target=user_target(user),
                 context=context, details=details)
    return user


@audited_refusals(category=Category.DIRECTORY, target=_user_of,
                  activity=lambda kw: "user.enable" if kw.get("enabled") else "user.disable")
@transaction.atomic
def user_set_enabled(*, user: User, enabled: bool, actor: Actor, context: RequestContext = NO_CONTEXT) -> User:
    """Enable or disable an account. Disabling also revokes the person's sign-in sessions, so enabling the account
    again later brings none of them back."""
    if user.account_enabled == enabled:
        return user
    user.account_enabled = enabled
    user.save(update_fields=["account_enabled", "updated_at"])
    audit_record(category=Category.DIRECTORY, activity="user.enable" if enabled else "user.disable",
                 actor=actor, target=user_target(user), context=context,
                 details={"accountEnabled": {"old": not enabled, "new": enabled}})
    if not enabled:
        _revoke_sign_in_sessions(user, actor=actor, context=context, reason=REVOKED_BY_DISABLING)
    return user


# Why a person's sign-in sessions were revoked (the audit row's ``reason``).
REVOKED_ON_REQUEST = "revokeSignInSessions"
REVOKED_BY_DISABLING = "accountDisabled"


def _revoke_sign_in_sessions(user: User, *, actor: Actor, context: RequestContext, reason: str) -> datetime:
    """Move the person's ``signInSessionsValidFromDateTime`` to now (never backwards), which ends every session and
    app authorization they signed in to until now, wherever it is checked (``core.sessions.revoked``)."""
    now = timezone.now()
    old = user.sign_in_sessions_valid_from
    user.sign_in_sessions_valid_from = max(now, old) if old is not None else now
    User.objects.filter(pk=user.pk).update(sign_in_sessions_valid_from=user.sign_in_sessions_valid_from)
    audit_record(category=Category.DIRECTORY, activity="user.revokeSignInSessions", actor=actor,
                 target=user_target(user), context=context,
                 details={"reason": reason, "signInSessionsValidFromDateTime": {
                     "old": old.isoformat() if old else None,
                     "new": user.sign_in_sessions_valid_from.isoformat()}})
    transaction.on_commit(lambda: sign_in_sessions_revoked.send(sender=User, user=user, reason=reason,
                                                                context=context))
    return user.sign_in_sessions_valid_from


@transaction.atomic
def user_revoke_sign_in_sessions(*, user: User, actor: Actor, context: RequestContext = NO_CONTEXT) -> datetime:
    """Graph's ``revokeSignInSessions``: end every browser session of the person and every authorization apps hold
    for them (OpenID Connect refresh and access tokens); they sign in again everywhere. Returns the new
    ``signInSessionsValidFromDateTime``."""
    return _revoke_sign_in_sessions(user, actor=actor, context=context, reason=REVOKED_ON_REQUEST)


@audited_refusals(category=Category.DIRECTORY, activity="user.setUpn", target=_user_of)
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


def role_target(role: role_rules.RoleDefinition) -> Target:
    return Target(type="role", id=role.id, name=role.display_name)


def _role_of(kwargs: Mapping[str, Any]) -> Target | None:
    role = kwargs.get("role")
    return role_target(role) if isinstance(role, role_rules.RoleDefinition) else None


def _member(user: User) -> dict[str, str]:
    return {"id": str(user.id), "userPrincipalName": user.user_principal_name}


@audited_refusals(category=Category.DIRECTORY, activity="role.addMember", target=_role_of)
@transaction.atomic
def role_assignment_create(*, role: role_rules.RoleDefinition, user: User, actor: Actor,
                           context: RequestContext = NO_CONTEXT, directory_scope_id: str = "/") -> RoleAssignment:
    """Give ``user`` the directory role ``role`` (whole-directory scope only). Who may is the caller's check
    (``roles.write``); a role the person already holds is refused (``role_already_assigned``)."""
    role_rules.check_scope(directory_scope_id)
    User.objects.select_for_update().filter(pk=user.pk).first()  # one change to a person's roles at a time
    role_rules.check_assignment(role=role.id, held=user_roles(user=user))
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(user=user, role=role.id)
    except IntegrityError as exc:  # assigned a moment ago by someone else
        raise Conflict("This person already holds the role.", code=role_rules.ALREADY_ASSIGNED) from exc
    audit_record(category=Category.DIRECTORY, activity="role.addMember", actor=actor, target=role_target(role),
                 context=context, details={"member": _member(user), "directoryScopeId": directory_scope_id})
    return assignment


@audited_refusals(category=Category.DIRECTORY, activity="role.removeMember", target=_role_of)
@transaction.atomic
def role_assignment_delete(*, role: role_rules.RoleDefinition, user: User, actor: Actor,
                           context: RequestContext = NO_CONTEXT) -> None:
    """Take the directory role ``role`` from ``user``. The last enabled Global Administrator keeps it
    (``last_global_admin``); a role the person does not hold is ``role_not_assigned``."""
    # Lock every Global Administrator's row so that two removals at once can't both see "someone else is left".
    admins = RoleAssignment.objects.filter(role=DirectoryRole.GLOBAL_ADMINISTRATOR).values("user_id")
    list(User.objects.select_for_update().filter(Q(pk=user.pk) | Q(pk__in=admins)).order_by("pk").values("pk"))
    assignment = RoleAssignment.objects.filter(user=user, role=role.id).first()
    if assignment is None:
        raise NotFound(f"{user.user_principal_name} does not hold the role {role.display_name}.",
                       code=role_rules.NOT_ASSIGNED)
    others = RoleAssignment.objects.filter(role=DirectoryRole.GLOBAL_ADMINISTRATOR,
                                           user__account_enabled=True).exclude(user=user).count()
    role_rules.check_removal(role=role.id, holder_enabled=user.account_enabled, other_enabled_global_admins=others)
    assignment.delete()
    audit_record(category=Category.DIRECTORY, activity="role.removeMember", actor=actor, target=role_target(role),
                 context=context, details={"member": _member(user)})


def _holder(role: role_rules.RoleDefinition, upn_or_id: str, *, activity: str, actor: Actor,
            context: RequestContext) -> User:
    """The person a role change names by UPN or id; a name that finds nobody is refused and audited."""
    try:
        return user_get(upn_or_id=upn_or_id)
    except NotFound as exc:
        audit_failure(category=Category.DIRECTORY, activity=activity, reason=exc.code, actor=actor,
                      target=role_target(role), context=context, details={"message": exc.message[:500]})
        raise


def role_member_add(*, role: role_rules.RoleDefinition, upn_or_id: str, actor: Actor,
                    context: RequestContext = NO_CONTEXT) -> RoleAssignment:
    """``role_assignment_create`` for a person named by UPN or object id (the admin centre, the command line)."""
    user = _holder(role, upn_or_id, activity="role.addMember", actor=actor, context=context)
    return role_assignment_create(role=role, user=user, actor=actor, context=context)


def role_member_remove(*, role: role_rules.RoleDefinition, upn_or_id: str, actor: Actor,
                       context: RequestContext = NO_CONTEXT) -> User:
    """``role_assignment_delete`` for a person named by UPN or object id."""
    user = _holder(role, upn_or_id, activity="role.removeMember", actor=actor, context=context)
    role_assignment_delete(role=role, user=user, actor=actor, context=context)
    return user


def _refuse_losing_the_last_global_admin(user: User) -> None:
    """Disabling or deleting the last enabled Global Administrator would leave nobody to administer Passgate."""
    admins = RoleAssignment.objects.filter(role=DirectoryRole.GLOBAL_ADMINISTRATOR, user__account_enabled=True)
    if admins.filter(user=user).exists() and not admins.exclude(user=user).exists():
        raise Conflict(f"{user.user_principal_name} is the last enabled Global Administrator: assign the role to "
                       "someone else first", code="last_global_admin")


@audited_refusals(category=Category.DIRECTORY, activity="user.update", target=_user_of)
@transaction.atomic
def user_update(
    *, user: User, actor: Actor, context: RequestContext = NO_CONTEXT, display_name: str | None = None,
    upn: str | None = None, account_enabled: bool | None = None, mail_nickname: str | None = None,
) -> User:
    """Change any of the given properties (None leaves one as it is); one audit row lists old and new values.
    Everything is checked before anything changes."""
    wanted: dict[str, tuple[str, object]] = {}  # model field -> (Graph name, new value)
    if display_name is not None:
        wanted["display_name"] = ("displayName", rules.validate_display_name(display_name))
    if mail_nickname is not None:
        wanted["mail_nickname"] = ("mailNickname", rules.validate_mail_nickname(mail_nickname))
    if account_enabled is not None:
        wanted["account_enabled"] = ("accountEnabled", bool(account_enabled))
    if upn is not None:
        upn = rules.validate_upn(upn)
        if rules.normalise_upn(upn) != user.upn_normalized and User.objects.filter(
            upn_normalized=rules.normalise_upn(upn)
        ).exists():
            raise Conflict(f"A user with userPrincipalName {upn!r} already exists", code="upn_in_use")
        wanted["user_principal_name"] = ("userPrincipalName", upn)
    changes = {graph: {"old": getattr(user, field), "new": new} for field, (graph, new) in wanted.items()
               if getattr(user, field) != new}
    if not changes:
        return user
    if changes.get("accountEnabled", {}).get("new") is False:
        _refuse_losing_the_last_global_admin(user)
    fields = [field for field, (graph, _) in wanted.items() if graph in changes]
    for field in fields:
        setattr(user, field, wanted[field][1])
    if "user_principal_name" in fields:
        fields.append("upn_normalized")
    try:
        with transaction.atomic():
            user.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as exc:
        raise Conflict(f"A user with userPrincipalName {upn!r} already exists", code="upn_in_use") from exc
    audit_record(category=Category.DIRECTORY, activity="user.update", actor=actor, target=user_target(user),
                 context=context, details=changes)
    if changes.get("accountEnabled", {}).get("new") is False:
        _revoke_sign_in_sessions(user, actor=actor, context=context, reason=REVOKED_BY_DISABLING)
    return user


@audited_refusals(category=Category.DIRECTORY, activity="user.delete", target=_user_of)
@transaction.atomic
def user_delete(*, user: User, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    """Delete a user for good, with their passkeys, passes, memberships and role assignments."""
    _refuse_losing_the_last_global_admin(user)
    target = user_target(user)
    details = {"displayName": user.display_name,
               "roles": [r.get_role_display() for r in user.role_assignments.all()]}
    user.delete()
    audit_record(category=Category.DIRECTORY, activity="user.delete", actor=actor, target=target, context=context,
                 details=details)


def user_roles(*, user: User) -> frozenset[str]:
    """The role template ids assigned to a user."""
    return frozenset(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))


def _group_name_taken(display_name: str, *, excluding: SecurityGroup | None = None) -> bool:
    others = SecurityGroup.objects.filter(name_normalized=display_name.lower())
    if excluding is not None:
        others = others.exclude(pk=excluding.pk)
    return others.exists()


@audited_refusals(category=Category.DIRECTORY, activity="group.add")
@transaction.atomic
def group_create(*, display_name: str, description: str = "", actor: Actor, context: RequestContext = NO_CONTEXT,
                 mail_nickname: str | None = None, members: Sequence[User] = ()) -> SecurityGroup:
    display_name = rules.validate_display_name(display_name)
    nickname = (rules.validate_mail_nickname(mail_nickname, allow_dot=False) if mail_nickname is not None
                else rules.mail_nickname_from(display_name, allow_dot=False))
    if _group_name_taken(display_name):
        raise Conflict(f"A group named {display_name!r} already exists", code="group_name_in_use")
    try:
        with transaction.atomic():
            group = SecurityGroup.objects.create(display_name=display_name, description=description.strip()[:1024],
                                                 mail_nickname=nickname)
    except IntegrityError as exc:
        raise Conflict(f"A group named {display_name!r} already exists", code="group_name_in_use") from exc
    audit_record(category=Category.DIRECTORY, activity="group.add", actor=actor, target=group_target(group),
                 context=context)
    if members:
        group_add_members(group=group, users=members, actor=actor, context=context)
    return group


@audited_refusals(category=Category.DIRECTORY, activity="group.update", target=_group_of)
@transaction.atomic
def group_update(*, group: SecurityGroup, actor: Actor, context: RequestContext = NO_CONTEXT,
                 display_name: str | None = None, description: str | None = None,
                 mail_nickname: str | None = None, add_members: Sequence[User] = ()) -> SecurityGroup:
    """Change any of the given properties (None leaves one as it is) and add members, all or nothing; one audit
    row lists old and new values (and one per member added)."""
    changes: dict[str, dict[str, object]] = {}
    fields: list[str] = []

    def change(graph_name: str, field: str, new: object) -> None:
        old = getattr(group, field)
        if new != old:
            changes[graph_name] = {"old": old, "new": new}
            setattr(group, field, new)
            fields.append(field)

    if display_name is not None:
        display_name = rules.validate_display_name(display_name)
        if _group_name_taken(display_name, excluding=group):
            raise Conflict(f"A group named {display_name!r} already exists", code="group_name_in_use")
        change("displayName", "display_name", display_name)
        if "display_name" in fields:
            fields.append("name_normalized")
    if description is not None:
        change("description", "description", description.strip()[:1024])
    if mail_nickname is not None:
        change("mailNickname", "mail_nickname", rules.validate_mail_nickname(mail_nickname, allow_dot=False))
    if fields:
        try:
            with transaction.atomic():
                group.save(update_fields=fields)
        except IntegrityError as exc:
            raise Conflict(f"A group named {display_name!r} already exists", code="group_name_in_use") from exc
        audit_record(category=Category.DIRECTORY, activity="group.update", actor=actor, target=group_target(group),
                     context=context, details=changes)
    if add_members:
        group_add_members(group=group, users=add_members, actor=actor, context=context)
    return group


@audited_refusals(category=Category.DIRECTORY, activity="group.delete", target=_group_of)
@transaction.atomic
def group_delete(*, group: SecurityGroup, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    target = group_target(group)
    members = group.members.count()
    group.delete()
    audit_record(category=Category.DIRECTORY, activity="group.delete", actor=actor, target=target, context=context,
                 details={"members": members})


@audited_refusals(category=Category.DIRECTORY, activity="group.addMember", target=_group_of)
@transaction.atomic
def group_add_members(*, group: SecurityGroup, users: Sequence[User], actor: Actor,
                      context: RequestContext = NO_CONTEXT) -> None:
    """Add several members at once: all of them, or (if any already is one) none."""
    for user in users:
        group_add_member(group=group, user=user, actor=actor, context=context)


@audited_refusals(category=Category.DIRECTORY, activity="group.addMember", target=_group_of)
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


@audited_refusals(category=Category.DIRECTORY, activity="group.removeMember", target=_group_of)
@transaction.atomic
def group_remove_member(*, group: SecurityGroup, user: User, actor: Actor,
                        context: RequestContext = NO_CONTEXT) -> None:
    deleted, _ = GroupMembership.objects.filter(group=group, user=user).delete()
    if not deleted:
        raise NotFound(f"{user.user_principal_name} is not a member of {group.display_name}", code="not_member")
    audit_record(category=Category.DIRECTORY, activity="group.removeMember", actor=actor,
                 target=group_target(group), context=context,
                 details={"member": {"id": str(user.id), "userPrincipalName": user.user_principal_name}})


def user_posix_account(*, user: User) -> PosixAccount:
    """The person's local account on joined computers; the uid is assigned on first use (the next after the highest
    ever assigned: the unique column settles two first sign-ins at once) and audited."""
    for _ in range(5):
        if user.posix_uid is not None:
            break
        highest = User.objects.aggregate(highest=Max("posix_uid"))["highest"]
        try:
            with transaction.atomic():
                if User.objects.filter(pk=user.pk, posix_uid__isnull=True).update(posix_uid=next_uid(highest)):
                    audit_record(category=Category.DIRECTORY, activity="user.assignPosixUid",
                                 target=user_target(user), details={"uid": next_uid(highest)})
        except IntegrityError:
            continue  # another person took that uid a moment ago: take the next
        user.refresh_from_db(fields=["posix_uid"])
    if user.posix_uid is None:
        raise Conflict("No POSIX uid could be assigned; try again.", code="posix_uid_conflict")
    return posix_account(user_principal_name=user.user_principal_name, display_name=user.display_name,
                         uid=user.posix_uid)
