"""The ``passgate devices …`` command line (parsing only: no Django import, it runs before Django is set up)."""

from __future__ import annotations

from typing import Any


def add_device_parsers(sub: Any, positive: Any) -> None:
    devices = sub.add_parser("devices", help="computers joined to the directory").add_subparsers(dest="action",
                                                                                               required=True)
    a = devices.add_parser("token", help="issue a device enrollment token (shown once) to join computers with")
    a.add_argument("--lifetime-minutes", type=positive(10, 7 * 24 * 60), default=60)
    a.add_argument("--uses", type=positive(1, 1000), default=1, help="how many computers it may join (default 1)")
    a.add_argument("--description", default="", help="what the token is for (shown in the audit log)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_devices_token")
    a = devices.add_parser("list")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_devices_list")
    for name in ("show", "disable", "enable", "delete"):
        a = devices.add_parser(name)
        a.add_argument("device", help="object id, deviceId, or display name")
        a.add_argument("--json", action="store_true")
        a.set_defaults(func=f"cmd_devices_{name}")
    a = devices.add_parser("package", help="make a signed provisioning package turning security-key sign-in on (or "
                                           "off) for computers no one manages; apply it with passgate-device")
    a.add_argument("--security-key-signin", choices=("on", "off"), required=True)
    a.add_argument("--valid-days", type=positive(1, 3650), default=365)
    a.add_argument("--output", metavar="FILE", help="write the package here (default: standard output)")
    a.set_defaults(func="cmd_devices_package")
    a = devices.add_parser("purge", help="forget used device-proof ids that have expired (run it daily from cron)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_devices_purge")
