"""Starting real Passgate processes (`passgate serve`, `passgate demo-app`) from tests, and always reaping them.

Every process starts in its own session (process group), so a test that fails, times out or is interrupted still
kills the whole group (gunicorn's master and workers) in ``started``'s ``finally``. A PostgreSQL run gets a fresh
database named after the one the run uses (``h_fork`` → ``h_fork_serve_<random>``), never a fixed shared name.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

REAP_TIMEOUT = 10.0  # seconds: a hang detector, not a timing assertion


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port`` any more (a new listener could bind it)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
    return True


def on_postgres() -> bool:
    return bool(os.environ.get("PASSGATE_TEST_ON_POSTGRES"))


@contextlib.contextmanager
def scratch_database(tmp_path: Path, purpose: str) -> Iterator[str]:
    """A database URL for a process under test: a SQLite file in ``tmp_path``, or on a PostgreSQL run a fresh
    database beside the run's own (dropped afterwards, even if a process still holds a connection)."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path}/passgate-{purpose}.sqlite3"
        return
    import psycopg

    base = os.environ["PASSGATE_DATABASE_URL"]
    name = f"{base.rsplit('/', 1)[1]}_{purpose}_{secrets.token_hex(3)}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def passgate_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a Passgate process: this one's, minus every PASSGATE_/DJANGO_ variable, plus these."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASSGATE_", "DJANGO_"))}
    env.update(PASSGATE_DATA_DIR=str(data_dir), PASSGATE_DATABASE_URL=database_url, **extra)
    return env


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "passgate.cli", *args], env=env, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextlib.contextmanager
def started(args: Sequence[str], env: dict[str, str], log: Path,
            cwd: Path | None = None) -> Iterator[subprocess.Popen[str]]:
    """``python -m passgate.cli ARGS`` with its output in ``log`` (a file: a full pipe would block the server);
    its whole process group is killed and waited for on the way out, whatever happened. ``cwd``: where it runs
    (``-m`` puts that folder first on ``sys.path``)."""
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "passgate.cli", *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True, cwd=cwd)
    try:
        yield proc
    finally:
        reap(proc)


def reap(proc: subprocess.Popen[str]) -> None:
    """Kill ``proc``'s process group (the process and anything it forked) and wait for it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=REAP_TIMEOUT)


def stop(proc: subprocess.Popen[str], sig: signal.Signals) -> int | None:
    """Send ``sig`` to the process alone (as a service manager would) and wait up to REAP_TIMEOUT for it to exit;
    its exit status, or None if it is still running then (the caller's ``started`` kills it)."""
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=REAP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None


def group_gone(proc: subprocess.Popen[str]) -> bool:
    """Whether no process of ``proc``'s group is left (gunicorn's workers included)."""
    deadline = time.monotonic() + REAP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def wait_for_output(log: Path, proc: subprocess.Popen[str], text: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        seen = log.read_text()
        if text in seen:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared (exit status {proc.poll()}):\n{log.read_text()}")


def wait_listening(port: int, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    """Until something accepts connections on 127.0.0.1:``port`` (no request is sent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the process exited with status {proc.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


@contextlib.contextmanager
def serving(tmp_path: Path, purpose: str, *, workers: int = 2, **extra_env: str) -> Iterator[dict[str, object]]:
    """A real ``passgate serve`` on a database of its own (a fresh PostgreSQL one on a PostgreSQL run), answering
    ``/healthz``: ``{"origin", "env", "engine", "log"}``; reaped whatever happens."""
    import requests

    port = free_port()
    with scratch_database(tmp_path, purpose) as database_url:
        env = passgate_env(tmp_path / "data", database_url, **extra_env)
        log = tmp_path / "serve.log"
        with started(["serve", "--port", str(port), "--workers", str(workers)], env, log) as proc:
            origin = f"http://localhost:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{origin}/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:  # not listening yet, or still starting
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, f"serve did not start:\n{log.read_text()}"
                time.sleep(0.1)
            yield {"origin": origin, "env": {**env, "PASSGATE_ORIGIN": origin},
                   "engine": "postgresql" if on_postgres() else "sqlite", "log": log, "pid": proc.pid}


def joined_device_over_http(origin: str, env: dict[str, str], name: str = "test-pc") -> str:
    """A computer joined the way the agent joins one (a CLI token, then /device/v1/join): its object id."""
    import json

    import requests
    from cryptography.hazmat.primitives.asymmetric import ec

    from passgate.core.devices.keys import jwk_of

    body = {"enrollmentToken": json.loads(cli(env, "devices", "token", "--json"))["enrollmentToken"],
            "displayName": name, "operatingSystem": "Linux", "operatingSystemVersion": "Debian 12",
            "publicKey": jwk_of(ec.generate_private_key(ec.SECP256R1()).public_key())}
    joined = requests.post(f"{origin}/device/v1/join", json=body, timeout=30)
    assert joined.status_code == 201, joined.text
    return str(joined.json()["id"])
