"""Benchmark: does a Temporary Access Pass sign-in answer an existing user's wrong pass and an unknown user name in
the same time? And how far can one address guess?

Through Django's whole request stack (``django.test.Client``, middleware, sessions, CSRF checks off as for any
client that fetched the form first): ``POST /signin/tap`` with

- *existing*: the user name of a person who holds a pass, and a wrong pass;
- *unknown*: a user name that names nobody, and a wrong pass.

Each request uses a user name and a source address of its own (as an attacker probing many names would), so no
back-off is in force and both kinds do the full check; the two kinds are interleaved in a random order. Prints the
median, the quartiles and the SQL statement count of each kind.

Then one address sends 100 wrong passes for unknown user names as fast as it can, and the answers are counted:
"wrong pass" (checked) against "too many attempts" (refused by the back-off before any check).

    python benchmarks/tap_timing.py [--requests 400] [--db sqlite postgres]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres] [--bench-db passgate_bench_tap]

Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "login.example.com"
WRONG = "ABCD-EFGH-JKMN-PQRS"
CSRF_TOKEN = re.compile(rb'(name="csrfmiddlewaretoken" value|name="csrf-token" content)="[^"]*"')  # per response


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4)
    return q1, median, q3


def worker(requests: int) -> dict[str, object]:
    pin_to_one_core()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passgate.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from passgate.audit.services import Actor
    from passgate.credentials.services import tap_issue
    from passgate.directory.services import user_create

    actor = Actor.system("bench")
    half = requests // 2
    for n in range(half + 20):
        user = user_create(upn=f"person{n}@contoso.com", display_name=f"Person {n}", actor=actor)
        tap_issue(user=user, actor=actor, lifetime_minutes=600, usable_once=False)
    kinds = ["existing"] * half + ["unknown"] * half
    random.Random(7).shuffle(kinds)  # noqa: S311 - a reproducible order, not a secret
    client = Client(HTTP_HOST=HOST)
    counters = {"existing": 0, "unknown": 0}
    times: dict[str, list[float]] = {"existing": [], "unknown": []}
    queries: dict[str, set[int]] = {"existing": set(), "unknown": set()}
    bodies: dict[str, set[bytes]] = {"existing": set(), "unknown": set()}

    def one(kind: str, n: int, address: str, *, timed: bool) -> int:
        upn = f"person{n}@contoso.com" if kind == "existing" else f"nobody{n}@contoso.com"
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            response = client.post("/signin/tap", {"upn": upn, "tap": WRONG}, REMOTE_ADDR=address, secure=True)
            elapsed = time.perf_counter() - t0
        if timed:
            times[kind].append(elapsed * 1000)
            queries[kind].add(len(captured.captured_queries))
            page = response.content.replace(upn.encode(), b"UPN")
            bodies[kind].add(CSRF_TOKEN.sub(b"", page))
        return response.status_code

    for w in range(20):  # warm-up: both paths, addresses of their own
        for kind in ("existing", "unknown"):
            one(kind, half + w, f"10.250.{w}.{1 if kind == 'existing' else 2}", timed=False)
    for i, kind in enumerate(kinds):
        n = counters[kind]
        counters[kind] += 1
        one(kind, n, f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}", timed=True)

    # One address, 100 guesses at unknown user names, as fast as the server answers.
    answers: dict[int, int] = {}
    t0 = time.perf_counter()
    for n in range(100):
        status = one("unknown", 10_000 + n, "192.0.2.1", timed=False)
        answers[status] = answers.get(status, 0) + 1
    burst = time.perf_counter() - t0

    result: dict[str, object] = {"vendor": connection.vendor, "requests": requests, "burst_seconds": burst,
                                 "burst_checked": answers.get(400, 0), "burst_throttled": answers.get(429, 0),
                                 "same_body": bodies["existing"] == bodies["unknown"]}
    for kind in ("existing", "unknown"):
        q1, median, q3 = _quartiles(times[kind])
        result[kind] = {"median_ms": median, "q1_ms": q1, "q3_ms": q3, "queries": sorted(queries[kind])}
    return result


def run(db: str, requests: int, postgres_url: str, bench_db: str) -> dict[str, object]:
    env = dict(os.environ)
    data_dir = tempfile.mkdtemp(prefix="passgate-bench-")
    env.update(PASSGATE_DATA_DIR=data_dir, PASSGATE_ORIGIN=f"https://{HOST}", PASSGATE_RP_ID=HOST,
               PYTHONPATH=str(ROOT))
    if db == "postgres":
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {bench_db}")
            conn.execute(f"CREATE DATABASE {bench_db}")
        env["PASSGATE_DATABASE_URL"] = postgres_url.rsplit("/", 1)[0] + "/" + bench_db
    else:
        env["PASSGATE_DATABASE_URL"] = f"sqlite:///{data_dir}/bench.sqlite3"
    out = subprocess.run([sys.executable, __file__, "--worker", "--requests", str(requests)], env=env,
                         capture_output=True, text=True, check=False)
    if db == "postgres":
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {bench_db}")
    if out.returncode != 0:
        raise SystemExit(f"{db} benchmark failed:\n{out.stderr[-3000:]}{out.stdout[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--bench-db", default="passgate_bench_tap")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.requests)))
        return
    print(f"POST /signin/tap with a wrong pass, in-process, one core, {args.requests} requests (half each kind)")
    for db in args.db:
        r = run(db, args.requests, args.postgres_url, args.bench_db)
        for kind in ("existing", "unknown"):
            k = r[kind]
            assert isinstance(k, dict)
            print(f"{r['vendor']:<10} {kind:<8} median {k['median_ms']:6.2f} ms  (quartiles {k['q1_ms']:.2f}-"
                  f"{k['q3_ms']:.2f})  SQL statements {k['queries']}")
        print(f"{r['vendor']:<10} same page for both: {r['same_body']}; one address, 100 guesses in "
              f"{r['burst_seconds']:.2f} s: {r['burst_checked']} checked, {r['burst_throttled']} refused by back-off")


if __name__ == "__main__":
    main()
