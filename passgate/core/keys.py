"""Public-key strength rules, one place for every key Passgate accepts from outside: WebAuthn credential keys,
attestation certificates' keys, and OpenID Connect clients' registered keys (private_key_jwt).

- RSA: a modulus of :data:`MIN_RSA_BITS` to :data:`MAX_RSA_BITS` bits, odd; a public exponent that is odd, at least
  3 and below 2**256 (FIPS 186-5 §A.1.1 bounds e for key generation; 3 is still accepted, as verifiers do).
- Elliptic curves: at least :data:`MIN_EC_BITS` bits (``cryptography`` refuses points off the curve when it builds
  the key, so a key object here always holds a point on it).
- Ed25519, Ed448 and ML-DSA keys: accepted. Anything else (DSA, X25519, ...) is not a signature key WebAuthn or
  JOSE uses here: refused as too weak.
"""

from __future__ import annotations

from enum import StrEnum, unique

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.mldsa import (
    MLDSA44PublicKey,
    MLDSA65PublicKey,
    MLDSA87PublicKey,
)

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 16384  # larger moduli only cost verification time
MIN_EC_BITS = 256
MAX_RSA_EXPONENT_BITS = 256


@unique
class KeyProblem(StrEnum):
    TOO_WEAK = "too_weak"
    INVALID = "invalid"


def _rsa_problem(key: rsa.RSAPublicKey) -> tuple[KeyProblem, str] | None:
    numbers = key.public_numbers()
    bits = numbers.n.bit_length()
    if bits < MIN_RSA_BITS:
        return KeyProblem.TOO_WEAK, f"{bits}-bit RSA key: at least {MIN_RSA_BITS} bits are required"
    if bits > MAX_RSA_BITS:
        return KeyProblem.INVALID, f"{bits}-bit RSA key: more than {MAX_RSA_BITS} bits"
    if numbers.n % 2 == 0:
        return KeyProblem.INVALID, "RSA modulus is even"
    if numbers.e % 2 == 0 or numbers.e < 3 or numbers.e.bit_length() > MAX_RSA_EXPONENT_BITS:
        return KeyProblem.INVALID, f"RSA public exponent must be odd, at least 3 and below 2**{MAX_RSA_EXPONENT_BITS}"
    return None


_OTHER_SIGNATURE_KEYS = (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey, MLDSA44PublicKey, MLDSA65PublicKey,
                         MLDSA87PublicKey)


def key_strength_problem(key: object) -> tuple[KeyProblem, str] | None:
    """What is wrong with a public key whatever carries it (credential, certificate, JWK), or None."""
    if isinstance(key, rsa.RSAPublicKey):
        return _rsa_problem(key)
    if isinstance(key, ec.EllipticCurvePublicKey):
        # cryptography refuses points off the curve when it builds the key
        if key.curve.key_size < MIN_EC_BITS:
            return KeyProblem.TOO_WEAK, f"{key.curve.name} key: curves of at least {MIN_EC_BITS} bits are required"
        return None
    if isinstance(key, _OTHER_SIGNATURE_KEYS):
        return None
    return KeyProblem.TOO_WEAK, f"a {type(key).__name__} is not a signature key Passgate accepts"


__all__ = ["MAX_RSA_BITS", "MIN_EC_BITS", "MIN_RSA_BITS", "KeyProblem", "key_strength_problem"]
