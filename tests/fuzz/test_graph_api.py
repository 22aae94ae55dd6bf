"""Schemathesis against the live ``/openapi.json`` of a real ``passgate serve``, on this run's database engine.

An app holding every Graph permission calls every operation with generated requests, schema-valid and
schema-violating ("all" mode), for a fixed seed and a time budget (``PASSGATE_FUZZ_SECONDS``, default 120).
Before the run the test makes one of each resource through the API, and the fuzzer draws path ids from them
half of the time (``dictionaries`` below), so requests reach real objects rather than only 404s.

The checks (``schemathesis.toml``): no 5xx, every status code, content type, header and body as the document
says, and every request the document forbids refused (``negative_data_rejection``). The figures (operations,
test cases, failures, seconds) are printed in the terminal summary (tests/conftest.py); ``PASSGATE_FUZZ_LOG=FILE``
keeps schemathesis's whole report.

A failure prints schemathesis's report with a ``curl`` command for each failing case. Replay one against a
server of your own with the same seed: ``st run URL/openapi.json --config-file tests/fuzz/schemathesis.toml
--seed 20261204 -H 'Authorization: Bearer …'``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import FUZZ_FIGURES
from tests.processes import (
    joined_device_over_http,
    serving,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20261204
BUDGET_SECONDS = int(os.environ.get("PASSGATE_FUZZ_SECONDS", "120"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A real ``passgate serve`` (two workers) on a database of its own, reaped whatever happens."""
    with serving(tmp_path, "fuzz") as running:
        yield running


def _fuzz_app(server: dict[str, Any]) -> tuple[str, str]:
    """An app holding every Graph permission Passgate knows, registered with the CLI: (appId, secret)."""
    from passgate.core.graph.authz import Permission

    args = [arg for p in Permission for arg in ("--permission", p.value)]
    done = subprocess.run([sys.executable, "-m", "passgate.cli", "apps", "add", "--name", "Fuzzer", *args],
                          env=server["env"], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    app_id = re.search(r"Application \(client\) ID:\s+(\S+)", done.stdout)
    secret = re.search(r"Client secret:\s+(\S+)", done.stdout)
    assert app_id and secret, done.stdout
    return app_id.group(1), secret.group(1)


def _joined_device(server: dict[str, Any]) -> str:
    return joined_device_over_http(server["origin"], server["env"], "fuzz-pc")


class Graph:
    def __init__(self, origin: str, token: str) -> None:
        self.base = f"{origin}/v1.0"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.session.request(method, self.base + path, json=body, timeout=30)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        return response.json() if response.content else None


def _seed(graph: Graph) -> dict[str, list[str]]:
    """One of each resource, made through the API: the ids the fuzzer may use, by path parameter."""
    user = graph("POST", "/users", {"accountEnabled": True, "displayName": "Fuzz Target",
                                    "mailNickname": "fuzz", "userPrincipalName": "fuzz@localhost"}, 201)
    tap = graph("POST", f"/users/{user['id']}/authentication/temporaryAccessPassMethods", {}, 201)
    group = graph("POST", "/groups", {
        "displayName": "Fuzz group", "mailEnabled": False, "mailNickname": "fuzzgroup", "securityEnabled": True,
        "members@odata.bind": [f"https://graph.microsoft.com/v1.0/directoryObjects/{user['id']}"]}, 201)
    strength = graph("POST", "/policies/authenticationStrengthPolicies", {
        "displayName": "Fuzz strength", "allowedCombinations": ["fido2"]}, 201)
    policy = graph("POST", "/identity/conditionalAccess/policies", {
        "displayName": "Fuzz policy", "state": "disabled",
        "conditions": {"users": {"includeGroups": [group["id"]]}, "applications": {"includeApplications": ["All"]}},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": strength["id"]}}}, 201)
    app = graph("POST", "/applications", {"displayName": "Fuzz app", "appRoles": [{
        "id": "0c2a0c5e-2f0e-4d8b-9a51-6f1f0b8f4e01", "value": "Fuzz.Admin", "displayName": "Fuzz admins",
        "allowedMemberTypes": ["User"], "isEnabled": True}]}, 201)
    app_role = graph("POST", f"/users/{user['id']}/appRoleAssignments", {
        "principalId": user["id"], "resourceId": app["id"], "appRoleId": app["appRoles"][0]["id"]}, 201)
    profile = graph("POST", "/deviceManagement/deviceConfigurations", {
        "@odata.type": "#microsoft.graph.windows10CustomConfiguration", "displayName": "Fuzz profile",
        "omaSettings": [{"@odata.type": "#microsoft.graph.omaSettingInteger", "displayName": "Security keys",
                         "omaUri": "./Device/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin",
                         "value": 1}]}, 201)
    graph("POST", f"/deviceManagement/deviceConfigurations/{profile['id']}/assign", {"assignments": [
        {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group["id"]}}]})
    reader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"  # Global Reader
    assignment = graph("POST", "/roleManagement/directory/roleAssignments", {
        "principalId": user["id"], "roleDefinitionId": reader, "directoryScopeId": "/"}, 201)
    audits = graph("GET", "/auditLogs/directoryAudits?$top=3")["value"]
    sign_ins = graph("GET", "/auditLogs/signIns?$top=3")["value"]
    return {
        "user-id": [user["id"], user["userPrincipalName"]],
        "directoryObject-id": [user["id"]],
        "temporaryAccessPassAuthenticationMethod-id": [tap["id"]],
        "group-id": [group["id"]],
        "authenticationStrengthPolicy-id": [strength["id"], "00000000-0000-0000-0000-000000000004"],
        "conditionalAccessPolicy-id": [policy["id"]],
        "application-id": [app["id"]],
        "appId": [app["appId"]],
        "authenticationMethodConfiguration-id": ["Fido2", "SoftwareOath", "TemporaryAccessPass"],
        "directoryAudit-id": [a["id"] for a in audits],
        "signIn-id": [s["id"] for s in sign_ins],
        "deviceConfiguration-id": [profile["id"]],
        "deviceEnrollmentConfiguration-id": ["DefaultWindowsHelloForBusiness"],
        **{param: [reader, "62e90394-69f5-4237-9190-012177145e10"] for param in (
            "unifiedRoleDefinition-id", "directoryRole-id", "directoryRoleTemplate-id")},
        "unifiedRoleAssignment-id": [assignment["id"]],
        "appRoleAssignment-id": [app_role["id"]],
    }


def _config(tmp_path: Path, seeds: dict[str, list[str]]) -> Path:
    """schemathesis.toml plus dictionaries of the seeded ids, drawn for half of the path parameters."""
    lines = [CONFIG.read_text(), "[dictionaries]"]
    names = {param: re.sub(r"[^A-Za-z0-9]", "_", param) for param, values in seeds.items() if values}
    lines += [f"{names[param]} = {{ values = {json.dumps(seeds[param])} }}" for param in names]
    lines.append("[parameters]")
    lines += [f'"path.{param}" = {{ dictionary = "{name}", probability = 0.5 }}' for param, name in names.items()]
    path = tmp_path / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_graph_api_under_schemathesis(server: dict[str, Any], tmp_path: Path, request: pytest.FixtureRequest) -> None:
    origin = server["origin"]
    app_id, secret = _fuzz_app(server)
    answer = requests.post(f"{origin}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": app_id, "client_secret": secret,
        "scope": "https://graph.microsoft.com/.default"}, timeout=30)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    graph = Graph(origin, token)
    me = graph("GET", f"/applications(appId='{app_id}')")
    seeds = {**_seed(graph), "device-id": [_joined_device(server)]}

    report = tmp_path / "report.json"
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PASSGATE_FUZZ_PROTECTED": f"{me['id']},{app_id}",
           "PYTHONPATH": str(ROOT)}
    command = [str(Path(sys.executable).with_name("st")), "--config-file", str(_config(tmp_path, seeds)), "run",
               f"{origin}/openapi.json", "--seed", str(SEED), "--max-time", str(BUDGET_SECONDS), "--workers", "2",
               "--exclude-path", "/oauth2/v2.0/token", "-H", f"Authorization: Bearer {token}", "--no-color",
               "--report", "json", "--report-json-path", str(report)]
    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, check=False,
                          timeout=BUDGET_SECONDS + 300)
    seconds = time.monotonic() - started
    if os.environ.get("PASSGATE_FUZZ_LOG"):  # schemathesis's whole report, for a look at a passing run too
        Path(os.environ["PASSGATE_FUZZ_LOG"]).write_text(done.stdout + done.stderr)
    assert report.exists(), done.stdout[-20000:] + done.stderr[-5000:]
    result = json.loads(report.read_text())
    operations, cases = result["operations"]["tested"], result["test_cases"]
    figures = (f"passgate: schemathesis on {server['engine']}: {operations} operations, {cases['generated']} test "
               f"cases, {cases['unique_failures']} failures, {len(result['errors'])} errors, {seconds:.0f} s "
               f"(seed {SEED}, budget {BUDGET_SECONDS} s)")
    request.config.stash[FUZZ_FIGURES].append(figures)
    print(figures)

    # The fuzzer never got at its own app: the token still works (else the run tested only 401s).
    graph("GET", f"/applications/{me['id']}")
    assert done.returncode == 0, f"{figures}\n{done.stdout[-25000:]}\n{done.stderr[-5000:]}"
