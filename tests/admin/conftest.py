"""Admin centre fixtures: signed-in administrators of each role and a small directory (browser fixtures come from
tests/browser/fixtures.py, loaded for every folder)."""

from __future__ import annotations

import base64
import html
import itertools
import re
import time
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

GA = "62e90394-69f5-4237-9190-012177145e10"
APA = "0526716b-113d-4c15-b2c8-68e3c22b9f80"
AA = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
UA = "fe930be7-5e62-47db-91af-98c3a49a38b1"
GR = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
CAA = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"
APPA = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
CAPPA = "158c047a-c907-4556-b7ef-446551a6b5f7"
PRA = "e8611ab8-c189-46e8-94e1-60213ab1f814"
ROLES = {"global_admin": GA, "auth_policy_admin": APA, "auth_admin": AA, "user_admin": UA, "global_reader": GR,
         "ca_admin": CAA, "app_admin": APPA, "cloud_app_admin": CAPPA, "privileged_role_admin": PRA}

TAP_PATTERN = re.compile(r"\b[2-9A-HJKMNP-TV-Z]{4}(?:-[2-9A-HJKMNP-TV-Z]{4}){3}\b")


@pytest.fixture(autouse=True)
def software_relying_party(request: Any, settings: Any) -> None:
    """HTTP tests register passkeys with the software authenticator; browser tests use the live server's origin."""
    if request.node.get_closest_marker("browser") is None:
        from tests.services.support import use_test_relying_party

        use_test_relying_party(settings)


def start_session(client: Client, user: Any, method: str = "passkey") -> Client:
    """A signed-in session as the web adapter starts one (fresh, with the sign-in method recorded)."""
    from django.utils import timezone

    from passgate.web import session as web_session

    client.force_login(user, backend="passgate.directory.backends.DirectoryBackend")
    s = client.session
    now = timezone.now().isoformat()
    s[web_session.AUTH_TIME] = now
    s[web_session.LAST_SEEN] = now
    s[web_session.METHOD] = method
    s.save()
    return client


@pytest.fixture
def admin_as(make_user: Any) -> Callable[..., tuple[Client, Any]]:
    """``admin_as(GA, ...)``: a new user holding these roles and a client signed in as them."""
    counter = itertools.count(1)

    def make(*roles: str, upn: str | None = None, client: Client | None = None) -> tuple[Client, Any]:
        from passgate.directory.models import DirectoryRole

        user = make_user(upn=upn or f"admin{next(counter)}@contoso.com", display_name="Admin",
                         roles=tuple(DirectoryRole(r) for r in roles))
        return start_session(client or Client(), user), user

    return make


@pytest.fixture
def add_passkey() -> Callable[..., Any]:
    """Register a passkey for a user through the real services (synced unless said otherwise)."""
    from tests.services.support import authenticator_for, register

    counter = itertools.count(1)

    def add(user: Any, *, synced: bool = True, name: str | None = None, **kwargs: Any) -> Any:
        auth = authenticator_for(user, backup_eligible=synced, **kwargs)
        return register(user, auth, name=name or f"Passkey {next(counter)}", session_key=f"reg-{next(counter)}")

    return add


@pytest.fixture
def add_authenticator_app() -> Callable[[Any], Any]:
    def add(user: Any) -> Any:
        from passgate.core import totp
        from passgate.credentials import oath

        enrolment = oath.software_oath_enrol_begin(user=user)
        text = enrolment.secret_text.replace(" ", "")
        seed = base64.b32decode(text + "=" * (-len(text) % 8))
        return oath.software_oath_enrol_complete(user=user, method_id=enrolment.method.id,
                                                 code=totp.code_at(seed, time.time() - 30))

    return add


@pytest.fixture
def world(make_user: Any, add_passkey: Any) -> dict[str, Any]:
    """Pat (no role, one passkey, in the Pilot group) and Sam (no role, in no group)."""
    from passgate.audit.services import Actor
    from passgate.directory.services import group_add_member, group_create

    pat = make_user(upn="pat@contoso.com", display_name="Pat Example")
    sam = make_user(upn="sam@contoso.com", display_name="Sam Example")
    passkey = add_passkey(pat, name="Pat's laptop")
    group = group_create(display_name="Pilot", actor=Actor.system("test"))
    group_add_member(group=group, user=pat, actor=Actor.system("test"))
    return {"pat": pat, "sam": sam, "passkey": passkey, "group": group}


@pytest.fixture
def access_world(world: dict[str, Any]) -> dict[str, Any]:
    """The world, plus a custom authentication strength, a report-only Conditional Access policy requiring it
    of the Pilot group for every app, and an app registration (a web app with a secret)."""
    from passgate.access.services import ca_policy_create, strength_create
    from passgate.apps.services import OidcRegistration, app_create
    from passgate.audit.services import Actor

    strength = strength_create(body={"displayName": "Passkeys only", "allowedCombinations": ["fido2"]},
                               actor=Actor.system("test"))
    policy = ca_policy_create(body={
        "displayName": "Pilot: passkeys only", "state": "enabledForReportingButNotEnforced",
        "conditions": {"users": {"includeGroups": [str(world["group"].pk)]},
                       "applications": {"includeApplications": ["All"]}},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": strength.id}}},
        actor=Actor.system("test"))
    app, _ = app_create(display_name="Wiki", permissions=[], actor=Actor.system("test"),
                        oidc=OidcRegistration(redirect_uris=("https://wiki.contoso.test/cb",)))
    return {**world, "strength": strength, "capolicy": policy, "app": app}


def post_forms(html: bytes) -> int:
    """How many POST forms a page has (the header's sign-out form is one)."""
    return len(re.findall(rb'<form[^>]*method="post"', html))


def text_of(response: Any) -> str:
    """The page's text (tags dropped, whitespace collapsed), for phrase assertions."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


class _FormReader(HTMLParser):
    """What a browser would submit for one form: checked boxes, inputs, selected options, textareas."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else self._first_option
            self.fields.append((self._select, value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def form_fields(response: Any, form_id: str) -> list[tuple[str, str]]:
    reader = _FormReader(form_id)
    reader.feed(response.content.decode())
    assert reader.fields, f"no form #{form_id}"
    return reader.fields


def as_post(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Fields as the Django test client's data (lists post a name several times)."""
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data
