"""Benchmark: passkey sign-in and OpenID Connect flows over real HTTP, per core (issue 11's yardstick).

A real ``passgate serve`` (gunicorn, one sync worker) pinned to CPU 0, its database seeded through Passgate's own
services (N people, each with a passkey registered through a full WebAuthn registration), and a driver pinned to
CPU 1: threads, each flow a fresh browser (no cookies), speaking HTTP/1.1 with the standard library, doing what
``webauthn.js`` does. Flows:

- ``signin``: ``GET /signin`` (CSRF token), ``POST /signin/passkey/options``, the assertion (a software
  authenticator, outside the server's time), ``POST /signin/passkey/verify``, ``GET`` the signed-in page;
- ``oidc``: ``GET /oidc/authorize`` (code + PKCE S256, a confidential client) → the sign-in above with ``next`` →
  the code at the redirect URI → ``POST /oidc/token`` (client_secret_basic), the ID token's nonce and subject
  checked.

Prints, per database, flow and concurrency: flows/s, p50 and p99 of a flow, errors; then SQL statements and commits
per flow (counted in process, through Django's whole stack with the same requests: every statement Django sends;
commits = outermost atomic blocks + writes in autocommit); and the ceilings of the same run, requests/s at the same
concurrency: ``/healthz`` (answered before the middleware stack) and the sign-in page (the whole stack).

    python benchmarks/http_flows.py [--db sqlite postgres] [--flows signin oidc] [--concurrency 1 8]
        [--duration 10] [--users 200] [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Not a test: figures go to docs/benchmarks.md. A quiet machine gives steadier figures (this machine drifts 20-40 %
over minutes: compare ratios from one run, as the shared side-by-side harness does).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "passgate_bench_http"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
REDIRECT_URI = "http://127.0.0.1:9/callback"  # never contacted: the driver reads the code from the Location
WRITES = ("INSERT", "UPDATE", "DELETE")
COUNT_RUNS = 3  # in-process runs of each flow before the count's figures (the last run's)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the people's authenticators -----------------------------------------------------------------------------

class Person:
    """One seeded person's passkey: ES256 key, credential id, user handle, counter (a device-bound key)."""

    def __init__(self, data: dict[str, Any]) -> None:
        from cryptography.hazmat.primitives import serialization

        self.upn = data["upn"]
        self.object_id = data["id"]
        self.credential_id = unb64(data["credentialId"])
        self.user_handle = unb64(data["userHandle"])
        self.key = serialization.load_pem_private_key(data["privateKey"].encode(), password=None)
        self.sign_count = data["signCount"]
        self.lock = threading.Lock()

    def assertion(self, challenge: str, origin: str, rp_id: str) -> dict[str, Any]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        with self.lock:
            self.sign_count += 1
            count = self.sign_count
        client_data = json.dumps({"type": "webauthn.get", "challenge": challenge, "origin": origin,
                                  "crossOrigin": False}, separators=(",", ":")).encode()
        auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([0x05]) + count.to_bytes(4, "big")  # UP|UV
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),  # type: ignore[union-attr,call-arg]
                                  ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
        return {"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64(client_data), "authenticatorData": b64(auth_data),
                             "signature": b64(signature), "userHandle": b64(self.user_handle)},
                "clientExtensionResults": {}, "authenticatorAttachment": "cross-platform"}


# --- seeding and counting (a subprocess with Django) ---------------------------------------------------------

def seed(users: int, origin: str) -> dict[str, Any]:
    """Runs with Django: migrate, N people with a registered passkey, a confidential OpenID Connect app."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passgate.config.settings")
    import django

    django.setup()
    from cryptography.hazmat.primitives import serialization
    from django.core.management import call_command

    from passgate.audit.services import Actor
    from passgate.credentials.models import Passkey
    from passgate.credentials.services import passkey_registration_begin, passkey_registration_complete
    from passgate.directory.services import user_create
    from tests.core import softauthn

    call_command("migrate", verbosity=0)
    rp_id = str(urlsplit(origin).hostname)
    people = []
    for n in range(users):
        user = user_create(upn=f"bench{n}@contoso.com", display_name=f"Bench {n}", actor=Actor.system("bench"))
        key = softauthn.es256_key()
        auth = softauthn.SoftAuthenticator(key=key, credential_id=secrets.token_bytes(32), backup_eligible=False,
                                           user_handle=bytes(user.webauthn_user_handle))
        options = passkey_registration_begin(user=user, session_key=f"seed-{n:06d}-0123456789abcdef")
        challenge = unb64(options["challenge"])
        credential = auth.register(challenge=challenge, client_data=softauthn.client_data_json(
            type="webauthn.create", challenge=challenge, origin=origin),
            auth_data=auth.registration_auth_data(rp_id=rp_id))
        passkey_registration_complete(user=user, session_key=f"seed-{n:06d}-0123456789abcdef",
                                      credential=credential, display_name="Bench key")
        assert Passkey.objects.filter(user=user).count() == 1
        pem = key.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
        people.append({"upn": user.user_principal_name, "id": str(user.id), "credentialId": b64(auth.credential_id),
                       "userHandle": b64(bytes(user.webauthn_user_handle)), "privateKey": pem, "signCount": 0})
    app = json.loads(subprocess.run([sys.executable, "-m", "passgate.cli", "apps", "add", "--name", "Bench app",
                                     "--redirect-uri", REDIRECT_URI, "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    return {"people": people, "clientId": app["appId"], "clientSecret": app["clientSecret"]}


def count(flows: list[str], seeded: dict[str, Any], origin: str) -> dict[str, dict[str, int]]:
    """Statements and commits per flow, in process, through Django's whole stack (the third run of each flow: what
    every later one costs)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passgate.config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    host = urlsplit(origin).netloc
    seen: dict[str, int] = {"statements": 0, "commits": 0}

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen["statements"] += 1
        if sql.lstrip().upper().startswith(WRITES) and connection.get_autocommit() and not connection.in_atomic_block:
            seen["commits"] += 1
        return execute(sql, params, many, context)

    real_commit = connection._commit

    def counting_commit() -> Any:
        seen["commits"] += 1
        return real_commit()

    class InProcess:
        """The driver's transport over django.test.Client (cookies kept by the client)."""

        def __init__(self) -> None:
            self.client = Client(enforce_csrf_checks=True, HTTP_HOST=host)

        def backchannel(self) -> InProcess:
            return InProcess()

        def request(self, method: str, path: str, body: bytes | None = None,
                    headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
            extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()
                     if k.lower() != "content-type"}
            content_type = (headers or {}).get("Content-Type", "application/octet-stream")
            if method == "GET":
                response = self.client.get(path, **extra)
            else:
                response = self.client.post(path, data=body or b"", content_type=content_type, **extra)
            return response.status_code, {k.lower(): v for k, v in response.items()}, response.content

    people = [Person(p) for p in seeded["people"]]
    result = {}
    for flow in flows:
        for attempt in range(COUNT_RUNS):  # the last counts: caches warm, the signing keys made
            seen.update(statements=0, commits=0)
            connection._commit = counting_commit  # type: ignore[method-assign]
            try:
                with connection.execute_wrapper(wrapper):
                    FLOWS[flow](InProcess(), people[attempt], origin, seeded)
            finally:
                connection._commit = real_commit  # type: ignore[method-assign]
        result[flow] = dict(seen)
    return result


# --- the flows ---------------------------------------------------------------------------------------------

class Browser:
    """A fresh browser: HTTP/1.1 over a new connection per request (gunicorn's sync worker closes it), its cookies."""

    def __init__(self, origin: str) -> None:
        parts = urlsplit(origin)
        self.host, self.port, self.cookies = str(parts.hostname), int(parts.port or 80), {}  # type: ignore[var-annotated]
        self.origin = origin

    def backchannel(self) -> Browser:
        """The relying party's own connection (the token request): none of the browser's cookies."""
        return Browser(self.origin)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": urlsplit(self.origin).netloc, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            content = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, val = cookie.partition("=")
                    if val in ("", '""'):
                        self.cookies.pop(key.strip(), None)
                    else:
                        self.cookies[key.strip()] = val
            return response.status, {k.lower(): v for k, v in response.getheaders()}, content
        finally:
            connection.close()


Transport = Any


def passkey_signin(browser: Transport, person: Person, origin: str, next_path: str | None = None) -> str:
    """The sign-in page, options, assertion, verify: where the page sends the person next."""
    page = "/signin" + (f"?{urlencode({'next': next_path})}" if next_path else "")
    status, _, content = browser.request("GET", page)
    assert status == 200, (status, content[:300])
    found = CSRF_META.search(content.decode())
    assert found, "no CSRF token on the sign-in page"
    headers = {"Content-Type": "application/json", "X-CSRFToken": found.group(1), "Origin": origin,
               "Referer": origin + page}
    status, _, content = browser.request("POST", "/signin/passkey/options", b"{}", headers)
    assert status == 200, (status, content[:300])
    public_key = json.loads(content)["publicKey"]
    credential = person.assertion(public_key["challenge"], origin, public_key.get("rpId") or urlsplit(origin).hostname)
    verify = "/signin/passkey/verify" + (f"?{urlencode({'next': next_path})}" if next_path else "")
    status, _, content = browser.request("POST", verify, json.dumps({"credential": credential}).encode(), headers)
    assert status == 200, (status, content[:300])
    return str(json.loads(content).get("redirect") or "/")


def signin_flow(browser: Transport, person: Person, origin: str, seeded: dict[str, Any]) -> None:
    target = passkey_signin(browser, person, origin)
    status, headers, content = browser.request("GET", target)
    assert status == 200, (status, headers.get("location"), content[:300])


def oidc_flow(browser: Transport, person: Person, origin: str, seeded: dict[str, Any]) -> None:
    verifier, state, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = urlencode({"client_id": seeded["clientId"], "redirect_uri": REDIRECT_URI, "response_type": "code",
                       "scope": "openid profile", "state": state, "nonce": nonce, "code_challenge_method": "S256",
                       "code_challenge": b64(hashlib.sha256(verifier.encode()).digest())})
    status, headers, _ = browser.request("GET", f"/oidc/authorize?{query}")
    assert status == 302, status
    location = urlsplit(headers["location"])
    next_path = parse_qs(location.query)["next"][0]
    target = passkey_signin(browser, person, origin, next_path)
    status, headers, content = browser.request("GET", target)
    assert status == 302 and headers["location"].startswith(REDIRECT_URI), (status, content[:300])
    answer = parse_qs(urlsplit(headers["location"]).query)
    assert answer["state"] == [state]
    basic = base64.b64encode(f"{seeded['clientId']}:{seeded['clientSecret']}".encode()).decode()
    body = urlencode({"grant_type": "authorization_code", "code": answer["code"][0], "redirect_uri": REDIRECT_URI,
                      "code_verifier": verifier}).encode()
    status, _, content = browser.backchannel().request("POST", "/oidc/token", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"})
    assert status == 200, (status, content[:300])
    claims = json.loads(unb64(json.loads(content)["id_token"].split(".")[1]))
    assert claims["nonce"] == nonce and claims["sub"], claims


FLOWS: dict[str, Callable[[Transport, Person, str, dict[str, Any]], None]] = {
    "signin": signin_flow, "oidc": oidc_flow}


def drive(flow: str, origin: str, people: list[Person], seeded: dict[str, Any], *, concurrency: int,
          duration: float) -> dict[str, Any]:
    durations: list[float] = []
    errors: list[str] = []
    stop_at = time.monotonic() + duration
    lock = threading.Lock()
    picker = iter(range(10**9))

    def worker() -> None:
        while time.monotonic() < stop_at:
            with lock:
                person = people[next(picker) % len(people)]
            started = time.perf_counter()
            try:
                FLOWS[flow](Browser(origin), person, origin, seeded)
            except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
                with lock:
                    errors.append(repr(exc)[:200])
                continue
            with lock:
                durations.append(time.perf_counter() - started)

    elapsed = _run_threads(worker, concurrency)
    ms = sorted(d * 1000 for d in durations) or [float("nan")]
    return {"flows_per_second": len(durations) / elapsed, "p50_ms": statistics.median(ms),
            "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))], "flows": len(durations), "errors": len(errors),
            "first_error": errors[0] if errors else None}


def ceiling(origin: str, path: str, concurrency: int, duration: float) -> float:
    done = [0]
    stop_at = time.monotonic() + duration
    lock = threading.Lock()

    def worker() -> None:
        browser = Browser(origin)
        while time.monotonic() < stop_at:
            status, _, _ = browser.request("GET", path)
            if status == 200:
                with lock:
                    done[0] += 1

    elapsed = _run_threads(worker, concurrency)  # before reading done: it counts while the threads run
    return done[0] / elapsed


def _run_threads(worker: Callable[[], None], concurrency: int) -> float:
    """Run ``concurrency`` copies of ``worker`` at once; the seconds until the last one ends."""
    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began


# --- orchestration -------------------------------------------------------------------------------------------

def run(db: str, args: argparse.Namespace) -> None:
    from tests.processes import free_port, passgate_env, started, wait_listening

    with tempfile.TemporaryDirectory(prefix="passgate-http-bench-") as work_dir:
        work = Path(work_dir)
        database_url = f"sqlite:///{work}/bench.sqlite3"
        if db == "postgres":
            import psycopg

            with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
                conn.execute(f"CREATE DATABASE {BENCH_DB}")
            database_url = args.postgres_url.rsplit("/", 1)[0] + "/" + BENCH_DB
        port = free_port()
        origin = f"http://localhost:{port}"
        env = {**passgate_env(work / "data", database_url), "PASSGATE_ORIGIN": origin, "PYTHONPATH": str(ROOT)}
        seeded = json.loads(_child(env, "--seed", str(args.users), origin))
        counts = json.loads(_child(env, "--count", json.dumps(args.flows), origin, json.dumps(seeded)))
        people = [Person(p) for p in seeded["people"]]
        for person in people[:COUNT_RUNS]:
            person.sign_count += 10  # the in-process count signed in with these: stay ahead of it
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        server_cpu, driver_cpus = (cpus[0], set(cpus[1:]) or {cpus[0]}) if cpus else (None, None)
        argv = ["serve", "--port", str(port), "--workers", "1"]
        with started(argv, env, work / "serve.log") as proc:
            wait_listening(port, proc, timeout=120)
            if server_cpu is not None:
                subprocess.run(["taskset", "-a", "-p", "-c", str(server_cpu), str(proc.pid)],  # noqa: S607
                               check=False, capture_output=True)
                for child in _children(proc.pid):
                    subprocess.run(["taskset", "-a", "-p", "-c", str(server_cpu), str(child)],  # noqa: S607
                                   check=False, capture_output=True)
                os.sched_setaffinity(0, driver_cpus)
            for flow in args.flows:
                drive(flow, origin, people, seeded, concurrency=2, duration=2.0)  # warm-up
                for concurrency in args.concurrency:
                    got = drive(flow, origin, people, seeded, concurrency=concurrency, duration=args.duration)
                    print(f"{db} {flow:6} c={concurrency}: {got['flows_per_second']:7.1f} flows/s, "
                          f"p50 {got['p50_ms']:6.1f} ms, p99 {got['p99_ms']:6.1f} ms, {got['flows']} flows, "
                          f"{got['errors']} errors" + (f" (first: {got['first_error']})" if got["errors"] else ""),
                          flush=True)
                print(f"{db} {flow:6} per flow: {counts[flow]['statements']} SQL statements, "
                      f"{counts[flow]['commits']} commits", flush=True)
            for concurrency in args.concurrency:
                for path, what in (("/healthz", "/healthz (answered before the middleware stack)"),
                                   ("/signin", "the sign-in page (the whole middleware stack, a template)")):
                    rate = ceiling(origin, path, concurrency, min(args.duration, 5))
                    print(f"{db} ceiling c={concurrency}: {rate:7.0f} requests/s of {what}", flush=True)
        if db == "postgres":
            import psycopg

            with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,  # noqa: S607
                           check=False).stdout.split()
    return [int(p) for p in found] + [g for p in found for g in _children(int(p))]


def _child(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run([sys.executable, __file__, *argv], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--seed":
        print(json.dumps(seed(int(sys.argv[2]), sys.argv[3])))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--count":
        print(json.dumps(count(json.loads(sys.argv[2]), json.loads(sys.argv[4]), sys.argv[3])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", nargs="+", default=["sqlite"], choices=["sqlite", "postgres"])
    parser.add_argument("--flows", nargs="+", default=["signin", "oidc"], choices=sorted(FLOWS))
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per flow and concurrency")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    for db in args.db:
        run(db, args)


if __name__ == "__main__":
    main()
