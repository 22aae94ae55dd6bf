"""Reading POST/PATCH /applications bodies (pure): what a body gives, refusals naming their property, and the
Graph app-role id of each permission Passgate grants."""

from __future__ import annotations

import pytest

from passgate.core.graph.applications import (
    GRAPH_APP_ROLE_IDS,
    GRAPH_RESOURCE_APP_ID,
    ApplicationPropertyError,
    read_application,
    read_key_id,
    read_password_credential,
    required_resource_access,
)
from passgate.core.graph.authz import Permission
from passgate.core.graph.errors import GraphError


def test_a_body_gives_only_what_it_names() -> None:
    data = read_application({"displayName": "Wiki", "web": {"redirectUris": ["https://a.test/cb", "https://a.test/cb"]},
                             "@passgate.postLogoutRedirectUris": ["https://a.test/"], "tags": []}, create=True)
    assert data.display_name == "Wiki" and data.web_redirect_uris == ("https://a.test/cb",)  # duplicates dropped
    assert data.post_logout_redirect_uris == ("https://a.test/",)
    assert data.given == {"display_name", "web_redirect_uris", "post_logout_redirect_uris"}
    assert data.secret_display_name is None and not data.gives("permissions")
    patch = read_application({"web": None, "requiredResourceAccess": []}, create=False)
    assert patch.web_redirect_uris == () and patch.permissions == () and patch.gives("permissions")


def test_required_resource_access_both_ways() -> None:
    assert required_resource_access([]) == []
    written = required_resource_access(["User.Read.All", "AuditLog.Read.All"])
    assert written == [{"resourceAppId": GRAPH_RESOURCE_APP_ID, "resourceAccess": [
        {"id": GRAPH_APP_ROLE_IDS[Permission.USER_READ_ALL], "type": "Role"},
        {"id": GRAPH_APP_ROLE_IDS[Permission.AUDIT_LOG_READ_ALL], "type": "Role"}]}]
    upper = [{**written[0], "resourceAccess": [{**a, "id": a["id"].upper()} for a in written[0]["resourceAccess"]]}]
    assert read_application({"requiredResourceAccess": upper}, create=False).permissions == (
        "User.Read.All", "AuditLog.Read.All")


def test_secret_bodies() -> None:
    assert read_password_credential({}) == ""
    with pytest.raises(GraphError):
        read_password_credential(None)  # a JSON null body is not an object (schemathesis found it accepted)
    assert read_password_credential({"passwordCredential": {"displayName": " ci "}}) == "ci"
    assert read_key_id({"keyId": "abc"}) == "abc"
    with pytest.raises(ApplicationPropertyError) as info:
        read_key_id({})
    assert info.value.target == "keyId" and info.value.status == 400


def test_not_an_object_is_malformed() -> None:
    with pytest.raises(GraphError) as info:
        read_application(["displayName"], create=True)
    assert info.value.graph_code.value == "BadRequest"
