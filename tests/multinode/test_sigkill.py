"""SIGKILL and the audit trail (issues 11 and 13): what a client was told succeeded is in the database with its
audit row, and nothing half-done is visible, when a node's workers, or a whole node, die without warning.

Accounting, per ceremony the client ran:
- a sign-in answered 200 has its ``passkey.signIn`` success row, found by the passkey and the signature counter
  the client sent (``details.signCount``), and its session works on the node still up;
- a registration answered 200 has its passkey row and its ``passkey.register`` success row;
- no passkey without its ``passkey.register`` row, no such row without its passkey.
A ceremony that committed while its answer was lost (the worker died in between) may have a row the client never
heard of; those are counted, not refused. The figures are in the assertion messages and printed
(``pytest -s``); one run's are in docs/operations.md, "Several nodes".
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.multinode.cluster import Cluster, Node, Person, kill_group, wait_ready

pytestmark = pytest.mark.postgres

LOAD_SECONDS_BEFORE = 2.5  # of load through HAProxy before node A is killed
LOAD_SECONDS_AFTER = 5.0  # and after
SETTLED_AFTER = 2.5  # seconds after the kill from which every request must succeed (HAProxy checks every 0.3 s)
PEOPLE = 6  # concurrent clients


@dataclass
class Outcome:
    kind: str  # "signIn" or "register"
    status: int | None  # None: no HTTP answer at all (connection reset, timeout)
    at: float  # time.monotonic() when the answer came
    node: str  # which node answered (HAProxy's X-Passgate-Node), "" if none
    credential_id: bytes
    sign_count: int = 0  # what the client signed, for a sign-in
    passkey_id: str = ""  # what the server answered, for a registration


def enrolled(nodes: Cluster, base: str, nickname: str) -> Person:
    user = nodes.new_user(base, nickname)
    person = Person(nodes.origin)
    person.tap_sign_in(base, user["upn"], user["tap"])
    added, _ = person.register(base, name="First key")
    assert added.status_code == 200, added.text
    return person


def sign_in(person: Person, base: str) -> Outcome:
    auth = person.passkeys[0]
    try:
        answer = person.sign_in(base, timeout=10)
    except requests.RequestException:
        return Outcome("signIn", None, time.monotonic(), "", auth.credential_id, auth.sign_count)
    return Outcome("signIn", answer.status_code, time.monotonic(), answer.headers.get("X-Passgate-Node", ""),
                   auth.credential_id, auth.sign_count)


def register(person: Person, base: str, n: int) -> Outcome:
    try:
        answer, auth = person.register(base, name=f"Key {n}", timeout=10)
    except requests.RequestException:
        return Outcome("register", None, time.monotonic(), "", b"")
    return Outcome("register", answer.status_code, time.monotonic(), answer.headers.get("X-Passgate-Node", ""),
                   auth.credential_id if auth else b"",
                   passkey_id=answer.json()["id"] if answer.status_code == 200 else "")


def ceremonies(person: Person, base: str, n: int) -> list[Outcome]:
    """A passkey sign-in, then a passkey added in the session it opened."""
    return [sign_in(person, base), register(person, base, n)]


def accounting(nodes: Cluster, outcomes: list[Outcome], people: list[Person]) -> dict[str, int]:
    """Check every outcome against the database; the figures."""
    passkeys = {bytes(cid): str(pk) for pk, cid in nodes.sql("SELECT id, credential_id FROM credentials_passkey")}
    registered = {row[0] for row in nodes.sql(
        "SELECT target_id FROM audit_auditevent WHERE activity = 'passkey.register' AND result = 'success'")}
    signed = {(row[0], int(row[1])) for row in nodes.sql(
        "SELECT target_id, details->>'signCount' FROM audit_auditevent "
        "WHERE activity = 'passkey.signIn' AND result = 'success'")}
    # every credential the clients ever sent: their first passkeys, and every registration (answered or not)
    ours = {bytes(a.credential_id) for p in people for a in p.passkeys} | {
        o.credential_id for o in outcomes if o.kind == "register" and o.credential_id}
    figures: Counter[str] = Counter()
    for seen in outcomes:
        figures[f"{seen.kind} sent"] += 1
        if seen.status == 200:
            figures[f"{seen.kind} 200"] += 1
        elif seen.status is None:
            figures[f"{seen.kind} no answer"] += 1
        else:
            figures[f"{seen.kind} {seen.status}"] += 1
    sign_ins_ok = [o for o in outcomes if o.kind == "signIn" and o.status == 200]
    registrations_ok = [o for o in outcomes if o.kind == "register" and o.status == 200]
    ours_pks = {passkeys[cid] for cid in ours if cid in passkeys}
    our_sign_in_rows = {(pk, n) for pk, n in signed if pk in ours_pks}
    figures["passkeys stored"] = len(ours_pks)
    figures["passkey.register rows"] = len(registered & ours_pks)
    figures["passkey.signIn rows"] = len(our_sign_in_rows)
    shown = dict(sorted(figures.items()))

    lost_sign_ins = [o for o in sign_ins_ok if (passkeys.get(o.credential_id), o.sign_count) not in signed]
    assert not lost_sign_ins, f"sign-ins answered 200 without their audit row: {len(lost_sign_ins)}; {shown}"
    lost_registrations = [o for o in registrations_ok
                          if passkeys.get(o.credential_id) != o.passkey_id or o.passkey_id not in registered]
    assert not lost_registrations, f"registrations answered 200 without passkey or audit row: {shown}"
    unaudited = set(passkeys.values()) - registered  # any passkey in the database, whoever made it
    assert not unaudited, f"passkeys without their passkey.register row: {len(unaudited)}; {shown}"
    orphans = registered - set(passkeys.values())
    assert not orphans, f"passkey.register rows without their passkey: {len(orphans)}; {shown}"
    # what committed although the client heard nothing of it (its answer died with the worker)
    figures["signIn committed, answer lost"] = len(our_sign_in_rows) - len(sign_ins_ok)
    figures["register committed, answer lost"] = len(ours_pks) - len(people) - len(registrations_ok)
    return dict(sorted(figures.items()))


def record(figures: dict[str, int], what: str) -> None:
    print(f"\npassgate SIGKILL ({what}): " + ", ".join(f"{k}: {v}" for k, v in figures.items()))


def test_workers_killed_right_after_their_answers_leave_every_audited_event(own_nodes: Cluster) -> None:
    """Issue 11: ceremonies on node A, and the moment the last answer arrives, SIGKILL every worker of A (the
    master re-forks them). Three rounds. Every 200 has its committed rows, and every audit row A wrote is in A's
    JSON log too, the lines of the killed workers included."""
    nodes = own_nodes
    node: Node = nodes.a
    people = [enrolled(nodes, node.url, f"worker{i}") for i in range(4)]
    outcomes: list[Outcome] = []
    killed: list[int] = []
    for round_ in range(3):
        with ThreadPoolExecutor(max_workers=len(people)) as pool:
            work = [pool.submit(ceremonies, p, node.url, round_ * 10 + i) for i, p in enumerate(people)]
            done = [o for future in work for o in future.result()]
        pids = node.workers()
        for pid in pids:  # the answers are in: kill now, before anything else happens
            os.kill(pid, signal.SIGKILL)
        killed += pids
        outcomes += done
        wait_ready(node)
        deadline = time.monotonic() + 30
        while not set(node.workers()) - set(pids) or len(node.workers()) < 2:
            assert time.monotonic() < deadline, "gunicorn did not re-fork its workers"
            time.sleep(0.05)
    assert all(o.status == 200 for o in outcomes), [(o.kind, o.status) for o in outcomes]
    figures = accounting(nodes, outcomes, people)
    figures["workers killed"] = len(killed)
    assert figures["signIn 200"] == figures["register 200"] == 12, figures
    log = node.log.read_text()
    logged = {line["requestId"] for line in map(json.loads, (x for x in log.splitlines() if x.startswith("{")))
              if line.get("event") == "audit" and line.get("requestId")}
    audited = {row[0] for row in nodes.sql(
        "SELECT request_id FROM audit_auditevent WHERE activity IN ('passkey.signIn', 'passkey.register') "
        "AND actor_name LIKE 'worker%%'")}
    figures["audit rows"], figures["audit log lines"] = len(audited), len(audited & logged)
    assert audited <= logged, f"audit rows without their log line: {len(audited - logged)}; {figures}"
    record(figures, "workers, right after their answers")


def test_a_node_killed_under_load_loses_nothing_and_the_balancer_moves_on(own_nodes: Cluster) -> None:
    """Concurrent sign-ins and passkey registrations through HAProxy; node A's whole process group gets SIGKILL
    in the middle. Requests keep succeeding after a short window, and the accounting holds."""
    nodes = own_nodes
    people = [enrolled(nodes, nodes.origin, f"load{i}") for i in range(PEOPLE)]
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + LOAD_SECONDS_BEFORE + LOAD_SECONDS_AFTER

    def load(person: Person, index: int) -> None:
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            seen = [sign_in(person, nodes.origin), register(person, nodes.origin, index * 1000 + n)]
            with lock:
                outcomes.extend(seen)

    threads = [threading.Thread(target=load, args=(p, i)) for i, p in enumerate(people)]
    for thread in threads:
        thread.start()
    time.sleep(LOAD_SECONDS_BEFORE)
    killed_at = time.monotonic()
    kill_group(nodes.a)
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    before = [o for o in outcomes if o.at < killed_at]
    after = [o for o in outcomes if o.at >= killed_at + SETTLED_AFTER]
    failed = [o for o in outcomes if o.status != 200]
    window = max((o.at - killed_at for o in failed), default=0.0)
    figures: dict[str, Any] = accounting(nodes, outcomes, people)
    figures |= {"answered by a before the kill": sum(o.node == "a" for o in before),
                "answered by b before the kill": sum(o.node == "b" for o in before),
                "requests after the window": len(after), "failures seen": len(failed),
                "last failure after the kill (ms)": round(window * 1000)}
    assert {o.node for o in before} == {"a", "b"}, figures  # both nodes carried the load
    assert after and all(o.status == 200 and o.node == "b" for o in after), figures
    assert all(o.at >= killed_at for o in failed), figures  # nothing failed before the kill
    for person in people:  # every person's latest successful sign-in is a session node B honours
        assert person.signed_in(nodes.b.url), figures
    record(figures, "a node, under load through HAProxy")
