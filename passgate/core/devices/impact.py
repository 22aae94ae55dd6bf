"""Impact preview: which devices a configuration change would switch security-key sign-in on or off for.

Pure: the caller loads the devices' facts and the configuration before and after the change and gets the devices
whose answer changes. The admin centre's preview (``passgate.web.views.admin.device_impact``) loads them with
``devices.selectors.every_device_signin_facts`` and ``device_config.selectors.signin_configuration_with``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from passgate.core.devices.signin_setting import Configuration, DeviceFacts, SigninSetting, decide


@dataclass(frozen=True)
class Impact:
    device_id: str
    before: SigninSetting
    after: SigninSetting

    @property
    def turns_on(self) -> bool:
        return self.after.enabled and not self.before.enabled


def preview_impact(devices: Iterable[DeviceFacts], before: Configuration, after: Configuration, *,
                   include_reason_changes: bool = False) -> tuple[Impact, ...]:
    """The devices whose security-key sign-in would change from ``before`` to ``after``, by device id.

    By default only devices that would go from on to off or off to on; ``include_reason_changes`` also lists
    devices that stay as they are for another reason (another source or profile decides, a conflict appears)."""
    changed: list[Impact] = []
    for device in devices:
        old, new = decide(device, before), decide(device, after)
        differs = old.enabled != new.enabled or (include_reason_changes and (
            (old.source, old.reason, old.profile_ids) != (new.source, new.reason, new.profile_ids)))
        if differs:
            changed.append(Impact(device.device_id, old, new))
    return tuple(sorted(changed, key=lambda impact: impact.device_id))
