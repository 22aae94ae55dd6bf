"""Benchmark: security-key sign-in to a joined computer, Passgate's side of it (the device API).

A joined device (django.test.Client against the real middleware stack, every request with a fresh device proof)
signs a person in N times: ``POST /device/v1/signin/begin``, the key's getAssertion (a software CTAP 2.1 key
through python-fido2's client, PIN token included), ``POST /device/v1/signin/complete`` (assertion, methods
policy, the device setting, Conditional Access, POSIX account, offline record, sign-in log). Prints milliseconds
per sign-in for the two server calls together (the key's time apart), SQL statements per sign-in, and the key's own
time; a real USB key adds its touch and PIN time, the network its round trips.

    python benchmarks/device_signin.py [--signins 200] [--db sqlite postgres]
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
BENCH_DB = "passgate_bench_device_signin"


def worker(signins: int) -> dict[str, float | int | str]:
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
    from fido2.webauthn import PublicKeyCredentialRequestOptions

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    call_command("migrate", verbosity=0)
    from passgate.audit.services import Actor
    from passgate.directory.services import user_create
    from tests.device_registry.test_device_signin import BEGIN, COMPLETE, fido_client, joined, register, security_key

    user = user_create(upn="bench@contoso.com", display_name="Bench", actor=Actor.system("bench"))
    key = security_key()
    register(user, key)
    computer = joined(Client())
    webauthn = fido_client(key)

    statements: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    def once() -> tuple[float, float]:
        started = time.perf_counter()
        begun = computer.post(BEGIN, {"userName": "bench@contoso.com"}).json()
        server = time.perf_counter() - started
        started = time.perf_counter()
        response = webauthn.get_assertion(PublicKeyCredentialRequestOptions.from_dict(begun["publicKey"]))
        credential = dict(response.get_response(0))
        key_time = time.perf_counter() - started
        started = time.perf_counter()
        done = computer.post(COMPLETE, {"signInId": begun["signInId"], "credential": credential})
        server += time.perf_counter() - started
        assert done.status_code == 200, done.content
        return server, key_time

    for _ in range(10):
        once()
    with connection.execute_wrapper(count):
        once()
    sql = len(statements)
    server_total = key_total = 0.0
    for _ in range(signins):
        server, key_time = once()
        server_total += server
        key_total += key_time
    return {"db": connection.vendor, "server_ms": server_total / signins * 1000, "sql": sql,
            "key_ms": key_total / signins * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signins", type=int, default=200)
    parser.add_argument("--db", nargs="+", default=["sqlite"], choices=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.signins)))
        return
    for db in args.db:
        with tempfile.TemporaryDirectory() as data_dir:
            env = {**os.environ, "PASSGATE_DATA_DIR": data_dir, "PASSGATE_ORIGIN": "http://localhost:8000"}
            if db == "postgres":
                admin_url = args.postgres_url
                url = admin_url.rsplit("/", 1)[0] + "/" + BENCH_DB
                for sql in (f"DROP DATABASE IF EXISTS {BENCH_DB}", f"CREATE DATABASE {BENCH_DB}"):
                    subprocess.run(["psql", admin_url, "-qc", sql], check=True)  # noqa: S607
                env["PASSGATE_DATABASE_URL"] = url
            out = subprocess.run([sys.executable, __file__, "--worker", "--signins", str(args.signins)],
                                 env=env, check=True, capture_output=True, text=True).stdout
            result = json.loads(out.strip().splitlines()[-1])
            print(f"{result['db']}: {result['server_ms']:.2f} ms of Passgate per device sign-in (begin + complete, "
                  f"{result['sql']} SQL); the software key's getAssertion with its PIN token "
                  f"{result['key_ms']:.2f} ms")
            if db == "postgres":
                subprocess.run(["psql", args.postgres_url, "-qc", f"DROP DATABASE IF EXISTS {BENCH_DB}"],  # noqa: S607
                               check=True)


if __name__ == "__main__":
    main()
