"""Conditional Access in the admin centre: policies, authentication strengths, and the "what if" tool.

Every form becomes a Graph body and goes through the same services as ``/identity/conditionalAccess/policies``
and ``/policies/authenticationStrengthPolicies``, so a refusal names the property and reads the same in both.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, QueryDict
from django.shortcuts import redirect

from passgate.access.selectors import access_decide, ca_policies, ca_policy_get, strength_get, strengths
from passgate.access.services import (
    ca_policy_create,
    ca_policy_delete,
    ca_policy_update,
    strength_create,
    strength_delete,
    strength_update,
)
from passgate.apps.selectors import app_list
from passgate.core.access import (
    ADMIN_CENTRE_APP_ID,
    PASSGATE_MODES,
    REGISTER_SECURITY_INFO,
    Authentication,
    AuthenticationStrength,
    AuthMethodMode,
    ConditionalAccessPolicy,
    MethodUse,
    strength_usage,
)
from passgate.core.errors import NotFound, PassgateError
from passgate.core.policy.errors import PolicyValidationError
from passgate.directory.models import DirectoryRole, SecurityGroup, User
from passgate.trust_store.selectors import model_name
from passgate.web.errors import request_context
from passgate.web.messages import labelled
from passgate.web.views.admin import queries
from passgate.web.views.admin.access import Admin, NotFoundHere, admin_view, flash, render_admin
from passgate.web.views.admin.policy_forms import Problem, _aaguid_lines, model_names

ACCESS_READ, ACCESS_WRITE = "access.read", "access.write"
STRENGTHS_READ, STRENGTHS_WRITE = "strengths.read", "strengths.write"
ADMIN_CENTRE_NAME = "Passgate admin centre"
MAX_LINES = 200

STATE_LABELS = {"enabled": "On", "enabledForReportingButNotEnforced": "Report-only", "disabled": "Off"}
# Combinations the strength editor offers (Graph spelling -> what people call it).
COMBINATIONS = (
    ("fido2", "Passkey (FIDO2)"),
    ("temporaryAccessPassOneTime", "Temporary Access Pass, one-time"),
    ("temporaryAccessPassMultiUse", "Temporary Access Pass, multi-use"),
    ("softwareOath,temporaryAccessPassOneTime", "One-time pass + authenticator-app code"),
    ("softwareOath,temporaryAccessPassMultiUse", "Multi-use pass + authenticator-app code"),
    ("softwareOath", "Authenticator-app code alone (single factor)"),
)
RESULT_LABELS = {
    "success": ("Granted", "ok"), "failure": ("Not met", "danger"), "notApplied": ("Doesn't apply", "neutral"),
    "notEnabled": ("Off", "neutral"), "reportOnlySuccess": ("Report-only: would grant", "neutral"),
    "reportOnlyFailure": ("Report-only: would not be met", "warn"),
    "reportOnlyNotApplied": ("Report-only: doesn't apply", "neutral"),
}
PASSGATE_MODE_VALUES = frozenset(mode.value for mode in PASSGATE_MODES)
_TARGET = re.compile(r"^conditions\.(users|applications)")


def _app_names() -> dict[str, str]:
    names = {ADMIN_CENTRE_APP_ID: ADMIN_CENTRE_NAME}
    names.update((str(app.app_id), app.display_name) for app in app_list())
    return names


def _role_choices() -> list[tuple[str, str]]:
    return [(str(role.value), str(role.label)) for role in DirectoryRole]


# --- summaries for the list -----------------------------------------------------------------------------------

def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _users_summary(policy: ConditionalAccessPolicy) -> str:
    if "All" in policy.include_users:
        text = "All users"
    else:
        parts = [_count(len(policy.include_users), "user", "users") if policy.include_users else "",
                 _count(len(policy.include_groups), "group", "groups") if policy.include_groups else "",
                 _count(len(policy.include_roles), "role", "roles") if policy.include_roles else ""]
        text = ", ".join(p for p in parts if p) or "Nobody"
    excluded = len(policy.exclude_users) + len(policy.exclude_groups) + len(policy.exclude_roles)
    return text + (f" (excluding {excluded})" if excluded else "")


def _target_summary(policy: ConditionalAccessPolicy, apps: Mapping[str, str]) -> str:
    if policy.include_user_actions:
        return "Register security info"
    if "All" in policy.include_applications:
        text = "All apps"
    else:
        text = ", ".join(apps.get(a if a != "MicrosoftAdminPortals" else ADMIN_CENTRE_APP_ID, "an app removed since")
                         for a in policy.include_applications) or "No app"
    excluded = len(policy.exclude_applications)
    return text + (f" (excluding {excluded})" if excluded else "")


def _grant_summary(policy: ConditionalAccessPolicy, known: Mapping[str, AuthenticationStrength]) -> str:
    grant = policy.grant_controls
    if grant is None:
        return "—"
    if "block" in grant.built_in_controls:
        return "Block access"
    wanted = []
    if "mfa" in grant.built_in_controls:
        wanted.append("multifactor authentication")
    if grant.authentication_strength_id:
        found = known.get(grant.authentication_strength_id)
        wanted.append(f"“{found.display_name}”" if found else "a deleted strength")
    return "Require " + f" {grant.operator.lower()} ".join(wanted)


@admin_view(read=ACCESS_READ)
def ca_list(request: HttpRequest, admin: Admin) -> HttpResponse:
    known = strengths()
    apps = _app_names()
    rows = [{"policy": p, "state": STATE_LABELS[p.state.value], "users": _users_summary(p),
             "target": _target_summary(p, apps), "grant": _grant_summary(p, known)} for p in ca_policies()]
    return render_admin(request, admin, "passgate/admin/ca_list.html", {"rows": rows}, section="access")


# --- the policy form --------------------------------------------------------------------------------------------

@dataclass
class CaForm:
    name: str = ""
    state: str = "enabledForReportingButNotEnforced"  # a new policy starts report-only, as Entra recommends
    users_all: bool = True
    include_users: str = ""  # UPNs, one per line
    include_groups: list[str] = field(default_factory=list)
    include_roles: list[str] = field(default_factory=list)
    exclude_users: str = ""
    exclude_groups: list[str] = field(default_factory=list)
    exclude_roles: list[str] = field(default_factory=list)
    target: str = "apps"  # apps | action
    apps_all: bool = True
    include_apps: list[str] = field(default_factory=list)
    exclude_apps: list[str] = field(default_factory=list)
    grant: str = "strength"  # block | strength
    strength: str = "00000000-0000-0000-0000-000000000004"  # a strength id, or "mfa"
    errors: dict[str, str] = field(default_factory=dict)
    problem: Problem | None = None


def _upns(ids: Iterable[str]) -> str:
    found = {str(u.pk): u.user_principal_name for u in User.objects.filter(pk__in=[i for i in ids if _is_uuid(i)])}
    return "\n".join(found.get(i, i) for i in ids)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def form_from_policy(policy: ConditionalAccessPolicy) -> CaForm:
    grant = policy.grant_controls
    block = grant is not None and "block" in grant.built_in_controls
    strength = "mfa" if grant is not None and "mfa" in grant.built_in_controls else (
        grant.authentication_strength_id if grant is not None and grant.authentication_strength_id else "")
    apps = [ADMIN_CENTRE_APP_ID if a == "MicrosoftAdminPortals" else a for a in policy.include_applications]
    return CaForm(
        name=policy.display_name, state=policy.state.value, users_all="All" in policy.include_users,
        include_users=_upns([u for u in policy.include_users if u not in ("All", "None")]),
        include_groups=list(policy.include_groups), include_roles=list(policy.include_roles),
        exclude_users=_upns(policy.exclude_users), exclude_groups=list(policy.exclude_groups),
        exclude_roles=list(policy.exclude_roles), target="action" if policy.include_user_actions else "apps",
        apps_all="All" in policy.include_applications, include_apps=[a for a in apps if a != "All"],
        exclude_apps=[ADMIN_CENTRE_APP_ID if a == "MicrosoftAdminPortals" else a for a in policy.exclude_applications],
        grant="block" if block else "strength", strength=strength or CaForm.strength,
    )


def form_from_post(post: QueryDict) -> CaForm:
    return CaForm(
        name=post.get("name", "")[:300], state=post.get("state", ""), users_all=post.get("users") == "all",
        include_users=post.get("include_users", "")[:20_000], include_groups=post.getlist("include_groups"),
        include_roles=post.getlist("include_roles"), exclude_users=post.get("exclude_users", "")[:20_000],
        exclude_groups=post.getlist("exclude_groups"), exclude_roles=post.getlist("exclude_roles"),
        target=post.get("target", "apps"), apps_all=post.get("apps") == "all",
        include_apps=post.getlist("include_apps"), exclude_apps=post.getlist("exclude_apps"),
        grant=post.get("grant", ""), strength=post.get("strength", ""),
    )


def _user_ids(text: str, field_name: str, errors: dict[str, str]) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()][:MAX_LINES]
    ids: list[str] = []
    unknown: list[str] = []
    for line in lines:
        user = User.objects.filter(upn_normalized=line.casefold()).first() if "@" in line else (
            User.objects.filter(pk=line).first() if _is_uuid(line) else None)
        if user is None:
            unknown.append(line)
        else:
            ids.append(str(user.pk))
    if unknown:
        errors[field_name] = "No user is called " + ", ".join(f"“{u}”" for u in unknown[:5]) + "."
    return ids


def _apps(values: Sequence[str]) -> list[str]:
    return ["MicrosoftAdminPortals" if v == ADMIN_CENTRE_APP_ID else v for v in values]


def body_from_form(form: CaForm) -> dict[str, Any]:
    """The Graph body of a submitted form (unknown UPNs land in ``form.errors``)."""
    users: dict[str, Any] = {
        "includeUsers": ["All"] if form.users_all else _user_ids(form.include_users, "include_users", form.errors),
        "excludeUsers": _user_ids(form.exclude_users, "exclude_users", form.errors),
        "includeGroups": [] if form.users_all else form.include_groups,
        "includeRoles": [] if form.users_all else form.include_roles,
        "excludeGroups": form.exclude_groups, "excludeRoles": form.exclude_roles,
    }
    if form.target == "action":
        applications: dict[str, Any] = {"includeApplications": [], "excludeApplications": [],
                                        "includeUserActions": [REGISTER_SECURITY_INFO]}
    else:
        applications = {"includeApplications": ["All"] if form.apps_all else _apps(form.include_apps),
                        "excludeApplications": _apps(form.exclude_apps) if form.apps_all else [],
                        "includeUserActions": []}
    return {"displayName": form.name, "state": form.state,
            "conditions": {"users": users, "applications": applications},
            "grantControls": grant_controls(grant=form.grant, strength=form.strength)}


def grant_controls(*, grant: str, strength: str) -> dict[str, Any]:
    """The form's "Grant" choice as a whole ``grantControls`` object, for a new policy and an edited one alike.

    Every property is given, ``authenticationStrength`` too (null when the choice has none): an edit is a PATCH,
    where objects merge, so a property left out would keep the stored one (a strength kept next to ``block``).
    """
    if grant == "block":
        return {"operator": "OR", "builtInControls": ["block"], "authenticationStrength": None}
    if strength == "mfa":
        return {"operator": "OR", "builtInControls": ["mfa"], "authenticationStrength": None}
    return {"operator": "OR", "builtInControls": [], "authenticationStrength": {"id": strength}}


# Where a refusal's property path falls on the forms, by the forms' labels (web/messages.labelled).
CA_LABELS = (("displayName", "Name"), ("state", "State"), ("conditions.users", "Users"),
             ("conditions.applications", "Target"), ("grantControls", "Grant"))
STRENGTH_LABELS = (("displayName", "Name"), ("description", "Description"),
                   ("allowedCombinations", "Accepted sign-ins"), ("combinationConfigurations", "Passkey models"))


def _place(form: CaForm, exc: PolicyValidationError) -> None:
    problem = Problem(message=labelled(exc, CA_LABELS), target=exc.target, code=exc.code)
    found = _TARGET.match(exc.target)
    problem.place = found.group(1) if found else exc.target.split(".")[0] or "policy"
    form.problem = problem


def _form_page(request: HttpRequest, admin: Admin, form: CaForm, policy: ConditionalAccessPolicy | None,
               *, status: int = 200) -> HttpResponse:
    known = strengths()
    groups: list[SecurityGroup] = queries.all_groups()
    return render_admin(request, admin, "passgate/admin/ca_edit.html", {
        "form": form, "policy": policy, "read_only": not admin.can(ACCESS_WRITE),
        "groups": groups, "roles": _role_choices(), "apps": sorted(_app_names().items(), key=lambda kv: kv[1]),
        "strength_choices": [("mfa", "Require multifactor authentication"),
                             *[(s.id, f"Require authentication strength: {s.display_name}") for s in known.values()]],
        "states": list(STATE_LABELS.items()),
    }, section="access", status=status)


def _load_policy(policy_id: str) -> ConditionalAccessPolicy:
    try:
        return ca_policy_get(policy_id)
    except NotFound:
        raise NotFoundHere("Conditional Access policy") from None


@admin_view(read=ACCESS_READ, write=ACCESS_WRITE)
def ca_new(request: HttpRequest, admin: Admin) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, admin, CaForm(), None)
    form = form_from_post(request.POST)
    body = body_from_form(form)
    if form.errors:
        return _form_page(request, admin, form, None, status=400)
    try:
        policy = ca_policy_create(body=body, actor=admin.actor, context=request_context(request))
    except PolicyValidationError as exc:
        _place(form, exc)
        return _form_page(request, admin, form, None, status=400)
    flash(request, f"Policy “{policy.display_name}” was created ({STATE_LABELS[policy.state.value]}).")
    return redirect("/admin/conditional-access")


@admin_view(read=ACCESS_READ, write=ACCESS_WRITE)
def ca_edit(request: HttpRequest, admin: Admin, policy_id: uuid.UUID) -> HttpResponse:
    policy = _load_policy(str(policy_id))
    if request.method != "POST":
        return _form_page(request, admin, form_from_policy(policy), policy)
    form = form_from_post(request.POST)
    body = body_from_form(form)
    if form.errors:
        return _form_page(request, admin, form, policy, status=400)
    try:
        changed = ca_policy_update(policy_id=policy.id, body=body, actor=admin.actor, context=request_context(request))
    except PolicyValidationError as exc:
        _place(form, exc)
        return _form_page(request, admin, form, policy, status=400)
    flash(request, f"Policy “{changed.display_name}” was saved ({STATE_LABELS[changed.state.value]}).")
    return redirect("/admin/conditional-access")


@admin_view(read=ACCESS_WRITE, write=ACCESS_WRITE)
def ca_delete_page(request: HttpRequest, admin: Admin, policy_id: uuid.UUID) -> HttpResponse:
    policy = _load_policy(str(policy_id))
    if request.method == "POST":
        ca_policy_delete(policy_id=policy.id, actor=admin.actor, context=request_context(request))
        flash(request, f"Policy “{policy.display_name}” was deleted.")
        return redirect("/admin/conditional-access")
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Delete the policy “{policy.display_name}”?",
        "lead": "Sign-ins stop being checked against it at once. To pause it instead, set it to Off.",
        "warning": "", "button": "Delete policy", "cancel": f"/admin/conditional-access/{policy.id}",
    }, section="access")


# --- authentication strengths -----------------------------------------------------------------------------------

@dataclass
class StrengthForm:
    name: str = ""
    description: str = ""
    combinations: list[str] = field(default_factory=lambda: ["fido2"])
    aaguids: str = ""
    problem: Problem | None = None


def _strength_form(strength: AuthenticationStrength) -> StrengthForm:
    aaguids = [a for c in strength.combination_configurations for a in c.allowed_aaguids]
    return StrengthForm(name=strength.display_name, description=strength.description,
                        combinations=list(strength.allowed_combinations), aaguids="\n".join(aaguids))


def _strength_body(form: StrengthForm) -> dict[str, Any]:
    body: dict[str, Any] = {"displayName": form.name, "description": form.description,
                            "allowedCombinations": form.combinations, "combinationConfigurations": []}
    aaguids = _aaguid_lines(form.aaguids)
    if aaguids:
        body["combinationConfigurations"] = [{"@odata.type": "#microsoft.graph.fido2CombinationConfiguration",
                                              "appliesToCombinations": ["fido2"], "allowedAAGUIDs": aaguids}]
    return body


def _strength_rows(known: Mapping[str, AuthenticationStrength]) -> list[dict[str, Any]]:
    labels = dict(COMBINATIONS)
    policies = ca_policies()
    rows = []
    for strength in known.values():
        models = [model_name(a) for c in strength.combination_configurations for a in c.allowed_aaguids]
        offered = [c for c in strength.allowed_combinations
                   if all(part in PASSGATE_MODE_VALUES for part in c.split(","))]
        others = len(strength.allowed_combinations) - len(offered)
        rows.append({"strength": strength, "built_in": strength.policy_type == "builtIn",
                     "combinations": [labels.get(c, c) for c in offered], "others": others,
                     "models": models, "used_by": [p.display_name for p in strength_usage(strength.id, policies)]})
    return rows


def strengths_moved(request: HttpRequest, rest: str) -> HttpResponse:
    """The strengths' first address (under Conditional Access): a permanent redirect keeping the method (308) and
    the query, so bookmarks and old links land on the same page under Authentication methods."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect("/admin/methods/strengths" + rest + (f"?{query}" if query else ""),
                                         preserve_request=True)


@admin_view(read=STRENGTHS_READ)
def strengths_list(request: HttpRequest, admin: Admin) -> HttpResponse:
    return render_admin(request, admin, "passgate/admin/strengths.html", {"rows": _strength_rows(strengths())},
                        section="strengths")


def _strength_page(request: HttpRequest, admin: Admin, form: StrengthForm, strength: AuthenticationStrength | None,
                   *, status: int = 200) -> HttpResponse:
    return render_admin(request, admin, "passgate/admin/strength_edit.html", {
        "form": form, "strength": strength, "combinations": COMBINATIONS, "model_names": model_names(),
        "read_only": not admin.can(STRENGTHS_WRITE),
    }, section="strengths", status=status)


def _strength_from_post(post: QueryDict) -> StrengthForm:
    return StrengthForm(name=post.get("name", "")[:300], description=post.get("description", "")[:1100],
                        combinations=post.getlist("combinations"), aaguids=post.get("aaguids", "")[:20_000])


def _load_strength(strength_id: str) -> AuthenticationStrength:
    try:
        return strength_get(strength_id)
    except NotFound:
        raise NotFoundHere("authentication strength") from None


@admin_view(read=STRENGTHS_READ, write=STRENGTHS_WRITE)
def strength_new(request: HttpRequest, admin: Admin) -> HttpResponse:
    if request.method != "POST":
        return _strength_page(request, admin, StrengthForm(), None)
    form = _strength_from_post(request.POST)
    try:
        strength = strength_create(body=_strength_body(form), actor=admin.actor, context=request_context(request))
    except PolicyValidationError as exc:
        form.problem = Problem(message=labelled(exc, STRENGTH_LABELS), target=exc.target, code=exc.code)
        return _strength_page(request, admin, form, None, status=400)
    flash(request, f"Authentication strength “{strength.display_name}” was created.")
    return redirect("/admin/methods/strengths")


@admin_view(read=STRENGTHS_READ, write=STRENGTHS_WRITE)
def strength_edit(request: HttpRequest, admin: Admin, strength_id: uuid.UUID) -> HttpResponse:
    strength = _load_strength(str(strength_id))
    if request.method != "POST":
        return _strength_page(request, admin, _strength_form(strength), strength)
    form = _strength_from_post(request.POST)
    try:
        changed = strength_update(strength_id=strength.id, body=_strength_body(form), actor=admin.actor,
                                  context=request_context(request))
    except PolicyValidationError as exc:
        form.problem = Problem(message=labelled(exc, STRENGTH_LABELS), target=exc.target, code=exc.code)
        return _strength_page(request, admin, form, strength, status=400)
    flash(request, f"Authentication strength “{changed.display_name}” was saved.")
    return redirect("/admin/methods/strengths")


@admin_view(read=STRENGTHS_WRITE, write=STRENGTHS_WRITE)
def strength_delete_page(request: HttpRequest, admin: Admin, strength_id: uuid.UUID) -> HttpResponse:
    strength = _load_strength(str(strength_id))
    error = ""
    if request.method == "POST":
        try:
            strength_delete(strength_id=strength.id, actor=admin.actor, context=request_context(request))
        except PassgateError as exc:
            error = exc.message
        else:
            flash(request, f"Authentication strength “{strength.display_name}” was deleted.")
            return redirect("/admin/methods/strengths")
    return render_admin(request, admin, "passgate/admin/confirm.html", {
        "title": f"Delete the authentication strength “{strength.display_name}”?",
        "lead": "Policies can't require it any more.", "warning": error,
        "button": "Delete strength", "cancel": f"/admin/methods/strengths/{strength.id}",
    }, section="strengths", status=400 if error else 200)


# --- what if ----------------------------------------------------------------------------------------------------

METHOD_CHOICES = (("none", "Not signed in yet"), ("tap", "A one-time Temporary Access Pass"),
                  ("tap+oath", "A one-time pass and an authenticator-app code"),
                  ("passkey-device", "A device-bound passkey (model unknown)"),
                  ("passkey-synced", "A synced passkey (model unknown)"))


def _auth_for(method: str, user: User) -> Authentication | None:
    now = datetime.now(UTC)
    uses: list[MethodUse] = []
    if method == "none":
        return None
    if method.startswith("tap"):
        uses.append(MethodUse(AuthMethodMode.TAP_ONE_TIME, now))
        if method == "tap+oath":
            uses.append(MethodUse(AuthMethodMode.SOFTWARE_OATH, now))
    elif method in ("passkey-device", "passkey-synced"):
        uses.append(MethodUse(AuthMethodMode.FIDO2, now, device_bound=method == "passkey-device"))
    elif method.startswith("passkey:"):
        passkey = user.passkeys.filter(pk=method.removeprefix("passkey:")).first() if _is_uuid(
            method.removeprefix("passkey:")) else None
        if passkey is None:
            raise ValueError(method)
        uses.append(MethodUse(AuthMethodMode.FIDO2, now, aaguid=str(passkey.aaguid),
                              device_bound=not passkey.backup_eligible))
    else:
        raise ValueError(method)
    return Authentication(user_id=str(user.pk), methods=tuple(uses))


@admin_view(read=ACCESS_READ)
def what_if(request: HttpRequest, admin: Admin) -> HttpResponse:
    get = request.GET
    values = {"user": get.get("user", "").strip()[:256], "app": get.get("app", "").strip()[:64],
              "method": get.get("method", "").strip()[:64]}
    errors: dict[str, str] = {}
    apps = _app_names()
    user = User.objects.filter(upn_normalized=values["user"].casefold()).first() if values["user"] else None
    if values["user"] and user is None:
        errors["user"] = f"No user is called “{values['user']}”."
    methods: list[tuple[str, str]] = list(METHOD_CHOICES)
    if user is not None:
        methods += [(f"passkey:{p.pk}", f"Their passkey “{p.display_name}” ({model_name(p.aaguid, p.model_name)}, "
                                        f"{'synced' if p.backup_eligible else 'device-bound'})")
                    for p in user.passkeys.order_by("created_at")]
    if values["app"] and values["app"] != REGISTER_SECURITY_INFO and values["app"] not in apps:
        errors["app"] = "Choose an app from the list."
    outcome = None
    if user is not None and values["app"] and values["method"] and not errors:
        try:
            auth = _auth_for(values["method"], user)
        except ValueError:
            errors["method"] = "Choose how they sign in from the list."
        else:
            action = values["app"] == REGISTER_SECURITY_INFO
            # The very function every enforcement point calls, so the answer can't differ from what happens.
            decision = access_decide(user=user, auth=auth, application_id=None if action else values["app"],
                                     user_action=REGISTER_SECURITY_INFO if action else None)
            outcome = {"decision": decision, "rows": [
                {"result": r, "label": RESULT_LABELS.get(r.result, (r.result, "neutral"))[0],
                 "tone": RESULT_LABELS.get(r.result, (r.result, "neutral"))[1]} for r in decision.results]}
    return render_admin(request, admin, "passgate/admin/what_if.html", {
        "values": values, "errors": errors, "apps": sorted(apps.items(), key=lambda kv: kv[1]),
        "methods": methods, "outcome": outcome, "action": REGISTER_SECURITY_INFO,
        "state_labels": STATE_LABELS,
    }, section="access", status=400 if errors else 200)


