"""Why an MDS3 metadata BLOB was refused: one reason code per check, with a message that names the culprit."""

from __future__ import annotations

from enum import StrEnum, unique
from typing import NoReturn

from passgate.core.errors import PassgateError


@unique
class MetadataRejectReason(StrEnum):
    """The check an MDS3 BLOB failed (FIDO Metadata Service v3 §3.2, plus our date/CRL/rollback policy)."""

    MALFORMED_BLOB = "malformed_blob"  # not a compact JWS, truncated, bad base64url, bad JSON, bad header/payload shape
    TOO_LARGE = "too_large"  # more bytes than the caller's limit
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"  # JWS alg not RS256/ES256/PS256 ("none", HS*, ...)
    BAD_SIGNATURE = "bad_signature"  # the JWS signature does not verify with the x5c leaf key
    UNTRUSTED_CHAIN = "untrusted_chain"  # x5c does not chain to the configured root, or carries the root itself
    CERTIFICATE_EXPIRED = "certificate_expired"  # a chain certificate (root included) ended before the given time
    CERTIFICATE_NOT_YET_VALID = "certificate_not_yet_valid"  # a chain certificate starts after the given time
    CERTIFICATE_REVOKED = "certificate_revoked"  # a supplied, correctly signed CRL revokes a chain certificate
    CRL_INVALID = "crl_invalid"  # a supplied CRL is unparseable or not signed by the certificate it names as issuer
    ROLLBACK = "rollback"  # the BLOB's serial number `no` is lower than the one in force
    MALFORMED_CERTIFICATE = "malformed_certificate"  # an x5c element (or the root) is not a DER X.509 certificate
    MALFORMED_ENTRY = "malformed_entry"  # a payload entry lacks a required field or has a wrong type/value


class MetadataRejected(PassgateError):
    """An MDS3 BLOB was not accepted; the caller keeps the snapshot it already has."""

    def __init__(self, reason: MetadataRejectReason, message: str) -> None:
        super().__init__(message, code=reason.value)
        self.reason = reason


def reject(reason: MetadataRejectReason, message: str) -> NoReturn:
    """Refuse the BLOB being verified, for ``reason``."""
    raise MetadataRejected(reason, message)


def short(value: object, limit: int = 120) -> str:
    """``value`` as text for a refusal's message, cut to ``limit`` characters."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."
