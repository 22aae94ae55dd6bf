"""Authentication methods: the list, Passkey (FIDO2) with its impact preview, Temporary Access Pass, Authenticator app.

Every form becomes a Graph PATCH body of the method configuration and goes through ``policy_preview`` and
``policy_update``, the Graph API's own path: a refusal comes back naming the property, and is shown on the form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect

from passgate.core.errors import Conflict, PassgateError
from passgate.core.policy.diff import changed_settings
from passgate.core.policy.errors import PolicyValidationError
from passgate.core.policy.model import (
    ALL_USERS,
    AuthenticationMethodsPolicy,
    Fido2Configuration,
    MethodConfiguration,
    SoftwareOathConfiguration,
    TemporaryAccessPassConfiguration,
)
from passgate.credentials.policy import policy_impact, policy_preview, policy_update, policy_warnings
from passgate.credentials.policy_selectors import current_policy, current_version
from passgate.web.errors import request_context
from passgate.web.messages import for_person
from passgate.web.views.admin import policy_forms as forms
from passgate.web.views.admin import queries
from passgate.web.views.admin.access import Admin, admin_view, flash, render_admin

PASSKEY_TABS = ("target", "configure")
REPLAY_SKIP = frozenset({"csrfmiddlewaretoken", "confirm", "back", "version"})
METHOD_PAGES = (
    ("Passkey (FIDO2)", "passkey", "Sign in with a passkey: a security key, a phone, or the computer itself."),
    ("Authenticator app", "authenticator-app", "Six-digit codes from an app (TOTP), to confirm it's you."),
    ("Temporary Access Pass", "temporary-access-pass",
     "A time-limited pass an administrator issues, to add a first passkey."),
)


def _version_number() -> int:
    row = current_version()
    return row.version if row else 0


def target_summary(config: MethodConfiguration, names: Mapping[str, str]) -> dict[str, str]:
    def name(target_id: str) -> str:
        return "All users" if target_id == ALL_USERS else names.get(target_id, "a deleted group")

    include = ", ".join(name(t.id) for t in config.include_targets) or "Nobody"
    exclude = ", ".join(name(t.id) for t in config.exclude_targets)
    return {"include": include, "exclude": exclude}


def _group_names(policy: AuthenticationMethodsPolicy) -> dict[str, str]:
    ids = [t.id for c in policy.configurations for t in (*c.include_targets, *c.exclude_targets)]
    return queries.group_names(ids)


@admin_view(read="policy.read")
def methods_list(request: HttpRequest, admin: Admin) -> HttpResponse:
    policy = current_policy()
    names = _group_names(policy)
    configs: tuple[MethodConfiguration, ...] = (policy.fido2, policy.software_oath, policy.temporary_access_pass)
    rows = [{"name": title, "slug": slug, "about": about, "config": config, **target_summary(config, names)}
            for (title, slug, about), config in zip(METHOD_PAGES, configs, strict=True)]
    row = current_version()
    return render_admin(request, admin, "passgate/admin/methods.html", {"rows": rows, "version": row},
                        section="methods")


# --- Passkey (FIDO2) ----------------------------------------------------------------------------------------------

def _passkey_page(request: HttpRequest, admin: Admin, config: Fido2Configuration, *, tab: str,
                  target: forms.TargetForm, configure: forms.ConfigureForm, notice: str = "",
                  status: int = 200) -> HttpResponse:
    return render_admin(request, admin, "passgate/admin/method_passkey.html", {
        "tab": tab, "config": config, "target": target, "configure": configure, "notice": notice,
        "read_only": not admin.can("policy.write"),
        "profiles": config.passkey_profiles, "version": _version_number(),
        "type_choices": forms.PASSKEY_TYPE_CHOICES, "attestation_choices": forms.ATTESTATION_CHOICES,
        "enforcement_choices": forms.ENFORCEMENT_CHOICES, "certification_choices": forms.CERTIFICATION_CHOICES,
        "model_names": forms.model_names() if tab == "configure" else (),
    }, section="methods", status=status)


def _replay(form: QueryDict) -> list[tuple[str, str]]:
    """The submitted fields, to post again from the preview (Save) or back to the form (Change)."""
    return [(name, value) for name, values in form.lists() if name not in REPLAY_SKIP for value in values]


def _described_changes(policy: AuthenticationMethodsPolicy, proposed: AuthenticationMethodsPolicy) -> list[Any]:
    names = _group_names(proposed) | _group_names(policy)
    names |= {p.id: p.name for p in (*policy.fido2.passkey_profiles, *proposed.fido2.passkey_profiles)}
    return [forms.describe_change(c.path, c.old, c.new, names)
            for c in changed_settings(policy.fido2, proposed.fido2)]


@admin_view(read="policy.read", write="policy.write")
def passkey_method(request: HttpRequest, admin: Admin) -> HttpResponse:
    config = current_policy().fido2
    groups = queries.all_groups()
    tab = request.POST.get("tab", "") if request.method == "POST" else request.GET.get("tab", "target")
    if request.method != "POST" or tab not in PASSKEY_TABS:
        bad = request.method == "POST"
        return _passkey_page(request, admin, config, tab=tab if tab in PASSKEY_TABS else "target",
                             target=forms.target_form_from_config(config, groups),
                             configure=forms.configure_form_from_config(config), status=400 if bad else 200,
                             notice="That form isn't one of this page's. Nothing was changed." if bad else "")
    return _passkey_post(request, admin, tab, groups)


def _passkey_post(request: HttpRequest, admin: Admin, tab: str, groups: list[Any]) -> HttpResponse:
    """Preview (no ``confirm``), or save what was previewed (``confirm`` and the version the preview showed)."""
    form = request.POST
    policy = current_policy()
    config = policy.fido2
    target = (forms.target_form_from_post(form, config, groups) if tab == "target"
              else forms.target_form_from_config(config, groups))
    configure = (forms.configure_form_from_post(form, config) if tab == "configure"
                 else forms.configure_form_from_config(config))
    sources: list[str] = []
    if tab == "target":
        body = forms.targets_body(form, config, passkey=True)
    else:
        body, sources = forms.configure_body(form)
    if "back" in form:
        return _passkey_page(request, admin, config, tab=tab, target=target, configure=configure)
    version = _version_number()
    try:
        proposed = policy_preview(body=body, method_id="fido2")
        changes = _described_changes(policy, proposed)
        if not changes:
            return _passkey_page(request, admin, config, tab=tab, target=target, configure=configure,
                                 notice="Nothing to save: these are the settings in force.")
        if "confirm" in form and form.get("version", "") == str(version):
            policy_update(body=body, actor=admin.actor, method_id="fido2", context=request_context(request))
            flash(request, f"Passkey (FIDO2) settings saved. The policy is now at version {_version_number()}.")
            return redirect(f"/admin/methods/passkey?tab={tab}")
    except PassgateError as exc:
        if isinstance(exc, PolicyValidationError) and tab == "target":
            forms.place_target_problem(target, body, exc)
        elif isinstance(exc, PolicyValidationError):
            forms.place_configure_problem(configure, sources, exc)
        else:
            problem = forms.Problem(message=for_person(exc), target="", code=exc.code)
            target.problem, configure.problem = (problem, None) if tab == "target" else (None, problem)
        return _passkey_page(request, admin, config, tab=tab, target=target, configure=configure,
                             status=409 if isinstance(exc, Conflict) else 400)
    return render_admin(request, admin, "passgate/admin/method_passkey_preview.html", {
        "tab": tab, "impact": policy_impact(proposed=proposed), "changes": changes, "fields": _replay(form),
        "warnings": policy_warnings(proposed=proposed),
        "version": version,
        "moved_on": "confirm" in form,  # the policy changed between the preview and Save
    }, section="methods")


# --- Temporary Access Pass and Authenticator app ---------------------------------------------------------------------

def _simple_method(request: HttpRequest, admin: Admin, *, method_id: str, template: str, title: str,
                   config_of: Callable[[AuthenticationMethodsPolicy], MethodConfiguration]) -> HttpResponse:
    config = config_of(current_policy())
    groups = queries.all_groups()
    is_tap = isinstance(config, TemporaryAccessPassConfiguration)
    target = forms.target_form_from_config(config, groups)
    settings_form = (forms.tap_settings_from_config(config) if isinstance(config, TemporaryAccessPassConfiguration)
                     else None)
    status = 200
    if request.method == "POST":
        form = request.POST
        body = (forms.tap_body(form, config) if isinstance(config, TemporaryAccessPassConfiguration)
                else forms.targets_body(form, config, passkey=False))
        before = _version_number()
        try:
            policy_update(body=body, actor=admin.actor, method_id=method_id, context=request_context(request))
        except PassgateError as exc:
            target = forms.target_form_from_post(form, config, groups)
            settings_form = forms.tap_settings_from_post(form) if is_tap else None
            if isinstance(exc, PolicyValidationError):
                if settings_form is not None:
                    forms.place_tap_problem(settings_form, target, body, exc)
                else:
                    forms.place_target_problem(target, body, exc)
            else:
                target.problem = forms.Problem(message=for_person(exc), target="", code=exc.code)
            status = 409 if isinstance(exc, Conflict) else 400
        else:
            after = _version_number()
            flash(request, f"{title} settings saved. The policy is now at version {after}." if after != before
                  else "Nothing to save: these are the settings in force.")
            return redirect(request.path)
    return render_admin(request, admin, template, {"config": config, "target": target, "settings": settings_form,
                                                   "title": title, "read_only": not admin.can("policy.write")},
                        section="methods", status=status)


@admin_view(read="policy.read", write="policy.write")
def tap_method(request: HttpRequest, admin: Admin) -> HttpResponse:
    return _simple_method(request, admin, method_id=TemporaryAccessPassConfiguration.ID,
                          template="passgate/admin/method_tap.html", title="Temporary Access Pass",
                          config_of=lambda p: p.temporary_access_pass)


@admin_view(read="policy.read", write="policy.write")
def authenticator_app_method(request: HttpRequest, admin: Admin) -> HttpResponse:
    return _simple_method(request, admin, method_id=SoftwareOathConfiguration.ID,
                          template="passgate/admin/method_oath.html", title="Authenticator app",
                          config_of=lambda p: p.software_oath)
