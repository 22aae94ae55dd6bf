"""Device configuration: custom configuration profiles (OMA-URI rows, assignments, each change previewed for the
devices it would switch) and the enrollment setting "Use security keys for sign-in" with its history.

Every form becomes the Graph body the Graph API takes and goes through ``passgate.device_config.services``; a
refusal comes back naming the property (``omaSettings[1].value``) and is shown on the row it concerns.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect

from passgate.core.devices.configuration import (
    APPLICABILITY,
    NAMESPACE,
    NOT_APPLICABLE,
    DeviceConfigError,
    OmaSetting,
    Profile,
    oma_setting_to_graph,
    read_assignments,
    read_profile,
    security_key_value,
)
from passgate.core.devices.signin_setting import (
    SECURITY_KEY_OMA_URI,
    AssignmentTarget,
    Enablement,
    TargetKind,
    is_security_key_uri,
)
from passgate.core.errors import PassgateError
from passgate.device_config import selectors, services
from passgate.web.errors import request_context
from passgate.web.messages import for_person
from passgate.web.views.admin import queries
from passgate.web.views.admin.access import Admin, NotFoundHere, admin_view, flash, render_admin
from passgate.web.views.admin.device_impact import impact_of

DATA_TYPES = (("omaSettingString", "String"), ("omaSettingStringXml", "String (XML file)"),
              ("omaSettingDateTime", "Date and time"), ("omaSettingInteger", "Integer"),
              ("omaSettingFloatingPoint", "Floating point"), ("omaSettingBoolean", "Boolean"),
              ("omaSettingBase64", "Base64 (file)"))
TYPE_NAMES = dict(DATA_TYPES)
SECURITY_KEY_ROW_NAME = "Use security keys for sign-in"
ENABLEMENT_LABELS = {Enablement.ENABLED: "Enabled", Enablement.DISABLED: "Disabled",
                     Enablement.NOT_CONFIGURED: "Not configured"}
REPLAY_SKIP = frozenset({"csrfmiddlewaretoken", "confirm", "back", "version", "action", "remove"})
ROW_FIELDS = ("row_name", "row_description", "row_uri", "row_type", "row_value", "row_file")
MAX_ROWS = 200
PROFILES_URL = "/admin/devices/configuration"


def _profile_url(profile_id: str) -> str:
    return f"{PROFILES_URL}/{profile_id}"


def _profile(configuration_id: uuid.UUID) -> Profile:
    try:
        return selectors.profile_get(str(configuration_id))
    except PassgateError:
        raise NotFoundHere("configuration profile") from None


# --- showing profiles ----------------------------------------------------------------------------------------------

def _value_text(setting: OmaSetting) -> str:
    if setting.kind == "omaSettingBoolean":
        return "True" if setting.value else "False"
    return str(setting.value)


def setting_rows(settings: tuple[OmaSetting, ...]) -> list[dict[str, Any]]:
    """Each OMA-URI row as the pages show it, with the applicability the core computes (never dropped)."""
    rows = []
    for s in settings:
        graph = oma_setting_to_graph(s)
        rows.append({"name": s.display_name, "description": s.description or "", "uri": s.oma_uri,
                     "type": TYPE_NAMES.get(s.kind, s.kind), "value": _value_text(s),
                     "applicable": graph[APPLICABILITY] != NOT_APPLICABLE,
                     "security_key": is_security_key_uri(s.oma_uri)})
    return rows


def targets_text(targets: tuple[AssignmentTarget, ...], names: Mapping[str, str]) -> dict[str, list[str]]:
    include, exclude = [], []
    for t in targets:
        if t.kind is TargetKind.ALL_DEVICES:
            include.append("All devices")
        elif t.kind is TargetKind.ALL_LICENSED_USERS:
            include.append("All users")
        elif t.kind is TargetKind.GROUP:
            include.append(names.get(str(t.group_id), "a deleted group"))
        else:
            exclude.append(names.get(str(t.group_id), "a deleted group"))
    return {"include": include, "exclude": exclude}


def _sets(value: bool | None) -> tuple[str, str]:
    return {True: ("On", "ok"), False: ("Off", "danger"), None: ("Not set", "neutral")}[value]


@admin_view(read="deviceConfiguration.read")
def profiles_list(request: HttpRequest, admin: Admin) -> HttpResponse:
    configuration = selectors.signin_configuration()
    targets = {p.profile_id: p.targets for p in configuration.profiles}
    names = queries.group_names(t.group_id for ts in targets.values() for t in ts if t.group_id)
    rows = []
    for profile in selectors.profiles():
        label, tone = _sets(security_key_value(profile.oma_settings))
        rows.append({"profile": profile, "sets": label, "tone": tone, "settings": len(profile.oma_settings),
                     "not_applicable": sum(not s.applicable for s in profile.oma_settings),
                     **targets_text(targets.get(profile.id, ()), names)})
    return render_admin(request, admin, "passgate/admin/device_profiles.html", {"rows": rows, "tab": "profiles"},
                        section="devices")


# --- the profile form ----------------------------------------------------------------------------------------------

@dataclass
class ProfileForm:
    name: str = ""
    description: str = ""
    rows: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # "name", "description", "form", "row:<i>"


def _form_from_profile(profile: Profile) -> ProfileForm:
    return ProfileForm(name=profile.display_name, description=profile.description or "", rows=[
        {"name": s.display_name, "description": s.description or "", "uri": s.oma_uri, "type": s.kind,
         "value": ("true" if s.value else "false") if s.kind == "omaSettingBoolean" else str(s.value),
         "file": s.file_name or ""} for s in profile.oma_settings])


def _form_from_post(post: QueryDict) -> ProfileForm:
    columns = [post.getlist(name)[:MAX_ROWS] for name in ROW_FIELDS]
    count = max((len(c) for c in columns), default=0)
    rows = [{key: (column[i] if i < len(column) else "")[:1500]
             for key, column in zip(("name", "description", "uri", "type", "value", "file"), columns, strict=True)}
            for i in range(count)]
    return ProfileForm(name=post.get("name", "")[:300], description=post.get("description", "")[:1600], rows=rows)


def _blank(row: dict[str, str]) -> bool:
    return not any(row[k].strip() for k in ("name", "description", "uri", "value"))


def security_key_row() -> dict[str, str]:
    return {"name": SECURITY_KEY_ROW_NAME, "description": "", "uri": SECURITY_KEY_OMA_URI,
            "type": "omaSettingInteger", "value": "1", "file": ""}


def _value(row: dict[str, str], index: int, errors: dict[str, str]) -> object:
    text, kind = row["value"].strip(), row["type"]
    if kind == "omaSettingInteger":
        if re.fullmatch(r"[+-]?\d{1,12}", text):
            return int(text)
        errors[f"row:{index}"] = f"Row {index + 1}: an Integer value is a whole number, like 1, not “{text}”."
    elif kind == "omaSettingFloatingPoint":
        try:
            return float(text)
        except ValueError:
            errors[f"row:{index}"] = f"Row {index + 1}: a Floating point value is a number, like 1.5, not “{text}”."
    elif kind == "omaSettingBoolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        errors[f"row:{index}"] = f"Row {index + 1}: a Boolean value is True or False, not “{text}”."
    else:
        return row["value"]
    return None


def _body(form: ProfileForm, *, create: bool) -> dict[str, Any] | None:
    """The Graph body the form says (None, with ``form.errors`` set, when a value can't be read)."""
    settings = []
    for index, row in enumerate(form.rows):
        if row["type"] not in TYPE_NAMES:
            form.errors[f"row:{index}"] = f"Row {index + 1}: choose a data type."
            continue
        value = _value(row, index, form.errors)
        item: dict[str, Any] = {"@odata.type": f"#{NAMESPACE}{row['type']}", "displayName": row["name"].strip(),
                                "description": row["description"].strip() or None, "omaUri": row["uri"].strip(),
                                "value": value}
        if row["type"] in ("omaSettingBase64", "omaSettingStringXml"):
            item["fileName"] = row["file"].strip() or None
        settings.append(item)
    if not form.name.strip():
        form.errors["name"] = "Enter a name for the profile."
    if form.errors:
        return None
    body: dict[str, Any] = {"displayName": form.name.strip(), "description": form.description.strip() or None,
                            "omaSettings": settings}
    if create:
        body["@odata.type"] = f"#{NAMESPACE}windows10CustomConfiguration"
    return body


_ROW_TARGET = re.compile(r"^omaSettings\[(\d+)\]")
_FIELD_WORDS = {"displayName": "name", "omaUri": "OMA-URI", "value": "value", "description": "description",
                "fileName": "file name", "@odata.type": "data type"}


def _place_error(form: ProfileForm, exc: PassgateError) -> None:
    """Put a refusal on the row (or field) its property names."""
    target = exc.target if isinstance(exc, DeviceConfigError) else ""
    found = _ROW_TARGET.match(target)
    if found:
        index = int(found.group(1))
        prop = target.rsplit(".", 1)[-1] if "." in target else ""
        message = for_person(exc)
        words = _FIELD_WORDS.get(prop)
        form.errors[f"row:{index}"] = f"Row {index + 1}" + (f" ({words})" if words else "") + f": {message}"
    elif target == "displayName":
        form.errors["name"] = for_person(exc)
    elif target == "description":
        form.errors["description"] = for_person(exc)
    else:
        form.errors["form"] = for_person(exc)


def _form_page(request: HttpRequest, admin: Admin, form: ProfileForm, *, profile: Profile | None,
               status: int = 200, notice: str = "") -> HttpResponse:
    rows = [{**row, "index": i, "error": form.errors.get(f"row:{i}", ""),
             "applicable": is_security_key_uri(row["uri"].strip()),
             "has_file": row["type"] in ("omaSettingBase64", "omaSettingStringXml")}
            for i, row in enumerate(form.rows)]
    return render_admin(request, admin, "passgate/admin/device_profile_form.html", {
        "form": form, "rows": rows, "profile": profile, "data_types": DATA_TYPES, "notice": notice,
        "security_key_uri": SECURITY_KEY_OMA_URI,
        "has_security_key_row": any(is_security_key_uri(r["uri"].strip()) for r in form.rows),
        "tab": "profiles",
    }, section="devices", status=status)


def _edit_actions(form: ProfileForm, post: QueryDict) -> bool:
    """Add a row, add the security-key row, or remove a row: True when the form is to be shown again."""
    action = post.get("action", "")
    if action == "add-row":
        form.rows.append({"name": "", "description": "", "uri": "", "type": "omaSettingString", "value": "",
                          "file": ""})
        return True
    if action == "add-security-key":
        if not any(is_security_key_uri(r["uri"].strip()) for r in form.rows):
            form.rows.append(security_key_row())
        return True
    remove = post.get("remove", "")
    if remove.isdigit() and int(remove) < len(form.rows):
        del form.rows[int(remove)]
        return True
    return False


@admin_view(read="deviceConfiguration.write", write="deviceConfiguration.write")
def profile_new(request: HttpRequest, admin: Admin) -> HttpResponse:
    if request.method != "POST":
        start = request.GET.get("start", "")
        form = ProfileForm(rows=[security_key_row()] if start == "security-key" else [])
        if start == "security-key":
            form.name = "Security-key sign-in"
        return _form_page(request, admin, form, profile=None)
    form = _form_from_post(request.POST)
    if _edit_actions(form, request.POST):
        return _form_page(request, admin, form, profile=None)
    form.rows = [r for r in form.rows if not _blank(r)]
    body = _body(form, create=True)
    if body is None:
        return _form_page(request, admin, form, profile=None, status=400)
    try:
        profile = services.device_configuration_create(body=body, actor=admin.actor,
                                                       context=request_context(request))
    except PassgateError as exc:
        _place_error(form, exc)
        return _form_page(request, admin, form, profile=None, status=400)
    flash(request, f"Profile “{profile.display_name}” was created. It applies to no device until you assign it: "
                   "choose Assignments.")
    return redirect(_profile_url(profile.id))


# --- a profile: its page, its edit with the impact preview --------------------------------------------------------

def _names_for(targets: tuple[AssignmentTarget, ...]) -> dict[str, str]:
    return queries.group_names(t.group_id for t in targets if t.group_id)


@admin_view(read="deviceConfiguration.read", write="deviceConfiguration.write")
def profile_detail(request: HttpRequest, admin: Admin, configuration_id: uuid.UUID) -> HttpResponse:
    profile = _profile(configuration_id)
    if request.method == "POST":
        return _profile_post(request, admin, profile)
    targets = tuple(a.target for a in selectors.assignments_of(profile.id))
    editing = request.GET.get("edit") == "1" and admin.can("deviceConfiguration.write")
    if editing:
        return _form_page(request, admin, _form_from_profile(profile), profile=profile)
    label, tone = _sets(security_key_value(profile.oma_settings))
    return render_admin(request, admin, "passgate/admin/device_profile.html", {
        "profile": profile, "rows": setting_rows(profile.oma_settings), "sets": label, "tone": tone,
        **targets_text(targets, _names_for(targets)), "tab": "profiles",
    }, section="devices")


def _replay(post: QueryDict) -> list[tuple[str, str]]:
    return [(name, value) for name, values in post.lists() if name not in REPLAY_SKIP for value in values]


def _preview_page(request: HttpRequest, admin: Admin, *, profile: Profile, title: str, action: str,
                  changes: list[tuple[str, str, str]], impact: Any, version: str, moved_on: bool = False,
                  back: str) -> HttpResponse:
    return render_admin(request, admin, "passgate/admin/device_profile_preview.html", {
        "profile": profile, "title": title, "action": action, "changes": changes, "impact": impact,
        "fields": _replay(request.POST), "version": version, "moved_on": moved_on, "back": back,
        "tab": "profiles",
    }, section="devices")


def _setting_changes(old: tuple[OmaSetting, ...], new: tuple[OmaSetting, ...]) -> list[tuple[str, str, str]]:
    def line(s: OmaSetting) -> str:
        return f"{s.display_name}: {s.oma_uri} = {_value_text(s)} ({TYPE_NAMES.get(s.kind, s.kind)})"

    before, after = {s.oma_uri.casefold(): s for s in old}, {s.oma_uri.casefold(): s for s in new}
    out = []
    for key in [*before, *(k for k in after if k not in before)]:
        a, b = before.get(key), after.get(key)
        if a != b:
            out.append(("OMA-URI setting", line(a) if a else "—", line(b) if b else "Removed"))
    return out


def _profile_post(request: HttpRequest, admin: Admin, profile: Profile) -> HttpResponse:
    """Edit: the form's actions, then a preview (changes and impact), then Save (``confirm``, same version)."""
    post = request.POST
    form = _form_from_post(post)
    if post.get("back") or _edit_actions(form, post):
        return _form_page(request, admin, form, profile=profile)
    form.rows = [r for r in form.rows if not _blank(r)]
    body = _body(form, create=False)
    data = None
    if body is not None:
        try:
            data = read_profile(body, create=False)
        except PassgateError as exc:
            _place_error(form, exc)
    if body is None or data is None:
        return _form_page(request, admin, form, profile=profile, status=400)
    moved_on = post.get("version", "") not in ("", str(profile.version))
    if post.get("confirm") and not moved_on:
        try:
            changed = services.device_configuration_update(configuration_id=profile.id, body=body, actor=admin.actor,
                                                           context=request_context(request))
        except PassgateError as exc:
            _place_error(form, exc)
            return _form_page(request, admin, form, profile=profile, status=400)
        flash(request, f"Profile “{changed.display_name}” saved (version {changed.version})."
              if changed.version != profile.version else "Nothing changed: the profile is as it was.")
        return redirect(_profile_url(profile.id))
    before = selectors.signin_configuration()
    after = selectors.signin_configuration_with(profile.id, display_name=data.display_name,
                                                oma_settings=data.oma_settings)
    changes = []
    if data.display_name != profile.display_name:
        changes.append(("Name", profile.display_name, data.display_name or ""))
    if (data.description or None) != (profile.description or None):
        changes.append(("Description", profile.description or "—", data.description or "—"))
    changes += _setting_changes(profile.oma_settings, data.oma_settings)
    return _preview_page(request, admin, profile=profile, title=f"Review: {profile.display_name}",
                         action=_profile_url(profile.id), changes=changes,
                         impact=impact_of(before, after, profile_id=profile.id), version=str(profile.version),
                         moved_on=moved_on, back=_profile_url(profile.id) + "?edit=1")


@admin_view(read="deviceConfiguration.write", write="deviceConfiguration.write")
def profile_delete(request: HttpRequest, admin: Admin, configuration_id: uuid.UUID) -> HttpResponse:
    profile = _profile(configuration_id)
    if request.method == "POST":
        services.device_configuration_delete(configuration_id=profile.id, actor=admin.actor,
                                             context=request_context(request))
        flash(request, f"Profile “{profile.display_name}” was deleted, with its assignments.")
        return redirect(PROFILES_URL)
    impact = impact_of(selectors.signin_configuration(), selectors.signin_configuration_with(profile.id, deleted=True),
                       profile_id=profile.id)
    warning = ""
    if not impact.none:
        switched = ", ".join(f"“{r.device.display_name}” ({r.whom}: {'on' if r.turns_on else 'off'})"
                             for r in impact.rows[:10])
        warning = (f"Deleting it switches security-key sign-in on {len(impact.rows) + impact.more} device sign-in"
                   f"{'s' if len(impact.rows) + impact.more != 1 else ''}: {switched}"
                   + (" and more." if len(impact.rows) > 10 or impact.more else "."))
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Delete the profile “{profile.display_name}”?",
        "lead": "The profile and its assignments are deleted. Devices it applied to follow the next source that "
                "speaks for them (another profile, the enrollment setting when they joined, or nothing: off).",
        "warning": warning, "button": "Delete profile", "cancel": _profile_url(profile.id),
    }, section="devices")


# --- assignments ---------------------------------------------------------------------------------------------------

def _assignment_body(post: QueryDict) -> dict[str, Any]:
    items: list[dict[str, Any]] = []

    def add(kind: TargetKind, group_id: str | None = None) -> None:
        target: dict[str, Any] = {"@odata.type": f"#{NAMESPACE}{kind.value}"}
        if group_id is not None:
            target["groupId"] = group_id
        items.append({"target": target})

    if post.get("all_devices"):
        add(TargetKind.ALL_DEVICES)
    if post.get("all_users"):
        add(TargetKind.ALL_LICENSED_USERS)
    for group_id in post.getlist("include")[:100]:
        add(TargetKind.GROUP, group_id)
    for group_id in post.getlist("exclude")[:100]:
        add(TargetKind.EXCLUSION_GROUP, group_id)
    return {"assignments": items}


def _fingerprint(targets: tuple[AssignmentTarget, ...]) -> str:
    text = json.dumps([[t.kind.value, t.group_id] for t in targets])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _assign_page(request: HttpRequest, admin: Admin, profile: Profile, targets: tuple[AssignmentTarget, ...], *,
                 error: str = "", status: int = 200) -> HttpResponse:
    included = {t.group_id for t in targets if t.kind is TargetKind.GROUP}
    excluded = {t.group_id for t in targets if t.kind is TargetKind.EXCLUSION_GROUP}
    groups = [{"id": str(g.pk), "name": g.display_name,
               "included": str(g.pk) in included, "excluded": str(g.pk) in excluded}
              for g in queries.all_groups()]
    return render_admin(request, admin, "passgate/admin/device_assignments.html", {
        "profile": profile, "groups": groups, "error": error,
        "all_devices": any(t.kind is TargetKind.ALL_DEVICES for t in targets),
        "all_users": any(t.kind is TargetKind.ALL_LICENSED_USERS for t in targets),
        "sets": _sets(security_key_value(profile.oma_settings))[0], "tab": "profiles",
    }, section="devices", status=status)


def _assign_save(request: HttpRequest, admin: Admin, profile: Profile, body: dict[str, Any],
                 wanted: tuple[AssignmentTarget, ...]) -> HttpResponse:
    try:
        services.device_configuration_assign(configuration_id=profile.id, body=body, actor=admin.actor,
                                             context=request_context(request))
    except PassgateError as exc:
        return _assign_page(request, admin, profile, wanted, error=for_person(exc), status=400)
    flash(request, f"Assignments of “{profile.display_name}” saved.")
    return redirect(_profile_url(profile.id))


@admin_view(read="deviceConfiguration.read", write="deviceConfiguration.write")
def profile_assignments(request: HttpRequest, admin: Admin, configuration_id: uuid.UUID) -> HttpResponse:
    profile = _profile(configuration_id)
    current = tuple(a.target for a in selectors.assignments_of(profile.id))
    if request.method != "POST":
        return _assign_page(request, admin, profile, current)
    post = request.POST
    body = _assignment_body(post)
    try:
        wanted = read_assignments(body)
    except PassgateError as exc:
        return _assign_page(request, admin, profile, current, error=for_person(exc), status=400)
    unknown = [t.group_id for t in wanted if t.group_id and not queries.group_names([t.group_id])]
    if unknown:
        return _assign_page(request, admin, profile, wanted, status=400,
                            error="A group you chose no longer exists (it may have been deleted). Choose again.")
    if post.get("back"):
        return _assign_page(request, admin, profile, wanted)
    moved_on = post.get("version", "") not in ("", _fingerprint(current))
    if post.get("confirm") and not moved_on:
        return _assign_save(request, admin, profile, body, wanted)
    names = queries.group_names(t.group_id for t in (*current, *wanted) if t.group_id)
    old, new = targets_text(current, names), targets_text(wanted, names)
    changes = [(label, ", ".join(old[key]) or "—", ", ".join(new[key]) or "—")
               for label, key in (("Included", "include"), ("Excluded", "exclude")) if old[key] != new[key]]
    impact = impact_of(selectors.signin_configuration(), selectors.signin_configuration_with(profile.id,
                                                                                             targets=wanted),
                       profile_id=profile.id)
    return _preview_page(request, admin, profile=profile, title=f"Review the assignments of {profile.display_name}",
                         action=f"{_profile_url(profile.id)}/assignments", changes=changes, impact=impact,
                         version=_fingerprint(current), moved_on=moved_on,
                         back=f"{_profile_url(profile.id)}/assignments")


# --- enrollment ----------------------------------------------------------------------------------------------------

def _enrollment_page(request: HttpRequest, admin: Admin, *, error: str = "", status: int = 200) -> HttpResponse:
    current = selectors.enrollment_configuration()
    rows = list(selectors.enrollment_changes())
    return render_admin(request, admin, "passgate/admin/device_enrollment.html", {
        "current": current.security_key_for_sign_in.value,
        "current_label": ENABLEMENT_LABELS[current.security_key_for_sign_in],
        "choices": [(e.value, ENABLEMENT_LABELS[e]) for e in (Enablement.ENABLED, Enablement.DISABLED,
                                                              Enablement.NOT_CONFIGURED)],
        "history": [{"row": r, "label": ENABLEMENT_LABELS[Enablement(r.security_key_for_sign_in)]}
                    for r in reversed(rows)],
        "error": error, "tab": "enrollment",
    }, section="devices", status=status)


@admin_view(read="deviceConfiguration.read", write="deviceConfiguration.write")
def enrollment(request: HttpRequest, admin: Admin) -> HttpResponse:
    if request.method != "POST":
        return _enrollment_page(request, admin)
    wanted = request.POST.get("security_key_for_sign_in", "")
    if wanted not in {e.value for e in Enablement}:
        return _enrollment_page(request, admin, status=400,
                                error="Choose Enabled, Disabled or Not configured. Nothing was changed.")
    before = selectors.enrollment_configuration()
    try:
        after = services.enrollment_configuration_update(body={"securityKeyForSignIn": wanted}, actor=admin.actor,
                                                         context=request_context(request))
    except PassgateError as exc:
        return _enrollment_page(request, admin, error=for_person(exc), status=400)
    label = ENABLEMENT_LABELS[after.security_key_for_sign_in]
    flash(request, f"“Use security keys for sign-in” is now {label}, for devices that join from now on."
          if after.version != before.version else f"“Use security keys for sign-in” was already {label}.")
    return redirect("/admin/devices/enrollment")
