"""Credential public keys: COSE_Key bytes -> (COSE alg, cryptography key), and signatures.

Only algorithms py_webauthn 3.0.1 can verify are usable, and the key type/curve must be the one
the ``alg`` names (an EC2 P-256 key labelled RS256 is refused rather than left to fail later).
py_webauthn has no ES384 (-35) nor Ed448: such keys are refused here even if the RP allows them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, SECP521R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.mldsa import (
    MLDSA44PublicKey,
    MLDSA65PublicKey,
    MLDSA87PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from webauthn.helpers import decode_credential_public_key, decoded_public_key_to_cryptography, parse_cbor
from webauthn.helpers import verify_signature as _library_verify_signature
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import UnsupportedEC2Curve, UnsupportedPublicKey

from passgate.core.errors import CeremonyRejected, RejectReason

_R = RejectReason
_COSE_ALG = 3


def _ec_curve(name: str) -> Callable[[PublicKeyTypes], bool]:
    return lambda key: isinstance(key, EllipticCurvePublicKey) and key.curve.name == name


def _is_rsa(key: PublicKeyTypes) -> bool:
    return isinstance(key, RSAPublicKey)


# COSE alg -> "is this cryptography key of the right type for it"
_KEY_MATCHES_ALG: Mapping[int, Callable[[PublicKeyTypes], bool]] = {
    COSEAlgorithmIdentifier.ECDSA_SHA_256: _ec_curve(SECP256R1.name),
    COSEAlgorithmIdentifier.ECDSA_SHA_512: _ec_curve(SECP521R1.name),
    COSEAlgorithmIdentifier.EDDSA: lambda key: isinstance(key, Ed25519PublicKey),
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256: _is_rsa,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_384: _is_rsa,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_512: _is_rsa,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_1: _is_rsa,
    COSEAlgorithmIdentifier.RSASSA_PSS_SHA_256: _is_rsa,
    COSEAlgorithmIdentifier.RSASSA_PSS_SHA_384: _is_rsa,
    COSEAlgorithmIdentifier.RSASSA_PSS_SHA_512: _is_rsa,
    COSEAlgorithmIdentifier.ML_DSA_44: lambda key: isinstance(key, MLDSA44PublicKey),
    COSEAlgorithmIdentifier.ML_DSA_65: lambda key: isinstance(key, MLDSA65PublicKey),
    COSEAlgorithmIdentifier.ML_DSA_87: lambda key: isinstance(key, MLDSA87PublicKey),
}
SUPPORTED_ALGORITHMS: frozenset[int] = frozenset(int(alg) for alg in _KEY_MATCHES_ALG)


@dataclass(frozen=True, slots=True)
class CredentialKey:
    algorithm: int
    public_key: PublicKeyTypes


class UnusableKeyError(Exception):
    """The COSE key is malformed (``malformed``) or of a type/alg we cannot verify."""

    def __init__(self, message: str, *, malformed: bool) -> None:
        super().__init__(message)
        self.malformed = malformed


def cose_algorithm(cose_key: bytes) -> int:
    """The ``alg`` (label 3) of a COSE_Key map; :class:`UnusableKeyError` if there is none."""
    try:
        decoded = parse_cbor(cose_key)
    except Exception as exc:
        raise UnusableKeyError("credential public key is not CBOR", malformed=True) from exc
    alg = decoded.get(_COSE_ALG) if isinstance(decoded, dict) else None
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise UnusableKeyError("credential public key is not a COSE_Key with an integer alg", malformed=True)
    return alg


def decode_key(cose_key: bytes) -> CredentialKey:
    """Decode a COSE_Key into a cryptography key we can verify signatures with."""
    alg = cose_algorithm(cose_key)
    if alg not in SUPPORTED_ALGORITHMS:
        raise UnusableKeyError(f"COSE algorithm {alg} is not supported", malformed=False)
    try:
        decoded = decode_credential_public_key(cose_key)
    except Exception as exc:
        raise UnusableKeyError("credential public key does not decode", malformed=True) from exc
    try:
        public_key = decoded_public_key_to_cryptography(decoded)
    except (UnsupportedPublicKey, UnsupportedEC2Curve) as exc:  # e.g. Ed448, an unknown curve
        raise UnusableKeyError("credential key type or curve is not supported", malformed=False) from exc
    except Exception as exc:  # point not on the curve, bad RSA numbers, wrong member types
        raise UnusableKeyError("credential public key is not a valid key", malformed=True) from exc
    if not _KEY_MATCHES_ALG[alg](public_key):
        raise UnusableKeyError(f"credential key type does not match COSE algorithm {alg}", malformed=False)
    return CredentialKey(algorithm=alg, public_key=public_key)


def load_credential_key(cose_key: bytes, allowed_algorithms: tuple[int, ...]) -> CredentialKey:
    """Registration: the key must decode and its alg be allowed by the RP (§7.1 alg step)."""
    try:
        if cose_algorithm(cose_key) not in allowed_algorithms:
            raise CeremonyRejected(_R.ALGORITHM_NOT_ALLOWED, "credential algorithm is not allowed")
        return decode_key(cose_key)
    except UnusableKeyError as exc:
        reason = _R.MALFORMED_ATTESTATION_OBJECT if exc.malformed else _R.ALGORITHM_NOT_ALLOWED
        raise CeremonyRejected(reason, str(exc)) from exc


def check_signature(key: CredentialKey, signature: bytes, data: bytes) -> None:
    """§7.2 signature step: any library error (bad DER, wrong length, ...) is SIGNATURE_INVALID."""
    try:
        _library_verify_signature(
            public_key=key.public_key,
            signature_alg=COSEAlgorithmIdentifier(key.algorithm),
            signature=signature,
            data=data,
        )
    except Exception as exc:
        raise CeremonyRejected(_R.SIGNATURE_INVALID, "assertion signature does not verify") from exc
