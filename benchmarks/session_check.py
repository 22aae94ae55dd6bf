"""Benchmark: what the per-request session check costs (revocation timestamp, methods the session proved).

A signed-in browser (django.test.Client against the real middleware stack) requests ``/healthz`` N times, first
with a session whose record names the passkey it signed in with (the middleware looks that id up: one query), then
with the same session's method ids removed (no look-up; what sessions recorded before method ids were). Prints SQL
statements per request and milliseconds per request for both, for each database.

    python benchmarks/session_check.py [--requests 2000] [--db sqlite postgres]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]

Not a test: figures go to docs/benchmarks.md.
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "passgate_bench_sessions"


def worker(requests: int) -> dict[str, float | int | str]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passgate.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    from passgate.audit.services import Actor
    from passgate.directory.services import user_create
    from tests.services.support import authenticator_for, challenge_of, register, use_test_relying_party

    use_test_relying_party(settings)
    user = user_create(upn="bench@contoso.com", display_name="Bench", actor=Actor.system("bench"))
    auth = authenticator_for(user, sign_count=1)
    register(user, auth)
    client = Client()
    options = client.post("/signin/passkey/options", data="{}", content_type="application/json").json()
    auth.sign_count += 1
    credential = auth.assert_(challenge=challenge_of(options))
    assert client.post("/signin/passkey/verify", data=json.dumps({"credential": credential}),
                       content_type="application/json").status_code == 200

    statements: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    def measure() -> tuple[float, int]:
        for _ in range(50):
            client.get("/healthz")
        statements.clear()
        with connection.execute_wrapper(count):
            client.get("/healthz")
        sql = len(statements)
        started = time.perf_counter()
        for _ in range(requests):
            client.get("/healthz")
        return (time.perf_counter() - started) / requests * 1000, sql

    def method_ids(keep: bool) -> None:
        session = client.session
        for use, method_id in zip(session["pg_authn"]["methods"], recorded, strict=True):
            use.pop("methodId", None)
            if keep:
                use["methodId"] = method_id
        session.save()

    recorded = [use.get("methodId") for use in client.session["pg_authn"]["methods"]]
    # alternate, so that a drift of the machine's speed shows rather than favours one side
    results: dict[bool, list[tuple[float, int]]] = {True: [], False: []}
    for keep in (True, False, True, False):
        method_ids(keep)
        results[keep].append(measure())
    with_ids_ms, with_ids_sql = min(r[0] for r in results[True]), results[True][0][1]
    without_ms, without_sql = min(r[0] for r in results[False]), results[False][0][1]
    return {"db": connection.vendor, "with_ids_ms": with_ids_ms, "with_ids_sql": with_ids_sql,
            "without_ms": without_ms, "without_sql": without_sql}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--db", nargs="+", default=["sqlite"], choices=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.requests)))
        return
    for db in args.db:
        with tempfile.TemporaryDirectory() as data_dir:
            env = {**os.environ, "PASSGATE_DATA_DIR": data_dir}
            if db == "postgres":
                admin_url = args.postgres_url
                url = admin_url.rsplit("/", 1)[0] + "/" + BENCH_DB
                for sql in (f"DROP DATABASE IF EXISTS {BENCH_DB}", f"CREATE DATABASE {BENCH_DB}"):
                    subprocess.run(["psql", admin_url, "-qc", sql], check=True)  # noqa: S607
                env["PASSGATE_DATABASE_URL"] = url
            out = subprocess.run([sys.executable, __file__, "--worker", "--requests", str(args.requests)],
                                 env=env, check=True, capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            print(f"{result['db']}: method ids recorded {result['with_ids_ms']:.3f} ms/request "
                  f"({result['with_ids_sql']} SQL); none recorded {result['without_ms']:.3f} ms/request "
                  f"({result['without_sql']} SQL)")
            if db == "postgres":
                subprocess.run(["psql", args.postgres_url, "-qc", f"DROP DATABASE IF EXISTS {BENCH_DB}"],  # noqa: S607
                               check=True)


if __name__ == "__main__":
    main()
