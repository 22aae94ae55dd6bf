"""Reading custom profiles, their assignments and the enrollment setting, as ``passgate.core.devices`` values.

``signin_configuration()`` is everything ``core.devices.signin_setting.decide`` needs besides a device's own facts;
``enrollment_setting_at(t)`` answers "what was the enrollment setting when a device joined at ``t``?".
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from passgate.core.devices.configuration import (
    Assignment,
    EnrollmentConfiguration,
    OmaSetting,
    Profile,
    profile_setting,
    security_key_value,
)
from passgate.core.devices.signin_setting import (
    AssignmentTarget,
    Configuration,
    DeviceFacts,
    Enablement,
    EnrollmentChange,
    ProfileSetting,
    SigninSetting,
    TargetKind,
    decide,
    enrollment_in_force,
)
from passgate.core.errors import NotFound
from passgate.device_config.models import ConfigurationAssignment, DeviceConfiguration, EnrollmentSettingChange


def _profile(row: DeviceConfiguration) -> Profile:
    settings = tuple(OmaSetting(kind=s.kind, display_name=s.display_name, oma_uri=s.oma_uri, value=s.value,
                                description=s.description, file_name=s.file_name)
                     for s in sorted(row.oma_settings.all(), key=lambda s: s.position))
    return Profile(id=str(row.id), display_name=row.display_name, description=row.description, version=row.version,
                   created=row.created_at, modified=row.modified_at, oma_settings=settings)


def _assignment(row: ConfigurationAssignment) -> Assignment:
    return Assignment(id=str(row.id), target=AssignmentTarget(TargetKind(row.target),
                                                              str(row.group_id) if row.group_id else None))


def profiles() -> list[Profile]:
    """Every custom profile, oldest first."""
    return [_profile(row) for row in DeviceConfiguration.objects.prefetch_related("oma_settings")]


def profile_row(configuration_id: str) -> DeviceConfiguration:
    try:
        key = uuid.UUID(str(configuration_id))
    except ValueError:
        key = None
    row = DeviceConfiguration.objects.filter(pk=key).first() if key is not None else None
    if row is None:
        raise NotFound(f"There is no device configuration {configuration_id!r}.", code="not_found")
    return row


def profile_get(configuration_id: str) -> Profile:
    return _profile(profile_row(configuration_id))


def assignments_of(configuration_id: str) -> tuple[Assignment, ...]:
    row = profile_row(configuration_id)
    return tuple(_assignment(a) for a in row.assignments.order_by("position"))


# --- the enrollment setting -------------------------------------------------------------------------------------------

def _changes() -> list[EnrollmentSettingChange]:
    rows = list(EnrollmentSettingChange.objects.order_by("version"))
    if rows:
        return rows
    try:  # the configuration's first version: not configured, from the moment Passgate first looks
        with transaction.atomic():
            EnrollmentSettingChange.objects.create(version=1, security_key_for_sign_in=Enablement.NOT_CONFIGURED,
                                                   effective_from=timezone.now(), changed_by="passgate (system)")
    except IntegrityError:  # another request made it meanwhile
        pass
    return list(EnrollmentSettingChange.objects.order_by("version"))


def _change(row: EnrollmentSettingChange) -> EnrollmentChange:
    return EnrollmentChange(value=Enablement(row.security_key_for_sign_in), effective_from=row.effective_from,
                            version=row.version)


def enrollment_history() -> tuple[EnrollmentChange, ...]:
    """Every change of "Use security keys for sign-in", oldest first (the first is the initial notConfigured)."""
    return tuple(_change(row) for row in _changes())


def enrollment_configuration() -> EnrollmentConfiguration:
    rows = _changes()
    return EnrollmentConfiguration(version=rows[-1].version, created=rows[0].effective_from,
                                   modified=rows[-1].effective_from,
                                   security_key_for_sign_in=Enablement(rows[-1].security_key_for_sign_in))


def enrollment_setting_at(when: datetime) -> EnrollmentChange | None:
    """The enrollment setting in force at ``when`` (a device's join time); None before the first version."""
    return enrollment_in_force(enrollment_history(), when)


def signin_configuration() -> Configuration:
    """Every profile with its assignments, and the enrollment setting's history: ``decide``'s configuration."""
    rows = DeviceConfiguration.objects.prefetch_related("oma_settings", "assignments")
    return Configuration(
        profiles=tuple(profile_setting(_profile(row), tuple(_assignment(a) for a in
                                                            sorted(row.assignments.all(), key=lambda a: a.position)))
                       for row in rows),
        enrollment_history=enrollment_history())


def security_key_signin_setting(facts: DeviceFacts) -> SigninSetting:
    """Whether security-key sign-in is on for a device (for a person too, when ``facts`` name their groups), and
    which source decided: the one answer the device API and the admin centre give (``passgate.devices.selectors.
    device_signin_facts`` makes ``facts`` from a device)."""
    return decide(facts, signin_configuration())


def signin_configuration_with(configuration_id: str | None, *, display_name: str | None = None,
                              oma_settings: tuple[OmaSetting, ...] | None = None,
                              targets: tuple[AssignmentTarget, ...] | None = None,
                              deleted: bool = False) -> Configuration:
    """The stored configuration as it would be after one change to one profile (``configuration_id``; None: a new
    one): its name, settings or targets replaced, or the profile ``deleted``. Nothing is stored: this is the
    "after" of an impact preview (``core.devices.impact.preview_impact``), the "before" being
    ``signin_configuration()``."""
    current = signin_configuration()
    kept = [p for p in current.profiles if p.profile_id != configuration_id]
    if not deleted:
        old = next((p for p in current.profiles if p.profile_id == configuration_id), None)
        base = old or ProfileSetting(profile_id=configuration_id or "new", display_name=display_name or "", value=None)
        kept.append(ProfileSetting(
            profile_id=base.profile_id, display_name=display_name if display_name is not None else base.display_name,
            value=security_key_value(oma_settings) if oma_settings is not None else base.value,
            targets=targets if targets is not None else base.targets))
    return Configuration(profiles=tuple(kept), enrollment_history=current.enrollment_history)


def enrollment_changes() -> list[EnrollmentSettingChange]:
    """The enrollment setting's history as stored (who changed it, when, to what), oldest first."""
    return _changes()
