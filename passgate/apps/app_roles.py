"""Who holds an app's roles (``AppRoleAssignment``: a role given to a user or a security group), and the ``roles``
claim a token for the app carries (``core.app_roles``).

``app_role_assign`` and ``app_role_unassign`` change assignments, audited (a refusal too, with its reason code):
the role must be one of the app's, enabled; the same role given twice to the same principal is a ``Conflict``.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.db.models import Q

from passgate.apps.exposed_api import app_roles_of
from passgate.apps.models import AppRegistration, AppRoleAssignment
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_failure, audit_record
from passgate.core import app_roles
from passgate.core.errors import Conflict, NotFound, PassgateError
from passgate.directory.facts import user_group_ids
from passgate.directory.models import SecurityGroup, User

Principal = User | SecurityGroup


def principal_target(principal: Principal) -> Target:
    if isinstance(principal, User):
        return Target(type="user", id=str(principal.pk), name=principal.user_principal_name)
    return Target(type="group", id=str(principal.pk), name=principal.display_name)


def _audited(activity: str, principal: Principal, actor: Actor, context: RequestContext, *,
             details: dict[str, object], exc: PassgateError | None = None) -> None:
    if exc is None:
        audit_record(category=Category.DIRECTORY, activity=activity, actor=actor, target=principal_target(principal),
                     context=context, details=details)
    else:
        audit_failure(category=Category.DIRECTORY, activity=activity, reason=exc.code, actor=actor,
                      target=principal_target(principal), context=context,
                      details={**details, "message": exc.message[:500]})


def _principal_filter(principal: Principal) -> Q:
    return Q(user=principal) if isinstance(principal, User) else Q(group=principal)


def app_role_assign(*, app: AppRegistration, app_role_id: str, principal: Principal, actor: Actor,
                    context: RequestContext = NO_CONTEXT) -> AppRoleAssignment:
    """Give ``principal`` (a user or a group) the app's role ``app_role_id``. Refused: a role the app does not
    define (``app_role_not_found``) or has disabled (``app_role_disabled``), and a role the principal already has
    (``Conflict``, ``app_role_already_assigned``)."""
    details: dict[str, object] = {"resourceId": str(app.pk), "appId": str(app.app_id), "appRoleId": app_role_id}
    try:
        with transaction.atomic():
            row = AppRegistration.objects.select_for_update().filter(pk=app.pk).first()
            if row is None:
                raise NotFound(f"No app registration {app.app_id}", code="app_not_found")
            role = app_roles.assignable_role(app_roles_of(row), app_role_id)
            details["appRoleValue"] = role.value
            if AppRoleAssignment.objects.filter(_principal_filter(principal), app=row,
                                                app_role_id=uuid.UUID(role.id)).exists():
                raise Conflict("Permission being assigned already exists on the object.",
                               code="app_role_already_assigned")
            fields = {"user": principal} if isinstance(principal, User) else {"group": principal}
            try:
                with transaction.atomic():
                    assignment = AppRoleAssignment.objects.create(app=row, app_role_id=uuid.UUID(role.id), **fields)
            except IntegrityError:  # the same assignment made meanwhile
                raise Conflict("Permission being assigned already exists on the object.",
                               code="app_role_already_assigned") from None
            details["id"] = str(assignment.pk)
            _audited("app.roleAssignment.add", principal, actor, context, details=details)
            return assignment
    except PassgateError as exc:
        _audited("app.roleAssignment.add", principal, actor, context, details=details, exc=exc)
        raise


@transaction.atomic
def app_role_unassign(*, assignment: AppRoleAssignment, actor: Actor,
                      context: RequestContext = NO_CONTEXT) -> None:
    """Take the role back: tokens issued from now on no longer carry it."""
    principal = assignment.user if assignment.user is not None else assignment.group
    assert principal is not None  # noqa: S101 - the model's check constraint: a user or a group
    details: dict[str, object] = {"id": str(assignment.pk), "resourceId": str(assignment.app_id),
                                  "appRoleId": str(assignment.app_role_id)}
    assignment.delete()
    _audited("app.roleAssignment.remove", principal, actor, context, details=details)


def app_role_unassign_refusal_record(*, principal: Principal, reason: str, message: str, actor: Actor,
                                     context: RequestContext = NO_CONTEXT) -> None:
    """Audit a removal refused before an assignment was found (none such)."""
    audit_failure(category=Category.DIRECTORY, activity="app.roleAssignment.remove", reason=reason, actor=actor,
                  target=principal_target(principal), context=context, details={"message": message[:500]})


# --- reading ----------------------------------------------------------------------------------------------------

def role_assignments_of(principal: Principal) -> list[AppRoleAssignment]:
    """The principal's assignments, oldest first, with their apps."""
    return list(AppRoleAssignment.objects.filter(_principal_filter(principal)).select_related("app", "user", "group"))


def role_assignment_of(principal: Principal, assignment_id: str) -> AppRoleAssignment | None:
    try:
        key = uuid.UUID(assignment_id)
    except ValueError:
        return None
    return (AppRoleAssignment.objects.filter(_principal_filter(principal), pk=key)
            .select_related("app", "user", "group").first())


def role_assignments_of_app(app: AppRegistration) -> list[AppRoleAssignment]:
    return list(AppRoleAssignment.objects.filter(app=app).select_related("user", "group"))


def role_values_for(*, user: User, app: AppRegistration) -> tuple[str, ...]:
    """The ``roles`` claim of a token for ``app``: the values of its enabled roles assigned to ``user`` directly or
    through one of their groups (one query; none when the app defines no roles)."""
    if not app.app_roles:
        return ()
    groups = [uuid.UUID(g) for g in user_group_ids(user)]
    assigned = (AppRoleAssignment.objects.filter(Q(user=user) | Q(group__in=groups), app=app)
                .values_list("app_role_id", flat=True))
    return app_roles.role_values(app_roles_of(app), (str(i) for i in assigned))
