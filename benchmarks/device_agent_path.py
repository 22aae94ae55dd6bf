"""Benchmark: security-key sign-in to a computer on the whole agent path, as a person waits for it.

Everything real but the key: a ``passgate serve`` (gunicorn, HTTP on loopback) set up only through the CLIs (a
user, a Temporary Access Pass, an enrollment token, a signed provisioning package turning security-key sign-in on),
``passgate-device`` joining, applying the package, syncing and registering a software CTAP 2.1 key with the pass,
and the daemon on its Unix socket. Then N sign-ins, each timed from the client's connect to the daemon's success:
a Python client speaking the daemon's JSON lines as pam_passgate does (the PIN answered at once), and, when
running as root with Debian's pamtester and libpam-python, M sign-ins through the real PAM stack (process start
included). A real USB key adds its own PIN and touch time (about a second with a person; the software key's
getAssertion is a few ms) and the network its round trips.

    python benchmarks/device_agent_path.py [--signins 100] [--pam-signins 20] [--db sqlite postgres]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres] [--workers 1]

Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from passgate.agent.cli import main as agent  # noqa: E402
from passgate.agent.daemon import Daemon, PeerPolicy  # noqa: E402
from passgate.agent.state import State  # noqa: E402
from tests.agent.support import Person, SoftKeys  # noqa: E402
from tests.devices.softkey import SoftKey  # noqa: E402
from tests.processes import free_port, passgate_env, started, wait_listening  # noqa: E402

BENCH_DB = "passgate_bench_agent_path"
UPN = "bench@contoso.com"
PIN = "2468"
PAM_PYTHON = Path("/lib/security/pam_python.so")
MODULE = ROOT / "passgate" / "pam" / "pam_passgate.py"


def cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "passgate.cli", *args], env=env, check=True, capture_output=True,
                          text=True, timeout=120).stdout


def sign_in_over_socket(path: Path) -> float:
    """One sign-in as pam_passgate does it; seconds from connect to success."""
    started_at = time.perf_counter()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(path))
        s.sendall(json.dumps({"op": "signin", "service": "login", "user": UPN}).encode() + b"\n")
        for raw in s.makefile("rb"):
            message = json.loads(raw)
            if message.get("prompt", {}).get("kind") == "pin":
                s.sendall(json.dumps({"answer": PIN}).encode() + b"\n")
            elif "result" in message:
                assert message["result"] == "success", message
                return time.perf_counter() - started_at
    raise AssertionError("the daemon closed the connection without a result")


def sign_in_through_pam(service: str) -> float:
    started_at = time.perf_counter()
    done = subprocess.run(["pamtester", service, UPN, "authenticate"], input=f"{PIN}\n", capture_output=True,  # noqa: S607
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return time.perf_counter() - started_at


def figures(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    return f"p50 {statistics.median(ms):.1f} ms, p90 {p90:.1f} ms, mean {statistics.fmean(ms):.1f} ms (n={len(ms)})"


def run(db: str, args: argparse.Namespace, work: Path) -> None:
    database_url = f"sqlite:///{work}/passgate.sqlite3"
    if db == "postgres":
        database_url = args.postgres_url.rsplit("/", 1)[0] + "/" + BENCH_DB
        for sql in (f"DROP DATABASE IF EXISTS {BENCH_DB}", f"CREATE DATABASE {BENCH_DB}"):
            subprocess.run(["psql", args.postgres_url, "-qc", sql], check=True)  # noqa: S607
    port = free_port()
    origin = f"http://localhost:{port}"
    env = {**passgate_env(work / "data", database_url), "PASSGATE_ORIGIN": origin}
    with started(["serve", "--port", str(port), "--workers", str(args.workers)], env, work / "serve.log") as proc:
        wait_listening(port, proc, timeout=120)
        cli(env, "users", "add", UPN, "--display-name", "Bench Person")
        tap = json.loads(cli(env, "tap", "issue", "--user", UPN, "--json"))["temporaryAccessPass"]
        token = json.loads(cli(env, "devices", "token", "--json"))["enrollmentToken"]
        package = work / "keys-on.ppkg"
        cli(env, "devices", "package", "--security-key-signin", "on", "--output", str(package))

        state_dir = work / "state"
        key = SoftKey()
        keys = SoftKeys(key)
        for argv, person in (
                (["join", "--passgate", origin, "--token", token, "--display-name", "bench-pc"], Person()),
                (["package", "apply", str(package)], Person()),
                (["sync"], Person()),
                (["key", "register", "--user", UPN, "--name", "Bench key"], Person(pins=[tap, PIN, PIN, PIN]))):
            code = agent(["--state-dir", str(state_dir), *argv], provider=keys, console=person)  # type: ignore[arg-type]
            assert code == 0, (argv, person.said)

        socket_path = work / "run" / "socket"
        daemon = Daemon(socket_path=socket_path, state=State(state_dir), provider=keys,
                        policy=PeerPolicy(os.geteuid()), overall_timeout=60)
        daemon.bind()
        threading.Thread(target=daemon.serve_forever, daemon=True).start()
        try:
            for _ in range(5):
                sign_in_over_socket(socket_path)  # warm: the worker's first requests, the key's PIN token path
            over_socket = [sign_in_over_socket(socket_path) for _ in range(args.signins)]
            print(f"{db}: sign-in through the daemon's socket (client connect to success: daemon, soft key with "
                  f"PIN, begin + complete over HTTP, offline record kept): {figures(over_socket)}")
            if args.pam_signins and os.geteuid() == 0 and shutil.which("pamtester") and PAM_PYTHON.exists():
                service = f"passgate-bench-{uuid.uuid4().hex[:8]}"
                pam = Path("/etc/pam.d") / service
                pam.write_text(f"auth required {PAM_PYTHON} {MODULE} socket={socket_path} timeout=60\n"
                               "account required pam_permit.so\n")
                try:
                    through_pam = [sign_in_through_pam(service) for _ in range(args.pam_signins)]
                finally:
                    pam.unlink(missing_ok=True)
                print(f"{db}: sign-in through real PAM (pamtester process, pam_python, pam_passgate, the same "
                      f"path): {figures(through_pam)}")
            elif args.pam_signins:
                print(f"{db}: (the PAM figure needs root, pamtester and libpam-python: not measured)")
        finally:
            daemon.shutdown()
    if db == "postgres":
        subprocess.run(["psql", args.postgres_url, "-qc", f"DROP DATABASE IF EXISTS {BENCH_DB}"],  # noqa: S607
                       check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signins", type=int, default=100)
    parser.add_argument("--pam-signins", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", nargs="+", default=["sqlite"], choices=["sqlite", "postgres"])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    for db in args.db:
        with tempfile.TemporaryDirectory() as work:
            os.chmod(work, 0o700)
            run(db, args, Path(work))


if __name__ == "__main__":
    main()
