"""Benchmark: what the text checks at the edges cost (core.text), pure Python, one core.

- strict_loads against json.loads on a Graph-sized body (a Conditional Access policy with 2,000 excluded users,
  about 64 KB) and on a small one (a user);
- ScrubbingJSONDecoder against json's own decoder on a stored document with nothing to replace (the usual case:
  one regex search over the text) and on one holding a lone surrogate (a walk and a copy);
- check_pairs on a 20-field form.

    python benchmarks/text_edges.py [--rounds 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from passgate.core.text import ScrubbingJSONDecoder, check_pairs, strict_loads


def per_call(work: Callable[[], object], rounds: int) -> float:
    """Microseconds per call (best of three runs)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(rounds):
            work()
        best = min(best, time.perf_counter() - started)
    return best / rounds * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds
    policy = {"displayName": "Payroll needs a passkey", "state": "enabled",
              "conditions": {"users": {"includeUsers": ["All"],
                                       "excludeUsers": [str(uuid.uuid4()) for _ in range(1600)]},
                             "applications": {"includeApplications": [str(uuid.uuid4())]}},
              "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}
    big = json.dumps(policy).encode()
    small = json.dumps({"accountEnabled": True, "displayName": "Alice Example", "mailNickname": "alice",
                        "userPrincipalName": "alice@contoso.com"}).encode()
    stored = json.dumps(policy)
    planted = json.dumps({**policy, "displayName": "Payroll \ud800"})
    form = [(f"field{n}", [f"value number {n}"]) for n in range(20)]
    rows = [
        (f"json.loads, {len(big) // 1024} KB body", lambda: json.loads(big), rounds // 10),
        (f"strict_loads, {len(big) // 1024} KB body", lambda: strict_loads(big), rounds // 10),
        (f"json.loads, {len(small)} B body", lambda: json.loads(small), rounds * 10),
        (f"strict_loads, {len(small)} B body", lambda: strict_loads(small), rounds * 10),
        ("json decoder, stored document", lambda: json.loads(stored), rounds // 10),
        ("ScrubbingJSONDecoder, nothing to replace", lambda: json.loads(stored, cls=ScrubbingJSONDecoder),
         rounds // 10),
        ("ScrubbingJSONDecoder, a lone surrogate", lambda: json.loads(planted, cls=ScrubbingJSONDecoder),
         rounds // 10),
        ("check_pairs, 20-field form", lambda: check_pairs(form), rounds * 10),
    ]
    for label, work, n in rows:
        print(f"{label:45} {per_call(work, n):9.1f} µs")


if __name__ == "__main__":
    main()
