"""Web pages name a refused field as the form labels it, not as the Graph API names the property (issue 14 item 6);
tests/graph/test_property_names_in_errors.py shows the API keeps its names."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.access.models import StrengthPolicy
from passgate.credentials.models import TemporaryAccessPass
from passgate.directory.models import SecurityGroup, User
from passgate.web.messages import FIELD_SENTENCES
from tests.admin.conftest import APA, CAA, GA, UA, as_post, form_fields, text_of

pytestmark = pytest.mark.django_db
API_WORDS = ("displayName", "lifetimeInMinutes", "combinationConfigurations", "allowedAAGUIDs", "userPrincipalName",
             "is not a user principal name", "printable characters")


def words_of(response: Any) -> str:
    assert response.status_code == 400
    text = text_of(response).replace(" Property: ", " [property] ")
    shown = text.split(" [property] ")[0]  # the form's own words, before the problem box's property hint
    assert not [word for word in API_WORDS if word in shown], shown
    return shown


def test_a_long_group_name(admin_as: Any) -> None:
    client, _ = admin_as(GA)
    refused = client.post("/admin/groups/new", {"display_name": "g" * 257, "description": ""})
    assert "Name must be at most 256 characters." in words_of(refused)
    assert not SecurityGroup.objects.exists()


def test_a_long_display_name_and_an_empty_user_name_on_add_user(admin_as: Any) -> None:
    client, _ = admin_as(UA)
    refused = client.post("/admin/users/new", {"upn": "ada@contoso.com", "display_name": "A" * 257})
    assert "Display name must be at most 256 characters." in words_of(refused)
    refused = client.post("/admin/users/new", {"upn": "", "display_name": "Ada"})
    assert "User name: enter the person's user name, like ada@contoso.com." in words_of(refused)
    refused = client.post("/admin/users/new", {"upn": "ada at contoso", "display_name": "Ada"})
    assert "User name: enter it as alias@domain, like ada@contoso.com" in words_of(refused)
    assert not User.objects.filter(display_name="Ada").exists()


def test_a_temporary_access_pass_lifetime_out_of_range(admin_as: Any, make_user: Any) -> None:
    client, _ = admin_as(GA)
    kim = make_user(upn="kim@contoso.com")
    for minutes in ("5", "50000"):
        refused = client.post(f"/admin/users/{kim.pk}/tap", {"lifetime": minutes, "once": "1"})
        assert "Lifetime must be between 10 and 43,200 minutes." in words_of(refused)
    assert 'for="lifetime">Lifetime (minutes)</label>' in client.get(f"/admin/users/{kim.pk}/tap").content.decode()
    assert not TemporaryAccessPass.objects.filter(user=kim).exists()


def test_a_malformed_aaguid_in_a_strength(admin_as: Any) -> None:
    client, _ = admin_as(CAA)
    fields = [(n, v) for n, v in form_fields(client.get("/admin/methods/strengths/new"), "strength-form")
              if n not in ("name", "aaguids")]
    refused = client.post("/admin/methods/strengths/new",
                          as_post([*fields, ("name", "Our keys"), ("aaguids", "not-a-guid")]))
    shown = words_of(refused)
    assert "Not saved. Passkey models: \"not-a-guid\" is not valid; an AAGUID must be a GUID" in shown, shown
    assert not StrengthPolicy.objects.exists()


def test_every_sentence_names_its_label() -> None:
    for (code, rule), sentence in FIELD_SENTENCES.items():
        assert sentence.startswith("{label}"), (code, rule)


def test_an_authentication_policy_administrator_reads_the_same_words(admin_as: Any) -> None:
    client, _ = admin_as(APA)
    fields = [(n, v) for n, v in form_fields(client.get("/admin/methods/strengths/new"), "strength-form")
              if n != "name"]
    refused = client.post("/admin/methods/strengths/new", as_post([*fields, ("name", "")]))
    assert "Not saved. Name: enter 1 to 256 characters, without control characters." in words_of(refused)
