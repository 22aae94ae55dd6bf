"""Which settings a policy change changed, old and new values, for the audit row.

Entra's audit events for "Authentication Methods Policy Update" record only the settings that
changed; :func:`changed_settings` gives the same list. Paths use Graph's property names, start with
the method (``fido2``, ``softwareOath``, ``temporaryAccessPass``) and address collection members by
id rather than position, so a reordering doesn't read as a change of every member:

- ``fido2.state``: ``"enabled"`` → ``"disabled"``
- ``fido2.passkeyProfiles[<id>].keyRestrictions.aaGuids``: the whole list, old and new
- ``fido2.includeTargets[all_users].isRegistrationRequired``
- ``fido2.passkeyProfiles[<id>]``: a profile added (old ``None``, new its Graph JSON) or deleted (new ``None``)
- ``fido2.passkeyProfiles``: the members are the same but their order changed (old/new: the ids in order)

Values are JSON values (``str``, ``bool``, ``int``, lists, objects, ``None``) in Graph's spelling. The
deprecated ``isAttestationEnforced`` and ``keyRestrictions`` are left out (they mirror the default
profile, whose own change is listed), and so is metadata (``policyVersion``, ``lastModifiedDateTime``),
which is not a setting. ``changed_settings(a, b)`` is empty exactly when ``a == b``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from passgate.core.policy.graph import to_graph
from passgate.core.policy.model import (
    AuthenticationMethodsPolicy,
    Fido2Configuration,
    MethodConfiguration,
    SoftwareOathConfiguration,
)

_KEYED_COLLECTIONS: Final = ("includeTargets", "excludeTargets", "passkeyProfiles")
_NOT_SETTINGS: Final = ("@odata.type", "id", "isAttestationEnforced", "keyRestrictions")


@dataclass(frozen=True)
class Change:
    """One changed setting. ``old`` is ``None`` for something added, ``new`` is ``None`` for something removed."""

    path: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        """``{"path", "old", "new"}``, for an audit row or a stored version."""
        return {"path": self.path, "old": self.old, "new": self.new}


class _Keyed(dict[str, Any]):
    """A collection whose members are compared by id."""


def method_key(config: MethodConfiguration) -> str:
    """``fido2``, ``softwareOath`` or ``temporaryAccessPass``: the path segment of the configuration's URL."""
    if isinstance(config, Fido2Configuration):
        return "fido2"
    if isinstance(config, SoftwareOathConfiguration):
        return "softwareOath"
    return "temporaryAccessPass"


def _settings(config: MethodConfiguration) -> dict[str, Any]:
    tree = {name: value for name, value in to_graph(config).items() if name not in _NOT_SETTINGS}
    for name in _KEYED_COLLECTIONS:
        if name in tree:
            tree[name] = _Keyed((member["id"], member) for member in tree[name])
    return tree


def _tree(value: AuthenticationMethodsPolicy | MethodConfiguration) -> dict[str, Any]:
    configs = value.configurations if isinstance(value, AuthenticationMethodsPolicy) else (value,)
    return {method_key(config): _settings(config) for config in configs}


def _order_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    kept_old = [key for key in old if key in new]
    kept_new = [key for key in new if key in old]
    return kept_old != kept_new


def _diff(path: str, old: Any, new: Any, out: list[Change]) -> None:
    if isinstance(old, _Keyed) and isinstance(new, _Keyed):
        for key, member in new.items():
            if key in old:
                _diff(f"{path}[{key}]", old[key], member, out)
            else:
                out.append(Change(f"{path}[{key}]", None, member))
        out.extend(Change(f"{path}[{key}]", member, None) for key, member in old.items() if key not in new)
        if _order_changed(old, new):
            out.append(Change(path, list(old), list(new)))
    elif isinstance(old, dict) and isinstance(new, dict):
        for name in dict.fromkeys([*old, *new]):
            _diff(f"{path}.{name}" if path else name, old.get(name), new.get(name), out)
    elif old != new:
        out.append(Change(path, old, new))


def changed_settings(old: AuthenticationMethodsPolicy | MethodConfiguration,
                     new: AuthenticationMethodsPolicy | MethodConfiguration) -> list[Change]:
    """The settings that differ between two policies (or two versions of one method configuration)."""
    if type(old) is not type(new):
        raise TypeError(f"can't compare a {type(old).__name__} with a {type(new).__name__}")
    out: list[Change] = []
    _diff("", _tree(old), _tree(new), out)
    return out
