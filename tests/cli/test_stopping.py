"""`passgate demo-app` and `passgate serve` stop promptly on SIGTERM and SIGINT, free their port, and leave no
process behind, also while a request is in flight. (The bounds are hang detectors, not timing assertions.)"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import (
    free_port,
    group_gone,
    passgate_env,
    port_is_free,
    scratch_database,
    started,
    stop,
    wait_for_output,
    wait_listening,
)

SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]


@pytest.fixture
def silent_passgate() -> Iterator[socket.socket]:
    """A "Passgate" that accepts connections and never answers: a demo request that calls it stays in flight."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path, "stop") as url:
        yield url


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize("in_flight", [False, True], ids=["idle", "request-in-flight"])
def test_demo_app_stops_on_a_signal(tmp_path: Path, database_url: str, silent_passgate: socket.socket,
                                    sig: signal.Signals, in_flight: bool) -> None:
    port = free_port()
    issuer = f"http://127.0.0.1:{silent_passgate.getsockname()[1]}"
    log = tmp_path / "demo.log"
    env = passgate_env(tmp_path / "data", database_url)
    with started(["demo-app", "--port", str(port), "--passgate", issuer], env, log) as proc:
        wait_for_output(log, proc, "Open http://localhost")
        wait_listening(port, proc)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as browser:
            if in_flight:  # /login fetches Passgate's discovery document: the demo waits for the silent Passgate
                browser.sendall(b"GET /login HTTP/1.1\r\nHost: localhost\r\n\r\n")
                silent_passgate.settimeout(30)
                calling, _ = silent_passgate.accept()
            try:
                assert stop(proc, sig) == 0, log.read_text()
            finally:
                if in_flight:
                    calling.close()
        assert group_gone(proc) and port_is_free(port), log.read_text()


@pytest.mark.parametrize("sig", SIGNALS)
def test_serve_stops_on_a_signal(tmp_path: Path, database_url: str, sig: signal.Signals) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with started(["serve", "--port", str(port), "--workers", "2"], passgate_env(tmp_path / "data", database_url),
                 log) as proc:
        wait_for_output(log, proc, "Passgate listening on")
        wait_listening(port, proc)
        deadline = time.monotonic() + 60  # both workers ready: a signal sent while one still boots is lost
        while log.read_text().count("Worker ready") < 2:
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.1)
        answered = threading.Event()

        def healthz() -> None:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                if s.recv(100).startswith(b"HTTP/1.1 200"):
                    answered.set()

        healthz()
        assert answered.is_set()
        assert stop(proc, sig) == 0, log.read_text()[-3000:]
        assert group_gone(proc) and port_is_free(port), log.read_text()[-3000:]
