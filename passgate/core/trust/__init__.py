"""Authenticator trust: FIDO MDS3 metadata BLOB verification and lookups (pure core)."""

from passgate.core.trust.blob import (
    ALLOWED_ALGORITHMS,
    DEFAULT_MAX_BYTES,
    GLOBALSIGN_ROOT_R3_SHA256,
    default_root_der,
    verify_blob,
)
from passgate.core.trust.errors import MetadataRejected, MetadataRejectReason
from passgate.core.trust.mds import (
    UNTRUSTED_STATUSES,
    AuthenticatorStatus,
    CertificationLevel,
    MetadataEntry,
    MetadataSnapshot,
    StatusReport,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "DEFAULT_MAX_BYTES",
    "GLOBALSIGN_ROOT_R3_SHA256",
    "UNTRUSTED_STATUSES",
    "AuthenticatorStatus",
    "CertificationLevel",
    "MetadataEntry",
    "MetadataRejectReason",
    "MetadataRejected",
    "MetadataSnapshot",
    "StatusReport",
    "default_root_der",
    "verify_blob",
]
