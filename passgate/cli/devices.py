"""``passgate devices …``: enrollment tokens for joining computers, and the devices joined."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from passgate.cli.commands import _emit, _system_actor
from passgate.core.errors import InvalidInput, NotFound
from passgate.device_api.packages import provisioning_package_issue
from passgate.devices.models import Device
from passgate.devices.selectors import device_find, devices_all
from passgate.devices.services import device_delete, device_proofs_purge, device_update, enrollment_token_issue


def _device_dict(device: Device) -> dict[str, Any]:
    return {"id": str(device.id), "deviceId": str(device.device_id), "displayName": device.display_name,
            "operatingSystem": device.operating_system, "operatingSystemVersion": device.operating_system_version,
            "trustType": device.trust_type, "accountEnabled": device.account_enabled,
            "registeredDateTime": device.registered_at.isoformat(),
            "lastSeenDateTime": device.last_seen_at.isoformat() if device.last_seen_at else None,
            "keyThumbprint": device.key_thumbprint}


def _line(d: dict[str, Any]) -> str:
    state = "enabled" if d["accountEnabled"] else "DISABLED"
    return (f"{d['displayName']:<24} {d['trustType']:<7} {state:<8} {d['operatingSystem']} "
            f"{d['operatingSystemVersion']:<16} {d['id']}")


def _device(identifier: str) -> Device:
    device = device_find(identifier)
    if device is None:
        raise NotFound(f"No device is {identifier!r} (give its object id, deviceId, or a display name only one "
                       "device has).")
    return device


def cmd_devices_token(args: argparse.Namespace) -> None:
    row, plain = enrollment_token_issue(actor=_system_actor(), lifetime_minutes=args.lifetime_minutes,
                                        uses=args.uses, description=args.description)
    data = {"id": str(row.id), "enrollmentToken": plain, "lifetimeInMinutes": row.lifetime_minutes,
            "uses": row.uses_allowed, "origin": settings.PASSGATE.origin}
    _emit(args, data, lambda: [
        f"Device enrollment token: {plain}",
        f"  joins {row.uses_allowed} computer(s), valid {row.lifetime_minutes} minutes; shown once.",
        f"  On the computer: passgate-device join --passgate {settings.PASSGATE.origin} --token {plain}",
    ])


def cmd_devices_list(args: argparse.Namespace) -> None:
    rows = [_device_dict(d) for d in devices_all()]
    _emit(args, rows, lambda: [_line(d) for d in rows] or ["(no devices)"])


def cmd_devices_show(args: argparse.Namespace) -> None:
    data = _device_dict(_device(args.device))
    _emit(args, data, lambda: [f"{name}: {value}" for name, value in data.items()])


def _set_enabled(args: argparse.Namespace, enabled: bool) -> None:
    device = device_update(device=_device(args.device), actor=_system_actor(), account_enabled=enabled)
    data = _device_dict(device)
    _emit(args, data, lambda: [f"{device.display_name}: {'enabled' if enabled else 'disabled'}"])


def cmd_devices_disable(args: argparse.Namespace) -> None:
    _set_enabled(args, False)


def cmd_devices_enable(args: argparse.Namespace) -> None:
    _set_enabled(args, True)


def cmd_devices_delete(args: argparse.Namespace) -> None:
    device = _device(args.device)
    data = _device_dict(device)
    device_delete(device=device, actor=_system_actor())
    _emit(args, data, lambda: [f"{data['displayName']}: deleted; it can no longer sign anyone in."])


def cmd_devices_purge(args: argparse.Namespace) -> None:
    deleted = device_proofs_purge()
    _emit(args, {"deleted": deleted}, lambda: [f"{deleted} expired device-proof id(s) forgotten."])


def cmd_devices_package(args: argparse.Namespace) -> None:
    """The file is created first (never overwriting one), so a package is issued, and audited, only when it can
    be written."""
    if not args.output:
        print(provisioning_package_issue(security_key_sign_in=args.security_key_signin == "on",
                                         valid_days=args.valid_days, actor=_system_actor())[1])
        return
    target = Path(args.output)
    try:
        out = target.open("x", encoding="ascii")
    except OSError as exc:
        raise InvalidInput(f"Can't write {target}: {exc.strerror or exc}.") from None
    try:
        with out:
            made, text = provisioning_package_issue(security_key_sign_in=args.security_key_signin == "on",
                                                    valid_days=args.valid_days, actor=_system_actor())
            out.write(text + "\n")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    expires = datetime.fromtimestamp(made.expires_at, tz=UTC).strftime("%Y-%m-%d")
    print(f"Provisioning package {made.package_id} written to {target}: security-key sign-in "
          f"{args.security_key_signin}, valid until {expires}. On the computer: passgate-device package apply "
          f"{target.name}")
