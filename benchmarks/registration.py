"""Benchmark: the core registration check (``verify_registration``) per attestation format, and the share of it
that the certificate requirements and key rules take (``check_attestation_certificates``, ``decode_key``).

In process, one core, no database: statements from the software authenticator and the attestation test PKI
(tests/core/attestation_pki.py), built once outside the timed loops.

    python benchmarks/registration.py [--seconds 2]

Prints one line per measurement. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rate(call: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``call`` over about ``seconds`` (after 20 warm-up calls)."""
    for _ in range(20):
        call()
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(20):
            call()
        n += 20
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    sys.path.insert(0, str(ROOT))
    import cbor2

    from passgate.core.webauthn import verify_registration
    from passgate.core.webauthn._certificates import StatementCertificates, check_attestation_certificates
    from passgate.core.webauthn._keys import decode_key
    from tests.core.attestation_pki import ceremony, packed_response, tpm_response
    from tests.core.softauthn import CHALLENGE, RP, SoftAuthenticator, rs256_key, unb64

    c = ceremony()
    responses = {
        "none (ES256)": SoftAuthenticator().register(),
        "none (RS256 2048)": SoftAuthenticator(key=rs256_key()).register(),
        "packed self": SoftAuthenticator().register(fmt="packed"),
        "packed x5c (leaf + intermediate)": packed_response(c),
        "tpm (AIK + intermediate)": tpm_response(c),
    }
    for name, response in responses.items():
        per_second = rate(lambda response=response: verify_registration(
            rp=RP, credential=response, expected_challenge=CHALLENGE, credential_id_registered=lambda _cid: False),
            args.seconds)
        print(f"verify_registration, {name}: {per_second:,.0f}/s ({1000 / per_second:.3f} ms)")
    for name in ("packed x5c (leaf + intermediate)", "tpm (AIK + intermediate)"):
        obj = cbor2.loads(unb64(responses[name]["response"]["attestationObject"]))
        certificates = StatementCertificates(
            fmt=obj["fmt"], certificates=tuple(obj["attStmt"]["x5c"]), aaguid=c.auth.aaguid,
            credential_key=c.auth.key.private_key.public_key(), auth_data=obj["authData"],
            client_data_hash=hashlib.sha256(c.client_data).digest())
        per_second = rate(lambda certificates=certificates: check_attestation_certificates(certificates),
                          args.seconds)
        print(f"check_attestation_certificates, {name}: {per_second:,.0f}/s ({1000 / per_second:.3f} ms)")
    for name, key in (("ES256", SoftAuthenticator().key), ("RS256 2048", rs256_key())):
        cose = key.cose()
        per_second = rate(lambda cose=cose: decode_key(cose), args.seconds)
        print(f"decode_key, {name}: {per_second:,.0f}/s ({1000 / per_second:.3f} ms)")


if __name__ == "__main__":
    main()
