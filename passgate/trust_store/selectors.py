"""The metadata snapshot in force, parsed once per process per BLOB (re-verified at its import time)."""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings

from passgate.core.errors import InvalidInput
from passgate.core.trust.blob import default_root_der, verify_blob
from passgate.core.trust.catalogue import Catalogue, build_catalogue, display_name
from passgate.core.trust.mds import MetadataSnapshot
from passgate.freshness.generation import cached
from passgate.trust_store.models import MetadataBlob

_lock = threading.Lock()
_parsed: dict[tuple[int, str], MetadataSnapshot] = {}


def root_der() -> bytes:
    """The configured FIDO root (PASSGATE_MDS_ROOT, a DER or PEM file), or GlobalSign Root R3 shipped with Passgate."""
    path = getattr(settings, "PASSGATE_MDS_ROOT", None)
    if not path:
        return default_root_der()
    try:
        raw = Path(path).read_bytes()
        if raw.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(raw).public_bytes(Encoding.DER)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"PASSGATE_MDS_ROOT {path}: not a readable PEM or DER certificate ({exc})",
                           code="invalid_mds_root") from None
    return raw  # DER: verify_blob refuses it as malformed_certificate if it is not one


def current_blob() -> MetadataBlob | None:
    return MetadataBlob.objects.order_by("-no").first()


def snapshot_of(row: MetadataBlob) -> MetadataSnapshot:
    key = (row.no, row.sha256)
    with _lock:
        found = _parsed.get(key)
        if found is None:
            found = verify_blob(bytes(row.blob), root_der=root_der(), now=row.imported_at)
            _parsed.clear()
            _parsed[key] = found
        return found


def current_snapshot() -> MetadataSnapshot | None:
    row = current_blob()
    return snapshot_of(row) if row is not None else None


def _build_catalogue() -> Catalogue:
    row = current_blob()
    return build_catalogue(snapshot=snapshot_of(row) if row else None)


def catalogue() -> Catalogue:
    """Names and icons per AAGUID: the snapshot in force, completed by the bundled community list (built again
    only when the configuration's generation moved: a new blob on any node)."""
    return cached("trust_store.catalogue", _build_catalogue)


def model_name(aaguid: object, recorded: str = "") -> str:
    """What to call a passkey's authenticator: what metadata said at registration, else the catalogue's name."""
    return recorded or display_name(catalogue(), str(aaguid))
