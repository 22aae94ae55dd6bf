"""Benchmark: full OpenID Connect code flows per second, in-process on one core, with Conditional Access evaluated.

Each flow is what an app and a signed-in browser cost the server: GET /oidc/authorize (PKCE S256; the session's
authentication record read, N Conditional Access policies and the strengths loaded and evaluated, a sign-in log
row and an audit row written, the code stored) then POST /oidc/token (client_secret_basic, the code consumed,
ES256 ID token and opaque access token issued). Through Django's whole request stack (middleware, sessions,
CSRF exemptions), with django.test.Client. Also: evaluate_access alone for those N policies.

    python benchmarks/oidc_flow.py [--iterations 500] [--policies 20] [--db sqlite postgres]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Prints one line per database. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "passgate_bench_oidc"
HOST = "login.example.com"
REDIRECT = "https://rp.example.org/callback"


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def worker(iterations: int, policies: int) -> dict[str, float | int | str]:  # noqa: PLR0915 - one scenario
    pin_to_one_core()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passgate.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from passgate.access.selectors import ca_policies, strengths
    from passgate.access.services import ca_policy_create
    from passgate.apps.services import OidcRegistration, app_create
    from passgate.audit.models import SignInEvent
    from passgate.audit.services import Actor
    from passgate.core.access import (
        AccessRequest,
        Authentication,
        AuthMethodMode,
        MethodUse,
        authentication_to_json,
        evaluate_access,
    )
    from passgate.credentials.models import Passkey
    from passgate.directory.services import group_create, user_create
    from passgate.web import session as web_session

    actor = Actor.system("bench")
    user = user_create(upn="bench@contoso.com", display_name="Bench", actor=actor)
    # The passkey the session below says it used (without one, isRegistrationRequired asks for one before the code)
    Passkey.objects.create(user=user, credential_id=secrets.token_bytes(32), public_key=b"\xa5", algorithm=-7,
                           aaguid="cb69481e-8ff7-4039-93ec-0a2729a154a8", attestation_format="none",
                           transports=["usb"], backup_eligible=False, backup_state=False, uv_initialized=True,
                           display_name="Security key", attestation_object=b"", client_data_json=b"",
                           created_at=timezone.now())
    app, secret = app_create(display_name="Bench RP", permissions=[], actor=actor,
                             oidc=OidcRegistration(redirect_uris=(REDIRECT,)))
    client_id = str(app.app_id)
    others = [str(group_create(display_name=f"Group {n}", actor=actor).pk) for n in range(5)]
    for n in range(policies):  # realistic noise: most policies are about other groups or apps; one applies
        applies = n == 0
        ca_policy_create(body={
            "displayName": f"Policy {n}", "state": "enabled" if n % 3 else "enabledForReportingButNotEnforced",
            "conditions": {"users": {"includeUsers": ["All"]} if applies else {"includeGroups": [others[n % 5]]},
                           "applications": {"includeApplications": [client_id if applies else "All"]}},
            "grantControls": {"operator": "OR", "authenticationStrength": {
                "id": "00000000-0000-0000-0000-000000000004"}}}, actor=actor)

    browser = Client(HTTP_HOST=HOST)
    browser.force_login(user, backend="passgate.directory.backends.DirectoryBackend")
    s = browser.session
    now = timezone.now()
    s[web_session.AUTH_TIME] = s[web_session.LAST_SEEN] = now.isoformat()
    s[web_session.METHOD] = "passkey"
    auth = Authentication(user_id=str(user.pk), methods=(
        MethodUse(AuthMethodMode.FIDO2, now, aaguid="cb69481e-8ff7-4039-93ec-0a2729a154a8", device_bound=True),))
    s[web_session.AUTHENTICATION] = authentication_to_json(auth)
    s.save()
    app_client = Client(HTTP_HOST=HOST)
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    def one_flow() -> None:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        response = browser.get("/oidc/authorize", {
            "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "scope": "openid profile",
            "state": "s", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256"}, secure=True)
        location = response["Location"]
        if "code=" not in location:
            raise SystemExit(f"no code: {location}")
        code = location.split("code=")[1].split("&")[0]
        form = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                          "code_verifier": verifier})
        token = app_client.post("/oidc/token", form, content_type="application/x-www-form-urlencoded",
                                HTTP_AUTHORIZATION=basic, secure=True)
        if token.status_code != 200:
            raise SystemExit(f"token: {token.status_code} {token.content[:300]!r}")

    for _ in range(min(50, iterations)):
        one_flow()
    start = time.perf_counter()
    for _ in range(iterations):
        one_flow()
    elapsed = time.perf_counter() - start

    known = strengths()
    loaded = ca_policies()
    request = AccessRequest(user_id=str(user.pk), group_ids=frozenset(), role_template_ids=frozenset(),
                            application_id=client_id)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 1.0:
        evaluate_access(loaded, request, auth, strengths=known)
        n += 1
    return {
        "vendor": connection.vendor, "iterations": iterations, "policies": policies,
        "flows_per_second": iterations / elapsed, "ms_per_flow": 1000 * elapsed / iterations,
        "evaluate_access_us": 1e6 * (time.perf_counter() - t0) / n,
        "signin_rows": SignInEvent.objects.count(),
    }


def run(db: str, iterations: int, policies: int, postgres_url: str) -> dict[str, float | int | str]:
    env = dict(os.environ)
    data_dir = tempfile.mkdtemp(prefix="passgate-bench-")
    env.update(PASSGATE_DATA_DIR=data_dir, PASSGATE_ORIGIN=f"https://{HOST}", PASSGATE_RP_ID=HOST,
               PYTHONPATH=str(ROOT))
    if db == "postgres":
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
        env["PASSGATE_DATABASE_URL"] = postgres_url.rsplit("/", 1)[0] + "/" + BENCH_DB
    else:
        env["PASSGATE_DATABASE_URL"] = f"sqlite:///{data_dir}/bench.sqlite3"
    out = subprocess.run([sys.executable, __file__, "--worker", "--iterations", str(iterations), "--policies",
                          str(policies)], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{db} benchmark failed:\n{out.stderr[-3000:]}{out.stdout[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--policies", type=int, default=20)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.iterations, args.policies)))
        return
    print(f"OpenID Connect code flows (authorize + token), in-process, one core, {args.iterations} flows each, "
          f"{args.policies} Conditional Access policies")
    for db in args.db:
        r = run(db, args.iterations, args.policies, args.postgres_url)
        print(f"{r['vendor']:<10} {r['flows_per_second']:7.0f} flows/s  ({r['ms_per_flow']:.2f} ms each)   "
              f"evaluate_access alone: {r['evaluate_access_us']:.0f} µs   sign-in log rows: {r['signin_rows']}")


if __name__ == "__main__":
    main()
