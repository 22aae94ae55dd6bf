"""Creating, changing, assigning and deleting custom configuration profiles, and changing the enrollment setting.

Each service takes Graph JSON (a POST or PATCH body), lets ``passgate.core.devices.configuration`` read it, stores
the result and writes an audit row (category policy) in one transaction. A refused body or an unknown id changes
nothing and is audited with its reason code.

- A profile's ``version`` goes up by one with every change of its name, description or settings; assignments are
  not part of the version (as in Intune).
- The enrollment setting is a history: a change adds a row, in force from now, for devices that join from now on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_failure, audit_record
from passgate.core.devices.configuration import (
    UNKNOWN_GROUP,
    WINDOWS_HELLO_ID,
    Assignment,
    DeviceConfigError,
    EnrollmentConfiguration,
    OmaSetting,
    Profile,
    ProfileInput,
    assignment_to_graph,
    enrollment_to_graph,
    profile_to_graph,
    read_assignments,
    read_enrollment,
    read_profile,
)
from passgate.core.devices.signin_setting import AssignmentTarget
from passgate.core.errors import Conflict, PassgateError
from passgate.device_config.models import (
    ConfigurationAssignment,
    DeviceConfiguration,
    EnrollmentSettingChange,
)
from passgate.device_config.models import OmaSetting as OmaSettingRow
from passgate.device_config.selectors import (
    assignments_of,
    enrollment_configuration,
    profile_get,
    profile_row,
)
from passgate.directory.models import SecurityGroup

PROFILE = "deviceConfiguration"
ENROLLMENT = "deviceEnrollmentConfiguration"
T = TypeVar("T")


def _target(kind: str, object_id: str, name: str = "") -> Target:
    return Target(type=kind, id=object_id, name=name[:256])


def _audited(activity: str, work: Callable[[], T], *, kind: str, object_id: str, actor: Actor,
             context: RequestContext) -> T:
    """Run ``work``; audit a refusal (with its reason code and the property it names) and re-raise it."""
    try:
        return work()
    except PassgateError as exc:
        audit_failure(category=Category.POLICY, activity=activity, reason=exc.code, actor=actor,
                      target=_target(kind, object_id), context=context,
                      details={"message": exc.message[:500],
                               **({"target": exc.target} if isinstance(exc, DeviceConfigError) else {})})
        raise


def _write_settings(row: DeviceConfiguration, settings: tuple[OmaSetting, ...]) -> None:
    row.oma_settings.all().delete()
    OmaSettingRow.objects.bulk_create([
        OmaSettingRow(configuration=row, position=index, kind=s.kind, display_name=s.display_name,
                      description=s.description, oma_uri=s.oma_uri, value=s.value, file_name=s.file_name)
        for index, s in enumerate(settings)])


def _document(profile: Profile) -> dict[str, Any]:
    return profile_to_graph(profile)


def device_configuration_create(*, body: Mapping[str, Any], actor: Actor,
                                context: RequestContext = NO_CONTEXT) -> Profile:
    new_id = str(uuid.uuid4())

    def work() -> Profile:
        data = read_profile(body, create=True)
        now = timezone.now()
        with transaction.atomic():
            row = DeviceConfiguration.objects.create(id=new_id, display_name=data.display_name or "",
                                                     description=data.description, version=1, created_at=now,
                                                     modified_at=now)
            _write_settings(row, data.oma_settings)
            profile = profile_get(new_id)
            audit_record(category=Category.POLICY, activity=f"{PROFILE}.create", actor=actor,
                         target=_target(PROFILE, new_id, profile.display_name), context=context,
                         details={"new": _document(profile)})
        return profile

    return _audited(f"{PROFILE}.create", work, kind=PROFILE, object_id=new_id, actor=actor, context=context)


def _changed(current: Profile, data: ProfileInput) -> tuple[str, str | None, tuple[OmaSetting, ...]]:
    return (data.display_name if data.gives("display_name") and data.display_name is not None
            else current.display_name,
            data.description if data.gives("description") else current.description,
            data.oma_settings if data.gives("oma_settings") else current.oma_settings)


def device_configuration_update(*, configuration_id: str, body: Mapping[str, Any], actor: Actor,
                                context: RequestContext = NO_CONTEXT) -> Profile:
    def work() -> Profile:
        with transaction.atomic():
            row = DeviceConfiguration.objects.select_for_update().get(pk=profile_row(configuration_id).pk)
            current = profile_get(configuration_id)
            data = read_profile(body, create=False)
            name, description, settings = _changed(current, data)
            if (name, description, settings) == (current.display_name, current.description, current.oma_settings):
                return current
            row.display_name, row.description = name, description
            row.version += 1
            row.modified_at = timezone.now()
            row.save()
            if settings != current.oma_settings:
                _write_settings(row, settings)
            changed = profile_get(configuration_id)
            audit_record(category=Category.POLICY, activity=f"{PROFILE}.update", actor=actor,
                         target=_target(PROFILE, changed.id, changed.display_name), context=context,
                         details={"old": _document(current), "new": _document(changed)})
            return changed

    return _audited(f"{PROFILE}.update", work, kind=PROFILE, object_id=configuration_id, actor=actor,
                    context=context)


def device_configuration_delete(*, configuration_id: str, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    def work() -> None:
        with transaction.atomic():
            row = DeviceConfiguration.objects.select_for_update().get(pk=profile_row(configuration_id).pk)
            profile = profile_get(configuration_id)
            assignments = assignments_of(configuration_id)
            row.delete()
            audit_record(category=Category.POLICY, activity=f"{PROFILE}.delete", actor=actor,
                         target=_target(PROFILE, profile.id, profile.display_name), context=context,
                         details={"old": _document(profile),
                                  "assignments": [assignment_to_graph(a) for a in assignments]})

    _audited(f"{PROFILE}.delete", work, kind=PROFILE, object_id=configuration_id, actor=actor, context=context)


def _require_groups(targets: tuple[AssignmentTarget, ...]) -> None:
    wanted = {t.group_id for t in targets if t.group_id is not None}
    known = {str(g) for g in SecurityGroup.objects.filter(pk__in=wanted).values_list("pk", flat=True)}
    for index, target in enumerate(targets):
        if target.group_id is not None and target.group_id not in known:
            raise DeviceConfigError(f"assignments[{index}].target.groupId",
                                    f"There is no group {target.group_id!r}.", code=UNKNOWN_GROUP)


def device_configuration_assign(*, configuration_id: str, body: Mapping[str, Any], actor: Actor,
                                context: RequestContext = NO_CONTEXT) -> tuple[Assignment, ...]:
    """Graph's ``assign`` action: the body's assignments replace the profile's."""
    def work() -> tuple[Assignment, ...]:
        with transaction.atomic():
            row = DeviceConfiguration.objects.select_for_update().get(pk=profile_row(configuration_id).pk)
            targets = read_assignments(body)
            _require_groups(targets)
            before = assignments_of(configuration_id)
            if tuple(a.target for a in before) == targets:
                return before
            row.assignments.all().delete()
            ConfigurationAssignment.objects.bulk_create([
                ConfigurationAssignment(id=uuid.uuid4(), configuration=row, position=index, target=t.kind.value,
                                        group_id=t.group_id) for index, t in enumerate(targets)])
            after = assignments_of(configuration_id)
            audit_record(category=Category.POLICY, activity=f"{PROFILE}.assign", actor=actor,
                         target=_target(PROFILE, str(row.id), row.display_name), context=context,
                         details={"old": [assignment_to_graph(a) for a in before],
                                  "new": [assignment_to_graph(a) for a in after]})
            return after

    return _audited(f"{PROFILE}.assign", work, kind=PROFILE, object_id=configuration_id, actor=actor,
                    context=context)


def enrollment_configuration_update(*, body: Mapping[str, Any], actor: Actor,
                                    context: RequestContext = NO_CONTEXT) -> EnrollmentConfiguration:
    """Change "Use security keys for sign-in" (a PATCH body): a new version, in force from now on."""
    def work() -> EnrollmentConfiguration:
        wanted = read_enrollment(body)
        current = enrollment_configuration()
        if wanted is None or wanted is current.security_key_for_sign_in:
            return current
        try:
            with transaction.atomic():
                EnrollmentSettingChange.objects.create(version=current.version + 1, security_key_for_sign_in=wanted,
                                                       effective_from=timezone.now(), changed_by=actor.name)
                changed = enrollment_configuration()
                audit_record(category=Category.POLICY, activity=f"{ENROLLMENT}.update", actor=actor,
                             target=_target(ENROLLMENT, WINDOWS_HELLO_ID, "Use security keys for sign-in"),
                             context=context, details={"old": enrollment_to_graph(current, beta=True),
                                                       "new": enrollment_to_graph(changed, beta=True)})
        except IntegrityError:
            raise Conflict("The enrollment configuration was changed at the same moment: read it again and retry.",
                           code="concurrent_change") from None
        return changed

    return _audited(f"{ENROLLMENT}.update", work, kind=ENROLLMENT, object_id=WINDOWS_HELLO_ID, actor=actor,
                    context=context)
