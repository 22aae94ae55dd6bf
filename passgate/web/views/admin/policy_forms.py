"""The authentication-method pages' forms, both ways.

- ``*_body(form, current)``: a submitted form as a Graph PATCH body for ``policy_preview``/``policy_update``, so
  the admin centre's changes pass exactly the validation the Graph API's do. Values are passed on as typed (a
  lifetime that isn't a number stays a string) so the core's error names the property. Collections keep the
  stored order and put new members last, so saving an unchanged form changes nothing.
- ``*_form(...)``: what the templates show, from the policy in force or, after a refusal, from what was
  submitted, with the core's error placed on the row or profile it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from passgate.core.policy.errors import PolicyValidationError
from passgate.core.policy.graph import (
    CERTIFICATION_LEVEL_NAMES,
    METADATA_RULES,
    REFUSE_FLAGGED,
    passkey_types_to_graph,
)
from passgate.core.policy.model import (
    ALL_USERS,
    MAX_PASSKEY_PROFILES,
    Fido2Configuration,
    MethodConfiguration,
    PasskeyTarget,
    TemporaryAccessPassConfiguration,
    is_guid,
)
from passgate.directory.models import SecurityGroup
from passgate.trust_store.selectors import catalogue

PROFILE_FIELDS_LIMIT = 8  # profile blocks read from a form at most (the core refuses more than 3 anyway)
TAP_LIFETIMES = ("minimumLifetimeInMinutes", "defaultLifetimeInMinutes", "maximumLifetimeInMinutes")
_MEMBER = re.compile(r"^(includeTargets|excludeTargets|passkeyProfiles)\[(\d+)\]")

PASSKEY_TYPE_CHOICES = (("deviceBound,synced", "Device-bound and synced"), ("deviceBound", "Device-bound only"),
                        ("synced", "Synced only"))
ATTESTATION_CHOICES = (("disabled", "Not required"), ("registrationOnly", "Required when a passkey is added"))
ENFORCEMENT_CHOICES = (("allow", "Allow only the listed models"), ("block", "Block the listed models"))
CERTIFICATION_CHOICES = (("", "Any (no rule)"), ("L1", "Level 1 or above"), ("L1plus", "Level 1+ or above"),
                         ("L2", "Level 2 or above"), ("L2plus", "Level 2+ or above"), ("L3", "Level 3 or above"),
                         ("L3plus", "Level 3+ or above"))


# --- reading submitted values ----------------------------------------------------------------------------------

def _ordered(ids: Iterable[str], stored: Sequence[str]) -> list[str]:
    """Unique ids in the stored order, new ones after them in the order given."""
    position = {value: index for index, value in enumerate(stored)}
    unique = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    return sorted(unique, key=lambda i: (position.get(i, len(position)), unique.index(i)))


def _number_or_text(value: str) -> int | str:
    try:
        return int(value.strip())
    except ValueError:
        return value


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _aaguid_lines(text: str) -> list[str]:
    """Each line an AAGUID or a model name from the authenticator catalogue ("YubiKey 5 Series"): a name stands
    for every AAGUID of that model. Anything else goes to the core as typed, which names it in its refusal."""
    known = catalogue()
    aaguids: list[str] = []
    for line in _lines(text):
        named = () if is_guid(line.lower()) else known.aaguids_named(line)
        aaguids.extend(named or [line])
    return aaguids


def _state(form: QueryDict) -> str:
    return form.get("state") or "disabled"  # a checkbox: absent means off; anything else goes to the core


# --- target tables (every method) ------------------------------------------------------------------------------

@dataclass
class TargetRow:
    id: str  # ALL_USERS or a group id
    name: str
    members: int | None  # None for all users and for a group that no longer exists
    included: bool = False
    required: bool = False
    profiles: tuple[str, ...] = ()
    excluded: bool = False
    error: str = ""  # the refusal, in words about this row
    error_in: str = ""  # "include" or "exclude": which list the refusal is about

    @property
    def is_all_users(self) -> bool:
        return self.id == ALL_USERS


@dataclass
class Problem:
    """The core's refusal: its message (which names the property), the property's path, and where it belongs."""

    message: str
    target: str
    code: str
    place: str = ""  # "include:<id>", "exclude:<id>", "profile:<block>", a field name, or ""


@dataclass
class TargetForm:
    state: str
    rows: list[TargetRow]
    problem: Problem | None = None

    @property
    def enabled(self) -> bool:
        return self.state == "enabled"

    @property
    def group_rows(self) -> list[TargetRow]:
        return [r for r in self.rows if not r.is_all_users]


def _rows(groups: Sequence[SecurityGroup], known_ids: Iterable[str]) -> list[TargetRow]:
    rows = [TargetRow(id=ALL_USERS, name="All users", members=None)]
    rows += [TargetRow(id=str(g.pk), name=g.display_name, members=getattr(g, "member_count", None)) for g in groups]
    present = {r.id for r in rows}
    rows += [TargetRow(id=i, name=f"Deleted group {i}", members=None)
             for i in dict.fromkeys(known_ids) if i not in present]
    return rows


def target_form_from_config(config: MethodConfiguration, groups: Sequence[SecurityGroup]) -> TargetForm:
    included = {t.id: t for t in config.include_targets}
    excluded = {t.id for t in config.exclude_targets}
    default_profiles = ((config.default_passkey_profile,) if isinstance(config, Fido2Configuration) else ())
    rows = _rows(groups, [*included, *excluded])
    for row in rows:
        target = included.get(row.id)
        row.included = target is not None
        row.required = bool(target and target.is_registration_required)
        row.profiles = (target.allowed_passkey_profiles if isinstance(target, PasskeyTarget)
                        else default_profiles)
        row.excluded = row.id in excluded
    return TargetForm(state=config.state.value, rows=rows)


def target_form_from_post(form: QueryDict, config: MethodConfiguration,
                          groups: Sequence[SecurityGroup]) -> TargetForm:
    included, required, excluded = set(form.getlist("include")), set(form.getlist("required")), \
        set(form.getlist("exclude"))
    known = [*(t.id for t in config.include_targets), *(t.id for t in config.exclude_targets)]
    rows = _rows(groups, known)
    for row in rows:
        row.included = row.id in included
        row.required = row.id in required
        row.profiles = tuple(form.getlist(f"profiles:{row.id}"))
        row.excluded = row.id in excluded
    return TargetForm(state=_state(form), rows=rows)


def targets_body(form: QueryDict, config: MethodConfiguration, *, passkey: bool) -> dict[str, Any]:
    """``state``, ``includeTargets`` and ``excludeTargets`` from a target table.

    For Passkey (FIDO2) each include target carries ``isRegistrationRequired`` and ``allowedPasskeyProfiles``;
    for the other methods only the id (an existing target keeps its ``isRegistrationRequired``).
    """
    include = _ordered(form.getlist("include"), [t.id for t in config.include_targets])
    exclude = _ordered(form.getlist("exclude"), [t.id for t in config.exclude_targets])
    required = set(form.getlist("required"))
    targets: list[dict[str, Any]] = []
    for target_id in include:
        target: dict[str, Any] = {"id": target_id, "targetType": "group"}
        if passkey:
            target["isRegistrationRequired"] = target_id in required
            target["allowedPasskeyProfiles"] = list(dict.fromkeys(form.getlist(f"profiles:{target_id}")))
        targets.append(target)
    return {"state": _state(form), "includeTargets": targets,
            "excludeTargets": [{"id": i, "targetType": "group"} for i in exclude]}


def named(message: str, rows: Iterable[TargetRow]) -> str:
    """The core's message with each group id it quotes followed by the group's name."""
    for row in rows:
        if not row.is_all_users and row.id in message:
            message = message.replace(f"'{row.id}'", f"'{row.id}' (“{row.name}”)")
    return message


def place_target_problem(target_form: TargetForm, body: Mapping[str, Any], exc: PolicyValidationError) -> None:
    """Attach the core's refusal to the form, and to the row its path points at."""
    problem = Problem(message=named(exc.message, target_form.rows), target=exc.target, code=exc.code)
    found = _MEMBER.match(exc.target)
    if found and found.group(1) in ("includeTargets", "excludeTargets"):
        members = body.get(found.group(1), [])
        index = int(found.group(2))
        if index < len(members):
            member_id = str(members[index].get("id", ""))
            kind = "include" if found.group(1) == "includeTargets" else "exclude"
            problem.place = f"{kind}:{member_id}"
            for row in target_form.rows:
                if row.id == member_id:
                    row.error_in = kind
                    row.error = ("Choose at least one passkey profile for this target."
                                 if exc.target.endswith(".allowedPasskeyProfiles") and "missing" in exc.message
                                 else problem.message)
    elif exc.target in ("state", "includeTargets", "excludeTargets"):
        problem.place = exc.target
    target_form.problem = problem


# --- passkey profiles (Passkey (FIDO2), "Configure") -------------------------------------------------------------

@dataclass
class ProfileBlock:
    key: str  # the form prefix: "p0", "p1", ... for stored profiles, "new" for the one being added
    id: str
    name: str
    is_default: bool = False
    types: str = "deviceBound,synced"
    attestation: str = "disabled"
    kr_enforced: bool = False
    kr_type: str = "allow"
    aaguids: str = ""  # one per line
    min_level: str = ""  # metadata rule: "", "L1" ... "L3plus"
    hardware: bool = False  # metadata rule: hardware key protection
    delete: bool = False
    error: str = ""

    @property
    def listed_models(self) -> list[tuple[str, str]]:
        """(AAGUID, model name) for each listed AAGUID the catalogue knows, so an admin can read the list."""
        known = catalogue()
        rows = []
        for line in _lines(self.aaguids):
            entry = known.lookup(line) if is_guid(line.lower()) else None
            if entry is not None:
                rows.append((line.lower(), entry.name))
        return rows


@dataclass
class ConfigureForm:
    self_service: bool
    profiles: list[ProfileBlock]
    new: ProfileBlock | None  # None when the maximum number of profiles exists
    problem: Problem | None = None


def configure_form_from_config(config: Fido2Configuration) -> ConfigureForm:
    blocks = [
        ProfileBlock(key=f"p{index}", id=p.id, name=p.name, is_default=p.is_default,
                     types=passkey_types_to_graph(p.passkey_types), attestation=p.attestation_enforcement.value,
                     kr_enforced=p.key_restrictions.is_enforced, kr_type=p.key_restrictions.enforcement_type.value,
                     aaguids="\n".join(p.key_restrictions.aa_guids),
                     min_level=(CERTIFICATION_LEVEL_NAMES[p.metadata_rules.minimum_certification_level]
                                if p.metadata_rules.minimum_certification_level else ""),
                     hardware=p.metadata_rules.require_hardware_key_protection)
        for index, p in enumerate(config.passkey_profiles)
    ]
    new = ProfileBlock(key="new", id="", name="") if len(blocks) < MAX_PASSKEY_PROFILES else None
    return ConfigureForm(self_service=config.is_self_service_registration_allowed, profiles=blocks, new=new)


def _block_from_post(form: QueryDict, key: str, config: Fido2Configuration) -> ProfileBlock:
    profile_id = form.get(f"{key}-id", "")
    stored = config.profile(profile_id) if profile_id else None
    name = form.get(f"{key}-name")
    return ProfileBlock(
        key=key, id=profile_id, name=name if name is not None else (stored.name if stored else ""),
        is_default=bool(stored and stored.is_default), types=form.get(f"{key}-types", ""),
        attestation=form.get(f"{key}-attestation", ""), kr_enforced=f"{key}-kr-enforced" in form,
        kr_type=form.get(f"{key}-kr-type", ""), aaguids=_with_picked(form, key),
        min_level=form.get(f"{key}-min-level", ""), hardware=f"{key}-hardware" in form,
        delete=f"{key}-delete" in form,
    )


def _stored_keys(form: QueryDict) -> list[str]:
    keys = []
    for index in range(PROFILE_FIELDS_LIMIT):
        if f"p{index}-id" not in form:
            break
        keys.append(f"p{index}")
    return keys


def configure_form_from_post(form: QueryDict, config: Fido2Configuration) -> ConfigureForm:
    blocks = [_block_from_post(form, key, config) for key in _stored_keys(form)]
    new = _block_from_post(form, "new", config) if len(config.passkey_profiles) < MAX_PASSKEY_PROFILES else None
    return ConfigureForm(self_service="self_service" in form, profiles=blocks, new=new)


def _profile_json(form: QueryDict, key: str, *, with_id: bool) -> dict[str, Any]:
    profile: dict[str, Any] = {}
    if with_id:
        profile["id"] = form.get(f"{key}-id", "")
    if f"{key}-name" in form:  # the default profile's name is shown, not submitted: it can't be renamed
        profile["name"] = form.get(f"{key}-name", "")
    profile["passkeyTypes"] = form.get(f"{key}-types", "")
    profile["attestationEnforcement"] = form.get(f"{key}-attestation", "")
    profile["keyRestrictions"] = {"isEnforced": f"{key}-kr-enforced" in form,
                                  "enforcementType": form.get(f"{key}-kr-type", ""),
                                  "aaGuids": _aaguid_lines(_with_picked(form, key))}
    level = form.get(f"{key}-min-level", "")
    rules = {"minimumCertificationLevel": level or None, "requireHardwareKeyProtection": f"{key}-hardware" in form}
    profile[METADATA_RULES] = rules if level or rules["requireHardwareKeyProtection"] else None
    return profile


def model_names() -> list[str]:
    """Every model name the authenticator catalogue knows (MDS and the community list), once, for the picker."""
    return sorted({entry.name for entry in catalogue().entries}, key=str.casefold)


def _with_picked(form: QueryDict, key: str) -> str:
    """The AAGUID lines plus the model picked by name in the picker (it works without JavaScript, on Save)."""
    text = form.get(f"{key}-aaguids", "")
    picked = form.get(f"{key}-pick", "").strip()
    return f"{text.rstrip()}\n{picked}".strip() if picked else text


def configure_body(form: QueryDict) -> tuple[dict[str, Any], list[str]]:
    """``isSelfServiceRegistrationAllowed`` and ``passkeyProfiles``; and which block each profile came from."""
    profiles: list[dict[str, Any]] = []
    sources: list[str] = []
    for key in _stored_keys(form):
        if f"{key}-delete" in form:
            continue
        profiles.append(_profile_json(form, key, with_id=True))
        sources.append(key)
    if form.get("new-name", "").strip():
        profiles.append(_profile_json(form, "new", with_id=False))
        sources.append("new")
    return {"isSelfServiceRegistrationAllowed": "self_service" in form, "passkeyProfiles": profiles}, sources


def place_configure_problem(configure: ConfigureForm, sources: Sequence[str], exc: PolicyValidationError) -> None:
    problem = Problem(message=exc.message, target=exc.target, code=exc.code)
    found = _MEMBER.match(exc.target)
    if found and found.group(1) == "passkeyProfiles" and int(found.group(2)) < len(sources):
        key = sources[int(found.group(2))]
        problem.place = f"profile:{key}"
        for block in [*configure.profiles, *([configure.new] if configure.new else [])]:
            if block.key == key:
                block.error = exc.message
    elif exc.target:
        problem.place = exc.target.split(".")[0].split("[")[0]
    configure.problem = problem


# --- Temporary Access Pass settings ----------------------------------------------------------------------------

@dataclass
class TapSettingsForm:
    values: dict[str, str]  # the lifetimes as shown in the inputs
    is_usable_once: bool
    errors: dict[str, str] = field(default_factory=dict)


def tap_settings_from_config(config: TemporaryAccessPassConfiguration) -> TapSettingsForm:
    return TapSettingsForm(values={"minimumLifetimeInMinutes": str(config.minimum_lifetime_in_minutes),
                                   "defaultLifetimeInMinutes": str(config.default_lifetime_in_minutes),
                                   "maximumLifetimeInMinutes": str(config.maximum_lifetime_in_minutes)},
                           is_usable_once=config.is_usable_once)


def tap_settings_from_post(form: QueryDict) -> TapSettingsForm:
    return TapSettingsForm(values={name: form.get(name, "") for name in TAP_LIFETIMES},
                           is_usable_once="isUsableOnce" in form)


def tap_body(form: QueryDict, config: TemporaryAccessPassConfiguration) -> dict[str, Any]:
    body = targets_body(form, config, passkey=False)
    for name in TAP_LIFETIMES:
        body[name] = _number_or_text(form.get(name, ""))
    body["isUsableOnce"] = "isUsableOnce" in form
    return body


def place_tap_problem(settings_form: TapSettingsForm, target_form: TargetForm, body: Mapping[str, Any],
                      exc: PolicyValidationError) -> None:
    root = exc.target.split(".")[0].split("[")[0]
    if root in TAP_LIFETIMES or root == "isUsableOnce":
        settings_form.errors[root] = exc.message
    place_target_problem(target_form, body, exc)


# --- the preview's list of changes -------------------------------------------------------------------------------

_WORDS = {"state": "State", "isSelfServiceRegistrationAllowed": "Self-service set-up", "includeTargets": "Include",
          "excludeTargets": "Exclude", "passkeyProfiles": "Profile", "isRegistrationRequired": "registration required",
          "allowedPasskeyProfiles": "profiles", "name": "name", "passkeyTypes": "passkey types",
          "attestationEnforcement": "attestation", "keyRestrictions": "key restrictions", "isEnforced": "enforced",
          "enforcementType": "restriction", "aaGuids": "AAGUIDs", "defaultLifetimeInMinutes": "default lifetime",
          METADATA_RULES: "rules from FIDO metadata", "minimumCertificationLevel": "minimum certification level",
          "requireHardwareKeyProtection": "hardware key protection",
          REFUSE_FLAGGED: "Refuse passkeys of untrusted models at sign-in"}
# Passgate's annotations hold a dot: read each as one path segment.
_ANNOTATIONS = (METADATA_RULES, REFUSE_FLAGGED)
_HIDDEN = frozenset({"id", "targetType", "@odata.type"})


@dataclass(frozen=True)
class DescribedChange:
    setting: str  # "Include “Pilot” · registration required"
    path: str  # the Graph property path, as the audit log records it
    old: str
    new: str


def describe_change(path: str, old: object, new: object, names: Mapping[str, str]) -> DescribedChange:
    """One ``core.policy.diff`` change in words for the preview; ``names`` maps group and profile ids to names."""

    def name_of(key: str) -> str:
        return "All users" if key == ALL_USERS else names.get(key, key)

    def show(value: object) -> str:
        if value is None:
            return "—"
        if isinstance(value, bool):
            return "Yes" if value else "No"
        if isinstance(value, list):
            return ", ".join(name_of(str(v)) for v in value) or "none"
        if isinstance(value, dict):
            return "; ".join(f"{_WORDS.get(k, k)}: {show(v)}" for k, v in value.items() if k not in _HIDDEN)
        return name_of(str(value))

    graph_path = path.removeprefix("fido2.")
    readable = graph_path
    for number, annotation in enumerate(_ANNOTATIONS):
        readable = readable.replace(annotation, f"\x00{number}")
    parts = []
    for segment in re.findall(r"[^.\[\]]+(?:\[[^\]]+\])?", readable):
        word, _, key = segment.partition("[")
        if word.startswith("\x00"):
            word = _ANNOTATIONS[int(word[1:])]
        parts.append(_WORDS.get(word, word) + (f" “{name_of(key.rstrip(']'))}”" if key else ""))
    setting = parts[0] + "".join(f" · {p}" for p in parts[1:])
    old_text, new_text = show(old), show(new)
    if isinstance(new, dict) and old is None:  # a target or profile added
        old_text, new_text = "—", f"Added: {new_text}"
    elif isinstance(old, dict) and new is None:  # removed
        new_text = "Removed"
    return DescribedChange(setting=setting[:1].upper() + setting[1:], path=graph_path, old=old_text, new=new_text)
