"""Benchmark: in-process passkey sign-in verifications per second on one core.

Each sign-in is what the server does for one person: issue options (a challenge row), then verify the
assertion (consume the challenge, load the passkey and its user, verify the signature, move the counter,
write the audit row). The software authenticator's signing is done outside the timed sections. The bare
ECDSA P-256 verify rate is measured in the same run, for comparison.

    python benchmarks/signin.py [--iterations 2000] [--db sqlite postgres]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Prints one line per database. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "passgate_bench"


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def bare_ecdsa_rate(seconds: float = 1.0) -> float:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    data = os.urandom(64)
    sig = key.sign(data, ec.ECDSA(hashes.SHA256()))
    pub = key.public_key()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            pub.verify(sig, data, ec.ECDSA(hashes.SHA256()))
        n += 200
    return n / (time.perf_counter() - start)


def worker(iterations: int) -> dict[str, float | int | str]:
    """Runs inside a subprocess whose environment names the database."""
    pin_to_one_core()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passgate.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from passgate.audit.models import AuditEvent
    from passgate.audit.services import Actor
    from passgate.credentials import services
    from passgate.directory.services import user_create
    from tests.core.softauthn import SoftAuthenticator, unb64

    user = user_create(upn="bench@contoso.com", display_name="Bench", actor=Actor.system("bench"))
    auth = SoftAuthenticator(user_handle=bytes(user.webauthn_user_handle), backup_eligible=False,
                             credential_id=os.urandom(32))
    session_key = "bench-session-0123456789abcdef"
    options = services.passkey_registration_begin(user=user, session_key=session_key)
    services.passkey_registration_complete(
        user=user, session_key=session_key, display_name="Bench key",
        credential=auth.register(challenge=unb64(options["challenge"])),
    )

    def one_sign_in() -> float:
        t0 = time.perf_counter()
        opts = services.passkey_signin_begin(session_key=session_key)
        t1 = time.perf_counter()
        auth.sign_count += 1
        assertion = auth.assert_(challenge=unb64(opts["challenge"]))
        t2 = time.perf_counter()
        services.passkey_signin_complete(session_key=session_key, credential=assertion)
        return (t1 - t0) + (time.perf_counter() - t2)

    for _ in range(min(200, iterations)):  # warm-up: caches, connection, JIT-free but page cache
        one_sign_in()
    server_seconds = sum(one_sign_in() for _ in range(iterations))
    audited = AuditEvent.objects.filter(activity="passkey.signIn", result="success").count()
    return {
        "vendor": connection.vendor,
        "iterations": iterations,
        "signins_per_second": iterations / server_seconds,
        "ms_per_signin": 1000 * server_seconds / iterations,
        "audit_rows": audited,
        "ecdsa_p256_verify_per_second": bare_ecdsa_rate(),
    }


def run(db: str, iterations: int, postgres_url: str) -> dict[str, float | int | str]:
    env = dict(os.environ)
    data_dir = tempfile.mkdtemp(prefix="passgate-bench-")
    env.update(PASSGATE_DATA_DIR=data_dir, PASSGATE_ORIGIN="https://login.example.com",
               PASSGATE_RP_ID="login.example.com", PYTHONPATH=str(ROOT))
    if db == "postgres":
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
        env["PASSGATE_DATABASE_URL"] = postgres_url.rsplit("/", 1)[0] + "/" + BENCH_DB
    else:
        env["PASSGATE_DATABASE_URL"] = f"sqlite:///{data_dir}/bench.sqlite3"
    out = subprocess.run([sys.executable, __file__, "--worker", "--iterations", str(iterations)],
                         env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{db} benchmark failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.iterations)))
        return
    print(f"passkey sign-ins, in-process, one core, {args.iterations} iterations each")
    for db in args.db:
        r = run(db, args.iterations, args.postgres_url)
        print(f"{r['vendor']:<10} {r['signins_per_second']:8.0f} sign-ins/s  ({r['ms_per_signin']:.2f} ms each; "
              f"options + verify + counter + audit)   bare ECDSA P-256 verify: "
              f"{r['ecdsa_p256_verify_per_second']:,.0f}/s   audit rows: {r['audit_rows']}")


if __name__ == "__main__":
    main()
