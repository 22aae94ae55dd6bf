"""Benchmark: `passgate mds import` of a generated 10,000-entry MDS3 BLOB signed by a test PKI.

Prints the BLOB size, the wall time and peak memory of the import (a fresh process running the real CLI against
a fresh SQLite database), and the cost of one trust lookup by AAGUID once the snapshot is loaded (no re-parse).

    python benchmarks/mds_import.py [--entries 10000]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lookup_cost(blob_path: Path, root_path: Path, entries: int) -> tuple[float, float]:
    """(seconds to verify and load the snapshot once, microseconds per by_aaguid lookup afterwards)."""
    sys.path.insert(0, str(ROOT))
    from datetime import UTC, datetime

    from passgate.core.trust.blob import verify_blob

    blob = blob_path.read_bytes()
    started = time.perf_counter()
    snapshot = verify_blob(blob, root_der=root_path.read_bytes(), now=datetime.now(UTC))
    load = time.perf_counter() - started
    aaguids = [e.aaguid for e in snapshot.entries if e.aaguid][:1000]
    started = time.perf_counter()
    rounds = 100
    for _ in range(rounds):
        for aaguid in aaguids:
            snapshot.by_aaguid(aaguid)
    per_lookup = (time.perf_counter() - started) / (rounds * len(aaguids)) * 1e6
    assert len(snapshot.entries) == entries
    return load, per_lookup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from cryptography.hazmat.primitives import serialization

    from tests.core.trust.test_pki import make_blob, make_entries, make_pki

    work = Path(tempfile.mkdtemp(prefix="passgate-mds-bench-"))
    pki = make_pki("rsa")
    root_path = work / "root.der"
    root_path.write_bytes(pki.root.cert.public_bytes(serialization.Encoding.DER))
    started = time.perf_counter()
    blob = make_blob(make_entries(args.entries), pki.signer, pki.x5c, no=1)
    generated = time.perf_counter() - started
    blob_path = work / "blob.jwt"
    blob_path.write_bytes(blob)

    env = {**os.environ, "PASSGATE_DATA_DIR": str(work / "data"), "PASSGATE_MDS_ROOT": str(root_path),
           "PYTHONPATH": str(ROOT)}
    env.pop("PASSGATE_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "passgate.cli", "migrate"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "passgate.cli", "mds", "import", str(blob_path)], env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    load, per_lookup = lookup_cost(blob_path, root_path, args.entries)
    print(f"MDS3 BLOB: {args.entries:,} entries, {len(blob) / 1e6:.1f} MB (generated in {generated:.1f} s)")
    print(f"passgate mds import: {wall:.2f} s wall, peak RSS {peak_mib:.0f} MiB (the whole CLI process: Python, "
          f"Django, migrations check, verification, storage)")
    print(f"in process: verify + parse once {load:.2f} s; then trust lookup by AAGUID {per_lookup:.2f} µs "
          f"(a dictionary read on the loaded snapshot, no re-parse)")
    print(done.stdout.strip())


if __name__ == "__main__":
    main()
