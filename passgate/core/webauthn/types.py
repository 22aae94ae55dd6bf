"""Values the WebAuthn ceremonies take and return (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field

# COSE algorithm identifiers (IANA "COSE Algorithms" registry)
ES256 = -7
EDDSA = -8
RS256 = -257
DEFAULT_ALGORITHMS: tuple[int, ...] = (ES256, EDDSA, RS256)

MAX_CREDENTIAL_ID_LENGTH = 1023  # WebAuthn L3 §7.1 step "credentialId length <= 1023 bytes"
MIN_CHALLENGE_LENGTH = 16


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """The relying party's fixed expectations, built once from settings.

    ``origins`` is an exact allow-list (scheme, host and port compared as strings; no wildcard,
    no subdomain matching). ``allowed_algorithms`` is the COSE allow-list, in preference order.
    """

    id: str
    name: str
    origins: tuple[str, ...]
    allowed_algorithms: tuple[int, ...] = DEFAULT_ALGORITHMS
    require_user_verification: bool = True
    allow_cross_origin: bool = False
    allowed_top_origins: tuple[str, ...] = ()
    timeout_ms: int = 300_000


@dataclass(frozen=True, slots=True)
class CredentialDescriptor:
    """A credential named in ``excludeCredentials`` or ``allowCredentials``."""

    id: bytes
    transports: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UserEntity:
    """``PublicKeyCredentialUserEntity``: ``handle`` is the opaque random user handle (never a UPN)."""

    handle: bytes
    name: str
    display_name: str


@dataclass(frozen=True, slots=True)
class RegisteredCredential:
    """A credential record to store after a successful registration (§7.1 step 27)."""

    credential_id: bytes
    public_key: bytes  # COSE_Key bytes as the authenticator sent them
    algorithm: int
    sign_count: int
    aaguid: str  # canonical 8-4-4-4-12 lower-case
    attestation_format: str
    transports: tuple[str, ...]
    backup_eligible: bool
    backup_state: bool
    user_verified: bool
    attestation_object: bytes
    client_data_json: bytes
    attestation_certificates: tuple[bytes, ...] = field(default=())  # DER, leaf first


@dataclass(frozen=True, slots=True)
class StoredCredential:
    """What the relying party stored for a credential, passed in to verify an assertion."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    backup_eligible: bool
    user_handle: bytes


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    """The outcome of a successful authentication (§7.2 step 24: values to update)."""

    credential_id: bytes
    new_sign_count: int
    backup_eligible: bool
    backup_state: bool
    user_verified: bool


@dataclass(frozen=True, slots=True)
class AssertionHeader:
    """Fields read from an assertion before verification, to find the stored records.

    ``challenge`` locates the issued challenge; ``credential_id`` and ``user_handle`` locate
    the credential record and its owner.
    """

    credential_id: bytes
    challenge: bytes
    user_handle: bytes | None
