"""The client address in audit rows behind a load balancer (PASSGATE_TRUSTED_PROXIES), for every adapter that
builds a RequestContext (web pages, the Graph API, the token endpoint), and the scheme a trusted proxy reports."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from passgate.audit.models import AuditEvent
from passgate.config.proxy import TrustedProxyMiddleware
from passgate.core.net import parse_networks
from tests.graph.conftest import issue_token

LB = "10.0.0.5"
CLIENT = "203.0.113.9"
FORGED = "198.51.100.66"


@pytest.fixture
def behind_proxies(settings: Any) -> None:
    settings.PASSGATE = dataclasses.replace(settings.PASSGATE, trusted_proxies=parse_networks("10.0.0.0/8"))


def _tap_failure(client: Any, **headers: str) -> AuditEvent:
    client.post("/signin/tap", {"upn": "nobody@contoso.com", "tap": "WRONG-PASS"}, **headers)
    return AuditEvent.objects.filter(activity="tap.signIn").latest("occurred_at")


def _graph_user_add(client: Any, **headers: str) -> AuditEvent:
    token = issue_token("User.ReadWrite.All")
    body = {"accountEnabled": True, "displayName": "Ada", "mailNickname": "ada",
            "userPrincipalName": f"ada{AuditEvent.objects.count()}@contoso.com"}
    response = client.post("/v1.0/users", json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}", **headers)
    assert response.status_code == 201, response.content
    return AuditEvent.objects.filter(activity="user.add").latest("occurred_at")


def _token_refusal(client: Any, **headers: str) -> AuditEvent:
    client.post("/oauth2/v2.0/token", {"grant_type": "client_credentials", "client_id": "nobody",
                                       "client_secret": "x", "scope": "https://graph.microsoft.com/.default"},
                **headers)
    return AuditEvent.objects.filter(activity="token.issue").latest("occurred_at")


ADAPTERS = [pytest.param(_tap_failure, id="web"), pytest.param(_graph_user_add, id="graph"),
            pytest.param(_token_refusal, id="token-endpoint")]


@pytest.mark.django_db
@pytest.mark.parametrize("act", ADAPTERS)
def test_behind_a_trusted_proxy_the_audit_row_has_the_clients_address(client: Any, behind_proxies: None,
                                                                      act: Any) -> None:
    event = act(client, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}, 10.2.2.2")
    assert event.ip_address == CLIENT
    event = act(client, REMOTE_ADDR=LB, HTTP_FORWARDED=f'for="{CLIENT}:5123";proto=https')
    assert event.ip_address == CLIENT


@pytest.mark.django_db
@pytest.mark.parametrize("act", ADAPTERS)
def test_forwarding_headers_from_anyone_else_are_ignored(client: Any, behind_proxies: None, act: Any) -> None:
    event = act(client, REMOTE_ADDR=FORGED, HTTP_X_FORWARDED_FOR=CLIENT, HTTP_FORWARDED=f"for={CLIENT}")
    assert event.ip_address == FORGED


@pytest.mark.django_db
@pytest.mark.parametrize("act", ADAPTERS)
def test_by_default_no_proxy_is_trusted(client: Any, act: Any) -> None:
    event = act(client, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR=CLIENT)
    assert event.ip_address == LB


@pytest.mark.django_db
def test_a_malformed_header_from_a_trusted_proxy_gives_its_own_address(client: Any, behind_proxies: None) -> None:
    assert _tap_failure(client, REMOTE_ADDR=LB, HTTP_X_FORWARDED_FOR="unknown").ip_address == LB
    assert _tap_failure(client, REMOTE_ADDR=LB, HTTP_FORWARDED='for="[2001:db8::1').ip_address == LB


def _is_secure(**meta: str) -> str:
    request = RequestFactory().get("/", **meta)
    response = TrustedProxyMiddleware(lambda r: HttpResponse(str(r.is_secure())))(request)
    return response.content.decode()


def test_the_scheme_a_trusted_proxy_reports_makes_the_request_secure(behind_proxies: None) -> None:
    assert _is_secure(REMOTE_ADDR=LB, HTTP_X_FORWARDED_PROTO="https") == "True"
    assert _is_secure(REMOTE_ADDR=LB, HTTP_FORWARDED=f"for={CLIENT};proto=https") == "True"
    assert _is_secure(REMOTE_ADDR=LB) == "False"
    assert _is_secure(REMOTE_ADDR=FORGED, HTTP_X_FORWARDED_PROTO="https") == "False"
    assert _is_secure(REMOTE_ADDR=LB, HTTP_X_FORWARDED_PROTO="https", HTTP_FORWARDED="proto=http") == "False"


def test_without_trusted_proxies_no_header_makes_a_request_secure() -> None:
    assert _is_secure(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https") == "False"
