"""One typed error hierarchy for the core, each error carrying a reason code.

Adapters map these exactly once: to an HTTP JSON error, to a template message, to an audit row.
"""

from __future__ import annotations

from enum import StrEnum, unique


@unique
class RejectReason(StrEnum):
    """Why a WebAuthn ceremony was refused (WebAuthn L3 §7.1 / §7.2 relying-party checks)."""

    # Input shape (bad JSON, wrong types, non-base64url, truncated CBOR)
    MALFORMED_CREDENTIAL = "malformed_credential"
    MALFORMED_CLIENT_DATA = "malformed_client_data"
    MALFORMED_AUTHENTICATOR_DATA = "malformed_authenticator_data"
    MALFORMED_ATTESTATION_OBJECT = "malformed_attestation_object"
    ID_MISMATCH = "id_mismatch"  # id != base64url(rawId)
    WRONG_CREDENTIAL_TYPE = "wrong_credential_type"  # type != "public-key"
    # Client data (§7.1 steps 7-11, §7.2 steps 10-14)
    WRONG_CEREMONY_TYPE = "wrong_ceremony_type"  # C.type
    CHALLENGE_MISMATCH = "challenge_mismatch"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    CROSS_ORIGIN_NOT_ALLOWED = "cross_origin_not_allowed"
    TOP_ORIGIN_NOT_ALLOWED = "top_origin_not_allowed"
    TOKEN_BINDING_INVALID = "token_binding_invalid"  # noqa: S105 - a reason code, not a secret
    # Authenticator data (§7.1 steps 14-20, §7.2 steps 15-19)
    RP_ID_HASH_MISMATCH = "rp_id_hash_mismatch"
    USER_NOT_PRESENT = "user_not_present"
    USER_NOT_VERIFIED = "user_not_verified"
    BACKUP_STATE_INCONSISTENT = "backup_state_inconsistent"  # BE=0 and BS=1
    BACKUP_ELIGIBILITY_CHANGED = "backup_eligibility_changed"  # BE differs from the stored record
    ATTESTED_DATA_MISSING = "attested_credential_data_missing"
    ALGORITHM_NOT_ALLOWED = "algorithm_not_allowed"
    # Credential public key (§7.1 step 20, and again for a stored key at every sign-in)
    CREDENTIAL_KEY_TOO_WEAK = "credential_key_too_weak"  # RSA modulus under 2048 bits
    CREDENTIAL_KEY_INVALID = "credential_key_invalid"  # off-curve point, bad exponent, wrong member lengths/types
    UNSUPPORTED_CURVE = "unsupported_curve"  # crv not P-256/P-384/P-521 (EC2) or Ed25519 (OKP)
    CREDENTIAL_KEY_ALG_MISMATCH = "credential_key_alg_mismatch"  # kty/crv not the ones alg names (ES256 on P-384)
    # Attestation statement (§7.1 steps 21-22)
    UNSUPPORTED_ATTESTATION_FORMAT = "unsupported_attestation_format"
    ATTESTATION_INVALID = "attestation_invalid"
    # Attestation certificate requirements (§8.2.1 packed, §8.3.1 tpm, §8.4.1 android-key, §8.5, §8.6, §8.8 apple)
    ATTESTATION_CERTIFICATE_MALFORMED = "attestation_certificate_malformed"  # x5c element or extension undecodable
    ATTESTATION_CERTIFICATE_KEY_TOO_WEAK = "attestation_certificate_key_too_weak"  # any x5c certificate's key
    ATTESTATION_CERTIFICATE_VERSION = "attestation_certificate_version"  # packed, tpm: not X.509 v3
    ATTESTATION_CERTIFICATE_SUBJECT = "attestation_certificate_subject"  # packed C/O/OU/CN, tpm empty, SafetyNet CN
    ATTESTATION_CERTIFICATE_CA = "attestation_certificate_ca"  # packed, tpm: basic constraints missing or CA=true
    ATTESTATION_CERTIFICATE_AAGUID = "attestation_certificate_aaguid"  # id-fido-gen-ce-aaguid critical or differs
    ATTESTATION_CERTIFICATE_SAN = "attestation_certificate_san"  # tpm: TPM manufacturer/model/version names
    ATTESTATION_CERTIFICATE_EKU = "attestation_certificate_eku"  # tpm: no tcg-kp-AIKCertificate
    ATTESTATION_CERTIFICATE_KEY_MISMATCH = "attestation_certificate_key_mismatch"  # android-key, apple
    ATTESTATION_CHALLENGE_MISMATCH = "attestation_challenge_mismatch"  # android-key challenge, apple nonce
    ATTESTATION_KEY_AUTHORIZATION = "attestation_key_authorization"  # android-key allApplications/origin/purpose
    # Credential record (§7.1 steps 25-26, §7.2 steps 5-6, 21-22)
    CREDENTIAL_ID_TOO_LONG = "credential_id_too_long"
    CREDENTIAL_ALREADY_REGISTERED = "credential_already_registered"
    CREDENTIAL_NOT_ALLOWED = "credential_not_allowed"  # not in allowCredentials
    UNKNOWN_CREDENTIAL = "unknown_credential"
    USER_HANDLE_MISMATCH = "user_handle_mismatch"
    USER_HANDLE_MISSING = "user_handle_missing"
    SIGNATURE_INVALID = "signature_invalid"
    SIGN_COUNT_REGRESSION = "sign_count_regression"  # possible cloned authenticator
    # Challenge lifecycle (adapter-level, but named here so every edge shares one vocabulary)
    CHALLENGE_UNKNOWN = "challenge_unknown"
    CHALLENGE_EXPIRED = "challenge_expired"
    CHALLENGE_CONSUMED = "challenge_consumed"
    CHALLENGE_WRONG_SESSION = "challenge_wrong_session"


class PassgateError(Exception):
    """Base of every error the core raises. ``code`` is stable and machine-readable."""

    code: str = "passgate_error"

    def __init__(self, message: str, *, code: str | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail  # technical detail for the audit log only, never shown to people
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class CeremonyRejected(PassgateError):
    """A WebAuthn registration or authentication response failed a relying-party check."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message, code=reason.value)
        self.reason = reason


class InvalidInput(PassgateError):
    """A value given to the core is malformed (not a ceremony rejection: a caller error).

    ``rule`` says which rule a value broke when one code covers several (``invalid_display_name``: ``required``,
    ``too_long``, ``unprintable``), so an adapter can say it in its own words without reading the message.
    """

    code = "invalid_input"

    def __init__(self, message: str, *, code: str | None = None, rule: str = "") -> None:
        super().__init__(message, code=code)
        self.rule = rule


class TemporaryAccessPassRejected(PassgateError):
    """A Temporary Access Pass did not verify (wrong, expired, used up, not yet valid)."""

    code = "tap_invalid"


class Throttled(PassgateError):
    """Too many failed guesses of a secret: refused before the secret was looked at (``core.throttle``).

    ``retry_after`` is the whole number of seconds until an attempt is checked again.
    """

    code = "throttled"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class NotFound(PassgateError):
    """The named object does not exist (or the caller may not know it exists)."""

    code = "not_found"


class Conflict(PassgateError):
    """The change clashes with existing state (a duplicate name, a member already in a group)."""

    code = "conflict"


class NotSignedIn(PassgateError):
    """The request needs a signed-in person and has none."""

    code = "not_signed_in"


class AccessDenied(PassgateError):
    """The caller may not do this (disabled account, missing role, suspended credential)."""

    code = "access_denied"


class PolicyDenied(AccessDenied):
    """The organisation's authentication methods policy does not allow this (the code names the rule)."""

    code = "policy_denied"
