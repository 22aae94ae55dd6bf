"""The authenticator catalogue: a display name and icon per AAGUID, for people, never for trust decisions.

Three sources, merged by ``build_catalogue``:

* a verified FIDO MDS3 snapshot (``MetadataSnapshot``): the name is the metadata statement's ``description``,
  and the entry also carries the MDS status and certification level (for display; trust decisions read the
  snapshot itself);
* the community list of passkeydeveloper/passkey-authenticator-aaguids (``aaguid.json``, bundled as
  ``data/community-aaguids.json``, see ``data/README.md``), which names the synced providers MDS does not list
  (iCloud Keychain / Apple Passwords, Google Password Manager, Windows Hello, 1Password, ...);
* ``MICROSOFT_DOCUMENTED``: the AAGUIDs Microsoft documents for its passkey features that neither list names
  (Microsoft Authenticator's passkeys on iOS and Android), so Entra administrators find them by name.

For an AAGUID both list, MDS wins (name, status, level; its icon too, else the community icons); the community
list wins over ``MICROSOFT_DOCUMENTED``. Icons are kept
only as ``data:image/<type>;base64,...`` URLs of at most ``MAX_ICON_CHARS`` characters: a remote URL would make
our pages fetch from third parties, so it is dropped.

Pure: reading the bundled list (``importlib.resources``) is the only I/O; refreshing the list is the caller's
business (``load_community_list(raw)`` validates bytes and either returns the list or raises
``CommunityListRejected``, so a bad refresh never replaces a good list).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal, NoReturn
from uuid import UUID

from passgate.core.errors import InvalidInput, PassgateError
from passgate.core.trust.mds import MetadataSnapshot

CatalogueSource = Literal["mds", "community", "microsoft"]

ZERO_AAGUID: Final = "00000000-0000-0000-0000-000000000000"
# Microsoft Authenticator's device-bound passkeys (Entra ID "passkeys in Microsoft Authenticator"), as Microsoft's
# Entra support material and the EntraIDPasskeyHelper / PasskeyProviderAAGUIDs PowerShell Gallery modules list them
# (copied 2026-12-04 from the project's reference notes, graph-and-entra-reference.md). Names only, for display.
MICROSOFT_DOCUMENTED: Final[Mapping[str, str]] = MappingProxyType({
    "90a3ccdf-635c-4729-a248-9b709135078f": "Microsoft Authenticator (iOS)",
    "de1e552d-db1d-4423-a619-566b625cdc84": "Microsoft Authenticator (Android)",
})
COMMUNITY_LIST_RESOURCE: Final = "community-aaguids.json"
MAX_ICON_CHARS: Final = 64 * 1024
MAX_NAME_CHARS: Final = 200
MAX_COMMUNITY_LIST_BYTES: Final = 8 * 1024 * 1024
MAX_COMMUNITY_LIST_ENTRIES: Final = 10_000
DEFAULT_SEARCH_LIMIT: Final = 20
UNDISCLOSED_MODEL_NAME: Final = "Passkey (model not disclosed)"

_AAGUID_RE: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ICON_RE: Final = re.compile(r"data:image/[a-z0-9][a-z0-9.+-]*;base64,[A-Za-z0-9+/]*={0,2}", re.IGNORECASE)
_ICON_FIELDS: Final = ("icon_light", "icon_dark")
# Bidirectional embeddings, overrides and isolates: they could make a name display as another one.
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class CommunityListRejected(PassgateError):
    """A community AAGUID list is not the expected shape; the caller keeps the list it already has."""

    code = "aaguid_list_invalid"


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One authenticator model. ``aaguid`` is lower-case 8-4-4-4-12; icons are safe ``data:image`` URLs or None.

    ``status`` and ``certification_level`` are the MDS values (``AuthenticatorStatus`` / ``CertificationLevel``
    strings), ``None`` for a community entry. They are for display: trust decisions read the MDS snapshot.
    """

    aaguid: str
    name: str
    icon_light: str | None
    icon_dark: str | None
    source: CatalogueSource
    certification_level: str | None = None
    status: str | None = None

    def icon(self, *, dark: bool = False) -> str | None:
        """The icon for a light (default) or dark background, falling back to the other one."""
        return (self.icon_dark or self.icon_light) if dark else (self.icon_light or self.icon_dark)


def _sort_key(entry: CatalogueEntry) -> tuple[str, str, str]:
    return entry.name.casefold(), entry.name, entry.aaguid


@dataclass(frozen=True)
class Catalogue:
    """Entries sorted by name (case-insensitively), indexed by AAGUID at construction (one per AAGUID)."""

    entries: tuple[CatalogueEntry, ...]
    _by_aaguid: Mapping[str, CatalogueEntry] = field(init=False, repr=False, compare=False)
    _folded: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        entries = tuple(sorted(self.entries, key=_sort_key))
        by_aaguid: dict[str, CatalogueEntry] = {}
        for entry in entries:
            if entry.aaguid in by_aaguid:
                raise InvalidInput(f"the catalogue lists AAGUID {entry.aaguid} twice")
            by_aaguid[entry.aaguid] = entry
        object.__setattr__(self, "entries", entries)
        object.__setattr__(self, "_by_aaguid", MappingProxyType(by_aaguid))
        object.__setattr__(self, "_folded", tuple(entry.name.casefold() for entry in entries))

    def lookup(self, aaguid: str | UUID) -> CatalogueEntry | None:
        """The entry for an AAGUID in any letter case, or a ``UUID`` (``None`` if unknown or not an AAGUID)."""
        key = _canonical_aaguid(aaguid)
        return None if key is None else self._by_aaguid.get(key)

    def search(self, text: str, limit: int = DEFAULT_SEARCH_LIMIT) -> tuple[CatalogueEntry, ...]:
        """Entries whose name contains ``text`` (case- and whitespace-insensitive), at most ``limit``.

        Order: an exact name match, then names starting with ``text``, then the other matches; alphabetical
        within each group. An empty ``text`` matches every entry (alphabetical).
        """
        if limit < 0:
            raise InvalidInput(f"the search limit must not be negative (got {limit})")
        query = _normalise_name(text).casefold()
        ranked: list[tuple[int, int]] = []
        for index, folded in enumerate(self._folded):
            if query in folded:
                rank = 0 if folded == query else 1 if folded.startswith(query) else 2
                ranked.append((rank, index))  # index follows the alphabetical order of ``entries``
        ranked.sort()
        return tuple(self.entries[index] for _, index in ranked[:limit])

    def aaguids_named(self, name: str) -> tuple[str, ...]:
        """Every AAGUID whose model has exactly this name (case- and whitespace-insensitive): a model such as
        "YubiKey 5 Series" can have several AAGUIDs (firmware generations), and an admin means all of them."""
        wanted = _normalise_name(name).casefold()
        return tuple(self.entries[i].aaguid for i, folded in enumerate(self._folded) if folded == wanted)


def build_catalogue(
    *,
    snapshot: MetadataSnapshot | None,
    community: Mapping[str, Any] | None = None,
) -> Catalogue:
    """Merge MDS names (they win) with the community list (it completes missing AAGUIDs).

    ``community`` is a list as ``load_community_list`` returns it (any mapping of the same shape is validated
    again here); ``None`` means the bundled lists (the community list and ``MICROSOFT_DOCUMENTED``), a mapping
    exactly that list, and an empty mapping no list at all.
    MDS entries without an AAGUID (U2F, UAF) or without a metadata statement are not catalogued from MDS.
    Raises ``CommunityListRejected`` for a malformed ``community`` mapping.
    """
    listed = _bundled_community_list() if community is None else _validate_community(community)
    merged: dict[str, CatalogueEntry] = {}
    if snapshot is not None:
        for mds_entry in snapshot.entries:
            if mds_entry.aaguid is None or mds_entry.description is None:
                continue
            aaguid = mds_entry.aaguid.lower()
            name = _normalise_name(mds_entry.description)
            if not name or aaguid in merged:
                continue
            name = _shorten(_without_controls(name))
            icon = safe_icon(mds_entry.icon)
            fallback = listed.get(aaguid, {})
            level = mds_entry.certification_level
            merged[aaguid] = CatalogueEntry(
                aaguid=aaguid,
                name=name,
                icon_light=icon or safe_icon(fallback.get("icon_light")),
                icon_dark=icon or safe_icon(fallback.get("icon_dark")),
                source="mds",
                certification_level=None if level is None else level.value,
                status=mds_entry.status.value,
            )
    for aaguid, item in listed.items():
        if aaguid not in merged:
            merged[aaguid] = CatalogueEntry(
                aaguid=aaguid,
                name=item["name"],
                icon_light=safe_icon(item.get("icon_light")),
                icon_dark=safe_icon(item.get("icon_dark")),
                source="community",
            )
    for aaguid, name in (MICROSOFT_DOCUMENTED if community is None else {}).items():
        if aaguid not in merged:
            merged[aaguid] = CatalogueEntry(aaguid=aaguid, name=name, icon_light=None, icon_dark=None,
                                            source="microsoft")
    return Catalogue(entries=tuple(merged.values()))


def load_community_list(raw: bytes | None = None) -> Mapping[str, Any]:
    """Parse and validate a community ``aaguid.json`` (the bundled copy when ``raw`` is None).

    Returns a read-only mapping ``{lower-case AAGUID: {"name": str, "icon_light"?: str, "icon_dark"?: str}}``
    (names whitespace-normalised, unknown member fields dropped; icons are filtered later, by
    ``build_catalogue``). Raises ``CommunityListRejected`` naming the first problem.
    """
    if raw is None:
        return _bundled_community_list()
    return _validate_community(_parse_json(bytes(raw)))


def display_name(catalogue: Catalogue, aaguid: str | UUID) -> str:
    """What to call the authenticator that made a passkey with this AAGUID, for people."""
    key = _canonical_aaguid(aaguid)
    if key == ZERO_AAGUID:
        return UNDISCLOSED_MODEL_NAME
    if key is None:
        return "Unknown authenticator"
    entry = catalogue.lookup(key)
    return entry.name if entry is not None else f"Unknown authenticator (AAGUID {key})"


def safe_icon(value: object) -> str | None:
    """``value`` if it is a ``data:image/<type>;base64,...`` URL of at most ``MAX_ICON_CHARS``, else None."""
    if not isinstance(value, str) or len(value) > MAX_ICON_CHARS or _ICON_RE.fullmatch(value) is None:
        return None
    return value


# --- helpers ------------------------------------------------------------------------------------------------------


@cache
def _bundled_community_list() -> Mapping[str, Any]:
    raw = resources.files("passgate.core.trust").joinpath("data", COMMUNITY_LIST_RESOURCE).read_bytes()
    return _validate_community(_parse_json(raw))


def _canonical_aaguid(aaguid: str | UUID) -> str | None:
    if isinstance(aaguid, UUID):
        return str(aaguid)
    if not isinstance(aaguid, str):
        return None
    key = aaguid.strip().lower()
    return key if _AAGUID_RE.fullmatch(key) else None


def _normalise_name(text: str) -> str:
    return " ".join(text.split())


def _is_control(ch: str) -> bool:
    return ch in _BIDI_CONTROLS or unicodedata.category(ch) == "Cc"


def _without_controls(text: str) -> str:
    return "".join("\N{REPLACEMENT CHARACTER}" if _is_control(ch) else ch for ch in text)


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_NAME_CHARS else text[: MAX_NAME_CHARS - 1] + "\N{HORIZONTAL ELLIPSIS}"


def _refuse(message: str) -> NoReturn:
    raise CommunityListRejected(f"community AAGUID list: {message}")


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse_json(raw: bytes) -> object:
    if len(raw) > MAX_COMMUNITY_LIST_BYTES:
        _refuse(f"{len(raw)} bytes, more than the limit of {MAX_COMMUNITY_LIST_BYTES}")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except CommunityListRejected:
        raise
    except (ValueError, RecursionError) as exc:
        _refuse(f"not UTF-8 JSON ({_describe(str(exc))})")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            _refuse(f"the key {_describe(key)} appears twice in one object")
        result[key] = value
    return result


def _validate_community(data: object) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        _refuse(f"expected a JSON object mapping AAGUIDs to entries, got {type(data).__name__}")
    if len(data) > MAX_COMMUNITY_LIST_ENTRIES:
        _refuse(f"{len(data)} entries, more than the limit of {MAX_COMMUNITY_LIST_ENTRIES}")
    result: dict[str, Mapping[str, str]] = {}
    for key, item in data.items():
        aaguid = key.lower() if isinstance(key, str) else None
        if aaguid is None or _AAGUID_RE.fullmatch(aaguid) is None:
            _refuse(f"the key {_describe(key)} is not a hyphenated AAGUID")
        if aaguid in result:
            _refuse(f"AAGUID {aaguid} is listed twice (keys differ only in letter case)")
        result[aaguid] = _validate_item(aaguid, item)
    return MappingProxyType(result)


def _validate_item(aaguid: str, item: object) -> Mapping[str, str]:
    if not isinstance(item, Mapping):
        _refuse(f"the entry for {aaguid} is not an object")
    name = item.get("name")
    if not isinstance(name, str):
        _refuse(f"the entry for {aaguid} has no string 'name'")
    name = _normalise_name(name)
    if not name:
        _refuse(f"the entry for {aaguid} has an empty 'name'")
    if len(name) > MAX_NAME_CHARS:
        _refuse(f"the 'name' of {aaguid} is {len(name)} characters, more than {MAX_NAME_CHARS}")
    if any(_is_control(ch) for ch in name):
        _refuse(f"the 'name' of {aaguid} contains control or bidirectional-override characters")
    clean = {"name": name}
    for icon_field in _ICON_FIELDS:
        icon = item.get(icon_field)
        if icon is None:
            continue
        if not isinstance(icon, str):
            _refuse(f"the '{icon_field}' of {aaguid} is not a string")
        clean[icon_field] = icon
    return MappingProxyType(clean)
