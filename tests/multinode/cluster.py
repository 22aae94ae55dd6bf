"""Two real Passgate nodes behind Debian's HAProxy, and a person doing WebAuthn ceremonies against them over HTTP.

Each node is its own ``passgate serve`` (its own process group, port and data directory) on one shared PostgreSQL
database, with the same ``PASSGATE_SECRET_KEY`` and the same public origin (HAProxy's). Nothing else is shared: a
node that kept state in its memory or in its data directory would fail these tests. HAProxy (started here with its
own configuration in the test's directory) checks each node's ``/readyz`` and names the node that answered in an
``X-Passgate-Node`` response header.

Redis is not configured: Passgate keeps no shared state there (challenges, sessions, throttles and policies all
live in the database; docs/operations.md, "Several nodes").
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.core.softauthn import SoftAuthenticator, client_data_json, unb64
from tests.processes import REAP_TIMEOUT, cli, free_port, passgate_env, reap, scratch_database, started

HAPROXY = "/usr/sbin/haproxy"
NODE_NAMES = ("a", "b")
GRAPH_PERMISSIONS = ("User.ReadWrite.All", "UserAuthenticationMethod.ReadWrite.All",
                     "Policy.ReadWrite.AuthenticationMethod", "Policy.ReadWrite.ConditionalAccess",
                     "User.RevokeSessions.All")
CHECK_INTERVAL_MS = 300  # HAProxy's health check period; two failures mark a node down


def haproxy_config(*, port: int, nodes: dict[str, int]) -> str:
    """The configuration docs/operations.md shows (ports and timeouts aside): round robin over the nodes, each
    health-checked on /readyz, a request that could not reach a node sent to the other one."""
    servers = "\n".join(f"    server {name} 127.0.0.1:{node_port} check" for name, node_port in nodes.items())
    return f"""global
    maxconn 512

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch 1
    option forwardfor

frontend passgate
    bind 127.0.0.1:{port}
    default_backend passgate_nodes

backend passgate_nodes
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    default-server inter {CHECK_INTERVAL_MS}ms fall 2 rise 2
    http-response set-header X-Passgate-Node %[srv_name]
{servers}
"""


@dataclass
class Node:
    name: str
    port: int
    proc: subprocess.Popen[str]
    env: dict[str, str]
    log: Path

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def workers(self) -> list[int]:
        """The pids of gunicorn's workers (the master's children)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []


@dataclass
class Cluster:
    origin: str  # HAProxy's address: the public origin every node is configured with
    nodes: dict[str, Node]
    database_url: str
    haproxy_log: Path
    graph_token: str = ""
    apps: dict[str, str] = field(default_factory=dict)

    @property
    def a(self) -> Node:
        return self.nodes["a"]

    @property
    def b(self) -> Node:
        return self.nodes["b"]

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the shared database directly (what is committed, whichever node wrote it)."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return list(conn.execute(query, params).fetchall())

    def cli(self, node: Node, *args: str) -> str:
        """``passgate ARGS`` run the way an administrator on that node would (its environment)."""
        return cli(node.env, *args)

    def graph(self, base: str, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{base}{path}", json=body, timeout=30,
                                headers={"Authorization": f"Bearer {self.graph_token}"})

    def new_user(self, base: str, nickname: str) -> dict[str, str]:
        """A user made through the Graph API on ``base``, with a Temporary Access Pass: {id, upn, tap}."""
        upn = f"{nickname}@contoso.com"
        made = self.graph(base, "POST", "/v1.0/users", {
            "accountEnabled": True, "displayName": nickname.title(), "mailNickname": nickname,
            "userPrincipalName": upn, "passwordProfile": {"password": secrets.token_urlsafe(16)}})
        assert made.status_code == 201, made.text
        user_id = made.json()["id"]
        tap = self.graph(base, "POST", f"/v1.0/users/{user_id}/authentication/temporaryAccessPassMethods",
                         {"lifetimeInMinutes": 60, "isUsableOnce": True})
        assert tap.status_code == 201, tap.text
        return {"id": user_id, "upn": upn, "tap": tap.json()["temporaryAccessPass"]}


class Person:
    """A person's browser without the browser: a cookie jar shared by every node (cookies ignore ports), the CSRF
    header Passgate's pages would send, and a software authenticator answering for ``origin``."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.rp_id = "localhost"
        self.http = requests.Session()
        self.passkeys: list[SoftAuthenticator] = []
        self.user_handle = b""

    def _csrf(self, base: str) -> str:
        token = self.http.cookies.get("passgate_csrf")
        if not token:
            page = self.http.get(f"{base}/signin", timeout=30)
            assert page.status_code == 200, page.text
            token = self.http.cookies.get("passgate_csrf")
        assert token, "no CSRF cookie from /signin"
        return str(token)

    def post_json(self, base: str, path: str, body: Any, timeout: float = 30) -> requests.Response:
        return self.http.post(f"{base}{path}", data=json.dumps(body), timeout=timeout,
                              headers={"Content-Type": "application/json", "X-CSRFToken": self._csrf(base)})

    def tap_sign_in(self, base: str, upn: str, tap: str) -> requests.Response:
        answer = self.http.post(f"{base}/signin/tap", data={"upn": upn, "tap": tap}, timeout=30,
                                headers={"X-CSRFToken": self._csrf(base)}, allow_redirects=False)
        assert answer.status_code == 302, answer.text
        return answer

    def register(self, options_base: str, verify_base: str | None = None, *, name: str = "Key",
                 timeout: float = 30) -> tuple[requests.Response, SoftAuthenticator | None]:
        """Add a passkey (Security info): options from one node, the answer to ``verify_base`` (the same by
        default). The response of the verify step, and the new authenticator (None if options were refused)."""
        options = self.post_json(options_base, "/security-info/passkeys/options", {}, timeout=timeout)
        if options.status_code != 200:
            return options, None
        public_key = options.json()["publicKey"]
        auth = SoftAuthenticator(credential_id=secrets.token_bytes(32), user_handle=unb64(public_key["user"]["id"]))
        challenge = unb64(public_key["challenge"])
        credential = auth.register(challenge=challenge, auth_data=auth.registration_auth_data(rp_id=self.rp_id),
                                   client_data=client_data_json(type="webauthn.create", challenge=challenge,
                                                                origin=self.origin))
        verified = self.post_json(verify_base or options_base, "/security-info/passkeys/verify",
                                  {"credential": credential, "name": name}, timeout=timeout)
        if verified.status_code == 200:
            self.passkeys.append(auth)
        return verified, auth

    def sign_in(self, options_base: str, verify_base: str | None = None, *, auth: SoftAuthenticator | None = None,
                timeout: float = 30) -> requests.Response:
        """Username-less passkey sign-in: options from one node, the assertion to ``verify_base``."""
        auth = auth or self.passkeys[0]
        options = self.post_json(options_base, "/signin/passkey/options", {}, timeout=timeout)
        if options.status_code != 200:
            return options
        challenge = unb64(options.json()["publicKey"]["challenge"])
        auth.sign_count += 1
        credential = auth.assert_(challenge=challenge,
                                  auth_data=auth.assertion_auth_data(rp_id=self.rp_id),
                                  client_data=client_data_json(type="webauthn.get", challenge=challenge,
                                                               origin=self.origin))
        return self.post_json(verify_base or options_base, "/signin/passkey/verify", {"credential": credential},
                              timeout=timeout)

    def signed_in(self, base: str) -> bool:
        """Whether ``base`` sees this browser signed in (Security info answers, rather than sending to /signin)."""
        page = self.http.get(f"{base}/security-info", timeout=30, allow_redirects=False)
        assert page.status_code in (200, 302), page.text
        return page.status_code == 200


def wait_ready(node: Node, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{node.url}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert node.proc.poll() is None, f"node {node.name} exited ({node.proc.returncode}):\n{node.log.read_text()}"
        assert time.monotonic() < deadline, f"node {node.name} never became ready:\n{node.log.read_text()}"
        time.sleep(0.1)


def balancer_nodes(origin: str, tries: int = 40) -> set[str]:
    """Which nodes HAProxy hands requests to (X-Passgate-Node), over ``tries`` new connections."""
    seen = set()
    for _ in range(tries):
        with contextlib.suppress(requests.RequestException):
            seen.add(requests.get(f"{origin}/healthz", headers={"Connection": "close"}, timeout=2)
                     .headers.get("X-Passgate-Node", ""))
    return seen - {""}


@contextlib.contextmanager
def haproxy(tmp_path: Path, *, port: int, nodes: dict[str, int]) -> Iterator[subprocess.Popen[bytes]]:
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(port=port, nodes=nodes))
    checked = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    log = tmp_path / "haproxy.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([HAPROXY, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=REAP_TIMEOUT)


@contextlib.contextmanager
def cluster(tmp_path: Path, *, workers: int = 2) -> Iterator[Cluster]:
    """Two nodes started at the same moment on one fresh database (both run migrations and the first-start
    bootstrap concurrently, as two servers booting together would), HAProxy in front; all reaped afterwards."""
    front = free_port()
    origin = f"http://localhost:{front}"
    secret = secrets.token_urlsafe(48)
    with scratch_database(tmp_path, "nodes") as database_url, contextlib.ExitStack() as stack:
        nodes: dict[str, Node] = {}
        for name in NODE_NAMES:
            port = free_port()
            env = passgate_env(tmp_path / f"data-{name}", database_url, PASSGATE_ORIGIN=origin,
                               PASSGATE_SECRET_KEY=secret, PASSGATE_TRUSTED_PROXIES="127.0.0.1/32")
            log = tmp_path / f"node-{name}.log"
            proc = stack.enter_context(started(["serve", "--port", str(port), "--workers", str(workers)], env, log))
            nodes[name] = Node(name=name, port=port, proc=proc, env=env, log=log)
        for node in nodes.values():
            wait_ready(node)
        stack.enter_context(haproxy(tmp_path, port=front, nodes={n.name: n.port for n in nodes.values()}))
        haproxy_log = tmp_path / "haproxy.log"
        deadline = time.monotonic() + 30
        while balancer_nodes(origin, tries=6) != set(NODE_NAMES):
            assert time.monotonic() < deadline, f"HAProxy never sent to both nodes:\n{haproxy_log.read_text()}"
            time.sleep(0.2)
        running = Cluster(origin=origin, nodes=nodes, database_url=database_url,
                          haproxy_log=haproxy_log)
        added = running.cli(running.a, "apps", "add", "--name", "Operations",
                            *[arg for p in GRAPH_PERMISSIONS for arg in ("--permission", p)])
        app_id = re.search(r"Application \(client\) ID:\s+(\S+)", added)
        secret_value = re.search(r"Client secret:\s+(\S+)", added)
        assert app_id and secret_value, added
        running.apps = {"client_id": app_id.group(1), "client_secret": secret_value.group(1)}
        running.graph_token = graph_token(running.b.url, running.apps)
        yield running


def graph_token(base: str, app: dict[str, str]) -> str:
    answer = requests.post(f"{base}/contoso.onmicrosoft.com/oauth2/v2.0/token", timeout=30, data={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": "https://graph.microsoft.com/.default"})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def jwt_header(token: str) -> dict[str, Any]:
    return dict(json.loads(unb64(token.split(".", 1)[0])))


def kill_group(node: Node) -> None:
    """SIGKILL the node's whole process group (gunicorn's master and workers) and wait for the master."""
    reap(node.proc)
