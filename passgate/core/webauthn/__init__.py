"""WebAuthn relying-party ceremonies (WebAuthn L3 §7.1 / §7.2), pure Python.

No Django, no I/O, no clock, no randomness: the caller issues and stores challenges, looks up
credential records, and persists the results. Every refusal is a
:class:`~passgate.core.errors.CeremonyRejected` carrying a :class:`~passgate.core.errors.RejectReason`.
"""

from passgate.core.webauthn.authentication import read_assertion_header, verify_authentication
from passgate.core.webauthn.options import authentication_options, registration_options
from passgate.core.webauthn.registration import read_registration_challenge, verify_registration
from passgate.core.webauthn.types import (
    DEFAULT_ALGORITHMS,
    EDDSA,
    ES256,
    MAX_CREDENTIAL_ID_LENGTH,
    MIN_CHALLENGE_LENGTH,
    RS256,
    AssertionHeader,
    CredentialDescriptor,
    RegisteredCredential,
    RelyingParty,
    StoredCredential,
    UserEntity,
    VerifiedAssertion,
)

__all__ = [
    "DEFAULT_ALGORITHMS",
    "EDDSA",
    "ES256",
    "MAX_CREDENTIAL_ID_LENGTH",
    "MIN_CHALLENGE_LENGTH",
    "RS256",
    "AssertionHeader",
    "CredentialDescriptor",
    "RegisteredCredential",
    "RelyingParty",
    "StoredCredential",
    "UserEntity",
    "VerifiedAssertion",
    "authentication_options",
    "read_assertion_header",
    "read_registration_challenge",
    "registration_options",
    "verify_authentication",
    "verify_registration",
]
