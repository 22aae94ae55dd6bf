"""The impact preview of a device configuration change: which devices would switch security-key sign-in on or off,
and for whom (everyone at the login screen, or named people whose groups a profile targets).

Built with ``core.devices.impact.preview_impact`` from stored data: every device's facts (``devices.selectors``),
the stored configuration and the configuration after the change (``device_config.selectors``). Nothing is saved.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from passgate.core.devices.impact import Impact, preview_impact
from passgate.core.devices.signin_setting import AssignmentTarget, Configuration, TargetKind
from passgate.devices.models import Device
from passgate.devices.selectors import every_device_signin_facts
from passgate.directory.models import GroupMembership, User

MAX_PEOPLE = 500  # people whose own groups are checked (those a changed profile names); the rest: "and more"
MAX_ROWS = 100
EVERYONE = "Everyone who signs in on it"


@dataclass(frozen=True)
class ImpactRow:
    device: Device
    whom: str  # "Everyone who signs in on it" or a user name
    turns_on: bool
    why: str  # the sentence of the answer after the change

    @property
    def is_person(self) -> bool:
        return self.whom != EVERYONE


@dataclass
class ImpactView:
    devices_total: int
    turning_on: int = 0  # devices whose login screen would offer security-key sign-in after the change
    turning_off: int = 0
    people_rows: int = 0  # (device, person) pairs that change only for that person
    rows: list[ImpactRow] = field(default_factory=list)
    more: int = 0
    people_capped: bool = False

    @property
    def none(self) -> bool:
        return not (self.turning_on or self.turning_off or self.people_rows)


def _targets(configuration: Configuration, profile_id: str | None) -> tuple[AssignmentTarget, ...]:
    return next((p.targets for p in configuration.profiles if p.profile_id == profile_id), ())


def _people(targets: Iterable[AssignmentTarget]) -> tuple[list[tuple[User, frozenset[str]]], bool]:
    """The people whose groups decide for them: members of the groups the targets name, or everyone for
    allLicensedUsers; each with their group ids."""
    targets = list(targets)
    everyone = any(t.kind is TargetKind.ALL_LICENSED_USERS for t in targets)
    group_ids = {uuid.UUID(t.group_id) for t in targets if t.group_id is not None}
    if not everyone and not group_ids:
        return [], False
    users = User.objects.order_by("upn_normalized")
    if not everyone:
        users = users.filter(groupmembership__group_id__in=group_ids).distinct()
    chosen = list(users[:MAX_PEOPLE + 1])
    capped = len(chosen) > MAX_PEOPLE
    chosen = chosen[:MAX_PEOPLE]
    groups: dict[object, set[str]] = {}
    for user_id, group_id in GroupMembership.objects.filter(user__in=chosen).values_list("user_id", "group_id"):
        groups.setdefault(user_id, set()).add(str(group_id))
    return [(u, frozenset(groups.get(u.pk, ()))) for u in chosen], capped


def impact_of(before: Configuration, after: Configuration, *, profile_id: str | None) -> ImpactView:
    """What changing ``before`` into ``after`` (one profile, ``profile_id``) would switch."""
    devices = every_device_signin_facts()
    by_id = {facts.device_id: device for device, facts in devices}
    view = ImpactView(devices_total=len(devices))
    rows: list[ImpactRow] = []
    screen: dict[str, Impact] = {}
    for impact in preview_impact([facts for _, facts in devices], before, after):
        screen[impact.device_id] = impact
        view.turning_on += impact.turns_on
        view.turning_off += not impact.turns_on
        rows.append(ImpactRow(by_id[impact.device_id], EVERYONE, impact.turns_on,
                              impact.after.explanation))
    people, view.people_capped = _people((*_targets(before, profile_id), *_targets(after, profile_id)))
    for user, group_ids in people:
        facts = [replace(f, user_group_ids=group_ids) for _, f in devices]
        for impact in preview_impact(facts, before, after):
            same = screen.get(impact.device_id)
            if same is not None and same.after.enabled == impact.after.enabled:
                continue  # already said: everyone on that device
            view.people_rows += 1
            rows.append(ImpactRow(by_id[impact.device_id], user.user_principal_name, impact.turns_on,
                                  impact.after.explanation))
    everyone = sorted((r for r in rows if not r.is_person), key=lambda r: r.device.display_name.lower())
    named = sorted((r for r in rows if r.is_person), key=lambda r: (r.device.display_name.lower(), r.whom))
    rows = [*everyone, *named]
    view.rows = rows[:MAX_ROWS]
    view.more = max(0, len(rows) - MAX_ROWS)
    return view
