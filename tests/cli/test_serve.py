"""The real `passgate serve` (gunicorn, several worker processes), started as a subprocess on a fresh database.

- Each worker process has its own database connection from its very first request: the master migrates and
  bootstraps, then forks, and no connection (or socket) it opened may be shared by the workers.
- Requests gunicorn itself refuses (too long, too many or too large headers, malformed) get Graph's JSON envelope
  under /v1.0 and /beta and a plain page elsewhere.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.processes import (
    cli,
    free_port,
    group_gone,
    on_postgres,
    passgate_env,
    port_is_free,
    scratch_database,
    started,
    stop,
    wait_for_output,
    wait_listening,
)

WORKERS = 4
CLIENTS = 16
REQUESTS = 240


def _request(port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def _cookies(headers: http.client.HTTPMessage) -> dict[str, str]:
    found = {}
    for line in headers.get_all("Set-Cookie") or []:
        name, _, rest = line.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def _token(port: int, app: dict[str, Any]) -> str:
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": app["appId"],
                                   "client_secret": app["clientSecret"],
                                   "scope": "https://graph.microsoft.com/.default"}).encode()
    status, _, body = _request(port, "POST", "/oauth2/v2.0/token", body=form,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, body[:2000]
    return str(json.loads(body)["access_token"])


def _tap_session(port: int, upn: str, tap: str) -> str:
    """Sign in with the first-start pass through the real form; the session cookie."""
    status, headers, body = _request(port, "GET", f"/signin/tap?upn={upn}")
    assert status == 200, body[:2000]
    csrf = _cookies(headers)["passgate_csrf"]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert token, body[:2000]
    form = urllib.parse.urlencode({"upn": upn, "tap": tap, "csrfmiddlewaretoken": token.group(1).decode()}).encode()
    status, headers, body = _request(port, "POST", "/signin/tap", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"passgate_csrf={csrf}"})
    assert status == 302 and headers["Location"].endswith("/security-info"), (status, body[:2000])
    return _cookies(headers)["passgate_session"]


def _backend_holders(database: str, serve_pid: int) -> tuple[dict[int, set[int]], set[int]]:
    """For every backend of ``database``: which processes of the server hold its client socket (by inode, from
    /proc); and the server's worker pids."""
    import psycopg

    with psycopg.connect(os.environ["PASSGATE_DATABASE_URL"], autocommit=True) as conn:
        ports = [row[0] for row in conn.execute(
            "SELECT client_port FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
            (database,))]
    assert ports and all(p and p > 0 for p in ports), f"expected TCP backends, got client ports {ports}"
    workers = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == serve_pid:
                workers.add(int(entry.name))
    inode_of_port: dict[int, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == 5432:
                inode_of_port[local_port] = fields[9]
    holders: dict[int, set[int]] = {port: set() for port in ports}
    for pid in {serve_pid, *workers}:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            links = {os.readlink(fd) for fd in fd_dir.iterdir()}
        except OSError:
            continue
        for port in ports:
            if f"socket:[{inode_of_port.get(port)}]" in links:
                holders[port].add(pid)
    return holders, workers


def test_serve_gives_each_worker_its_own_database_connection_from_the_first_request(tmp_path: Path) -> None:
    """Start the real server with several workers and hammer it at once with signed-in requests (Graph calls with
    a bearer token, pages with a pass session, token requests): every answer is right, and on PostgreSQL every
    backend belongs to exactly one worker (the master keeps none)."""
    port = free_port()
    with scratch_database(tmp_path, "serve") as database_url:
        env = passgate_env(tmp_path / "data", database_url)
        app = json.loads(cli(env, "apps", "add", "--name", "Hammer", "--permission", "User.Read.All", "--json"))
        log = tmp_path / "serve.log"
        with started(["serve", "--port", str(port), "--workers", str(WORKERS)], env, log) as proc:
            banner = wait_for_output(log, proc, "Passgate listening on")
            tap = re.search(r"Temporary Access Pass:\s+(\S+)", banner)
            assert tap, banner
            wait_listening(port, proc)

            token = _token(port, app)
            session = _tap_session(port, "admin@localhost", tap.group(1))

            def one(i: int) -> str | None:
                kind = ("graph", "page", "token")[i % 3]
                try:
                    if kind == "graph":
                        status, _, body = _request(port, "GET", "/v1.0/users?$select=userPrincipalName",
                                                   headers={"Authorization": f"Bearer {token}"})
                        ok = status == 200 and json.loads(body)["value"] == [{"userPrincipalName": "admin@localhost"}]
                    elif kind == "page":
                        status, _, body = _request(port, "GET", "/security-info",
                                                   headers={"Cookie": f"passgate_session={session}"})
                        ok = status == 200 and b"admin@localhost" in body and b"<h1>Security info</h1>" in body
                    else:
                        ok, status, body = bool(_token(port, app)), 200, b""
                except (AssertionError, OSError, ValueError, KeyError) as exc:
                    return f"{kind}: {type(exc).__name__}: {str(exc)[:300]}"
                return None if ok else f"{kind}: {status} {body[:300]!r}"

            with ThreadPoolExecutor(CLIENTS) as pool:
                errors = [e for e in pool.map(one, range(REQUESTS)) if e]
            assert not errors, f"{len(errors)} of {REQUESTS} requests failed, e.g. {Counter(errors).most_common(3)}"

            if on_postgres():
                holders, workers = _backend_holders(database_url.rsplit("/", 1)[1], proc.pid)
                assert len(workers) == WORKERS, workers
                shared = {port: pids for port, pids in holders.items() if len(pids) != 1 or proc.pid in pids}
                assert not shared, f"backends held by several processes or by the master {proc.pid}: {shared}"
                owners = Counter(next(iter(pids)) for pids in holders.values())
                assert set(owners) <= workers and max(owners.values()) == 1, owners
                assert len(owners) >= 2, f"the requests reached only {len(owners)} worker(s): {owners}"

            assert stop(proc, signal.SIGTERM) == 0, log.read_text()[-3000:]
            assert group_gone(proc) and port_is_free(port)


_FORK_SCRIPT = """
import os, sys
import django
django.setup()
from django.db import connections
from passgate.cli.server import detach_inherited_connections

conn = connections["default"]
backend = "SELECT pg_backend_pid()" if conn.vendor == "postgresql" else "SELECT 1"
with conn.cursor() as cursor:
    cursor.execute(backend)
    before = cursor.fetchone()
pid = os.fork()
if pid == 0:  # the "worker"
    code = 1
    try:
        if detach_inherited_connections() == ["default"] and conn.connection is None:
            with conn.cursor() as cursor:
                cursor.execute(backend)
                mine = cursor.fetchone()
            code = 0 if conn.vendor != "postgresql" or mine != before else 2
    finally:
        os._exit(code)
_, status = os.waitpid(pid, 0)
with conn.cursor() as cursor:
    cursor.execute(backend)
    parent_still = cursor.fetchone() == before
print(os.waitstatus_to_exitcode(status), parent_still)
"""


def test_a_new_worker_detaches_an_inherited_connection_without_ending_the_parents_session(tmp_path: Path) -> None:
    """The post-fork guard: should a worker ever inherit an open connection, it gets its own and the parent's
    session (on PostgreSQL: the same backend) keeps working. In a process of its own, as gunicorn's master is: the
    test process's state (an event loop a browser test left running changes where Django keeps connections) must
    not decide the outcome."""
    with scratch_database(tmp_path, "fork") as database_url:
        env = passgate_env(tmp_path / "data", database_url, DJANGO_SETTINGS_MODULE="passgate.config.settings")
        done = subprocess.run([sys.executable, "-c", _FORK_SCRIPT], env=env, capture_output=True, text=True,
                              check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True"], (done.stdout, done.stderr)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, str]]]:
    """A running `passgate serve` (2 workers, no trusted proxies) for tests that do not stop it: its port and
    environment (for the CLI)."""
    tmp_path = tmp_path_factory.mktemp("serving")
    port = free_port()
    with scratch_database(tmp_path, "serving") as database_url:
        env = passgate_env(tmp_path / "data", database_url)
        log = tmp_path / "serve.log"
        with started(["serve", "--port", str(port)], env, log) as proc:
            wait_for_output(log, proc, "Passgate listening on")
            wait_listening(port, proc)
            yield port, env


@pytest.fixture
def serving(served: tuple[int, dict[str, str]]) -> int:
    return served[0]


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as it is; the answer's status, headers (lower-case names) and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


LONG = "a" * 10_000
# The security headers every answer carries (docs/architecture.md, "Response headers"): an answer gunicorn makes
# itself must carry the same values as one that went through Passgate's middleware.
SECURITY_HEADERS = ("content-security-policy", "cache-control", "cross-origin-resource-policy", "x-frame-options",
                    "x-content-type-options", "referrer-policy", "cross-origin-opener-policy")


def _security_headers_as_passgate_gives_them(port: int, headers: dict[str, str]) -> None:
    _, ordinary, _ = _raw(port, b"GET /v1.0/users HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert {h: headers.get(h) for h in SECURITY_HEADERS} == {h: ordinary.get(h) for h in SECURITY_HEADERS}
    assert None not in (headers.get(h) for h in SECURITY_HEADERS)


@pytest.mark.parametrize(("request_bytes", "status"), [
    pytest.param(f"GET /v1.0/{LONG} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode(), 414, id="long-v1.0-path"),
    pytest.param(f"GET /beta/users?$filter={LONG} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode(), 414,
                 id="long-beta-query"),
    pytest.param(f"DELETE /v1.0 HTTP/1.1\r\nHost: localhost\r\nX-Big: {LONG}\r\n\r\n".encode(), 431,
                 id="large-header"),
    pytest.param(("GET /v1.0/users HTTP/1.1\r\nHost: localhost\r\n" + "".join(
        f"X-{i}: {i}\r\n" for i in range(150)) + "\r\n").encode(), 431, id="too-many-headers"),
    pytest.param(b"GET /v1.0/users HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n", 400, id="bad-header"),
    pytest.param(b"GET /v1.0/users HTTP/9.9\r\nHost: localhost\r\n\r\n", 400, id="bad-version"),
])
def test_requests_gunicorn_refuses_get_graphs_json_envelope_on_the_graph_api(serving: int, request_bytes: bytes,
                                                                             status: int) -> None:
    got, headers, body = _raw(serving, request_bytes)
    assert got == status, body[:500]
    assert headers["content-type"] == "application/json", body[:500]
    error = json.loads(body)["error"]
    assert error["code"] == "BadRequest" and error["message"]
    assert error["innerError"]["request-id"] == headers["request-id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", error["innerError"]["date"])
    _security_headers_as_passgate_gives_them(serving, headers)


@pytest.mark.parametrize(("request_bytes", "status", "words"), [
    pytest.param(f"GET /signin/{LONG} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode(), 414, b"URI Too Long",
                 id="long-path"),
    pytest.param(f"GET /v1.0{LONG} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode(), 414, b"URI Too Long",
                 id="not-graph-v1.0aaa"),
    pytest.param(f"GET / HTTP/1.1\r\nHost: localhost\r\nCookie: {LONG}\r\n\r\n".encode(), 431,
                 b"Request Header Fields Too Large", id="large-cookie"),
])
def test_requests_gunicorn_refuses_get_a_plain_page_elsewhere(serving: int, request_bytes: bytes, status: int,
                                                              words: bytes) -> None:
    got, headers, body = _raw(serving, request_bytes)
    assert got == status, body[:500]
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert words in body and b"<script" not in body
    _security_headers_as_passgate_gives_them(serving, headers)


def test_a_long_graph_path_within_the_limit_reaches_graph_and_gets_its_envelope(serving: int) -> None:
    got, headers, body = _raw(serving, f"GET /v1.0/{'a' * 8000} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    assert got == 401 and headers["content-type"] == "application/json", body[:500]
    assert json.loads(body)["error"]["code"] == "InvalidAuthenticationToken"


@pytest.mark.parametrize(("head", "graph"), [
    (b"GET /v1.0/users HTTP/1.1\r\nHost: x", True),
    (b"PATCH /beta?$top=1 HTTP/1.1", True),
    (b"GET /v1.0 HTTP/1.1", True),
    (b"GET http://id.example.com/v1.0/users HTTP/1.1", True),
    (b"GET /v1.0", True),  # a request line cut short by its length
    (b"GET /v1.00/users HTTP/1.1", False),
    (b"GET /signin?next=/v1.0/ HTTP/1.1", False),
    (b"GET /static/v1.0/x HTTP/1.1", False),
    (b"", False),
    (b"\xff\xfe garbage", False),
])
def test_which_refusals_are_for_the_graph_api(head: bytes, graph: bool) -> None:
    from passgate.cli.server import graph_target

    assert graph_target(head) is graph


PAST_CSRF = 400  # the wrong pass refused by the page: the request got past Django's CSRF check
CSRF_REFUSED = 403


def _tap_attempt(port: int, **headers: str) -> int:
    """A wrong pass through the real form, with a valid CSRF token but no Origin or Referer: the status."""
    status, got, body = _request(port, "GET", "/signin/tap?upn=nobody@contoso.com")
    assert status == 200, body[:500]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    assert token, body[:500]
    form = urllib.parse.urlencode({"upn": "nobody@contoso.com", "tap": "WRONG-PASS",
                                   "csrfmiddlewaretoken": token.group(1).decode()}).encode()
    status, _, body = _request(port, "POST", "/signin/tap", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Host": f"localhost:{port}",
        "Cookie": f"passgate_csrf={_cookies(got)['passgate_csrf']}", **headers})
    return status


def _last_tap_signin_address(env: dict[str, str]) -> str:
    events = json.loads(cli(env, "audit", "tail", "--category", "signIn", "--limit", "1", "--json"))
    assert events[-1]["activity"] == "tap.signIn", events
    return str(events[-1]["ipAddress"])


def test_without_trusted_proxies_serve_believes_no_forwarding_header(served: tuple[int, dict[str, str]]) -> None:
    """Not even from 127.0.0.1, which gunicorn believes by default: an https claim would make Django's CSRF check
    demand a Referer (403), and the forwarded address would be logged."""
    port, env = served
    assert _tap_attempt(port, **{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}) == PAST_CSRF
    assert _last_tap_signin_address(env) == "127.0.0.1"


def test_behind_a_trusted_proxy_serve_logs_the_client_and_its_scheme(tmp_path: Path) -> None:
    port = free_port()
    with scratch_database(tmp_path, "proxied") as database_url:
        env = passgate_env(tmp_path / "data", database_url, PASSGATE_TRUSTED_PROXIES="127.0.0.0/8, ::1")
        log = tmp_path / "serve.log"
        with started(["serve", "--port", str(port)], env, log) as proc:
            wait_for_output(log, proc, "Passgate listening on")
            wait_listening(port, proc)
            assert _tap_attempt(port, **{"X-Forwarded-For": "198.51.100.66, 203.0.113.9"}) == PAST_CSRF
            assert _last_tap_signin_address(env) == "203.0.113.9"
            assert _tap_attempt(port, **{"Forwarded": 'for="[2001:db8::7]:1234";proto=https'}) == CSRF_REFUSED
            # (https: Django's CSRF check wants a POST's Origin or Referer to be this https origin)
            assert _tap_attempt(port, **{"Forwarded": 'for="[2001:db8::7]:1234";proto=https',
                                         "Referer": f"http://localhost:{port}/signin/tap"}) == CSRF_REFUSED
            assert _tap_attempt(port, **{"Forwarded": 'for="[2001:db8::7]:1234";proto=https',
                                         "Referer": f"https://localhost:{port}/signin/tap"}) == PAST_CSRF
            assert _last_tap_signin_address(env) == "2001:db8::7"


def test_serve_refuses_to_start_with_a_malformed_trusted_proxy(tmp_path: Path) -> None:
    env = passgate_env(tmp_path / "data", f"sqlite:///{tmp_path}/never.sqlite3", PASSGATE_TRUSTED_PROXIES="10.0.0/8")
    done = subprocess.run([sys.executable, "-m", "passgate.cli", "serve", "--port", str(free_port())], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith("passgate: error: configuration: PASSGATE_TRUSTED_PROXIES: '10.0.0/8' is not")
    assert not (tmp_path / "never.sqlite3").exists()
