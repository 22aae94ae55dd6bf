"""Joined devices for the admin centre's tests, through the registry's own services."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from passgate.audit.services import Actor
from passgate.core.devices.keys import jwk_of
from passgate.core.devices.signin_setting import SECURITY_KEY_OMA_URI

SYSTEM = Actor.system("test")


def join(name: str, *, trust: str = "joined", groups: tuple[Any, ...] = ()) -> Any:
    from passgate.devices.services import device_group_add, device_join, enrollment_token_issue

    _, plain = enrollment_token_issue(actor=SYSTEM)
    device = device_join(body={"enrollmentToken": plain, "displayName": name, "operatingSystem": "Linux",
                               "operatingSystemVersion": "Ubuntu 24.04", "trustType": trust,
                               "publicKey": jwk_of(ec.generate_private_key(ec.SECP256R1()).public_key())})
    for group in groups:
        device_group_add(device=device, group=group, actor=SYSTEM)
    return device


def security_key_profile(name: str = "Security keys on", *, value: int = 1, extra: tuple[dict[str, Any], ...] = (),
                         groups: tuple[Any, ...] = (), all_devices: bool = False) -> Any:
    from passgate.device_config.services import device_configuration_assign, device_configuration_create

    profile = device_configuration_create(body={
        "@odata.type": "#microsoft.graph.windows10CustomConfiguration", "displayName": name,
        "omaSettings": [{"@odata.type": "#microsoft.graph.omaSettingInteger", "displayName": "Keys",
                         "omaUri": SECURITY_KEY_OMA_URI, "value": value}, *extra]}, actor=SYSTEM)
    targets = [{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": str(g.pk)}}
               for g in groups]
    if all_devices:
        targets.append({"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}})
    if targets:
        device_configuration_assign(configuration_id=profile.id, body={"assignments": targets}, actor=SYSTEM)
    return profile
