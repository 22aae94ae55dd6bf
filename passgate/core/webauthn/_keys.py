"""Credential public keys: COSE_Key bytes -> (COSE alg, cryptography key), key-strength rules, and signatures.

The COSE_Key is decoded here (RFC 9052 §7, RFC 9053 §7, RFC 8230 §4), not by py_webauthn, so that every way a
key can be unusable has its own reason:

- not a CBOR map with an integer ``alg``: ``malformed_attestation_object``;
- an ``alg`` the RP does not allow, or py_webauthn 3.0.1 cannot verify (no ES384, no Ed448):
  ``algorithm_not_allowed``;
- ``kty`` / ``crv`` other than the ones the ``alg`` names (ES256 on a P-384 key, RS256 on an EC2 key):
  ``credential_key_alg_mismatch``;
- a curve that is not P-256, P-384, P-521 (EC2) or Ed25519 (OKP): ``unsupported_curve``;
- an RSA modulus under :data:`MIN_RSA_BITS`: ``credential_key_too_weak``;
- anything else that does not define exactly one valid public key (a point off the curve or at infinity,
  coordinates of the wrong length or not below the field prime, a compressed point, an Ed25519 key that is not
  32 bytes, an even or tiny RSA exponent, an even modulus, a modulus over :data:`MAX_RSA_BITS`, members of the
  wrong type): ``credential_key_invalid``.

The rules on the key itself are :func:`passgate.core.keys.key_strength_problem`, which attestation certificates'
keys and OpenID Connect clients' keys go through too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.mldsa import (
    MLDSA44PublicKey,
    MLDSA65PublicKey,
    MLDSA87PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from webauthn.helpers import parse_cbor
from webauthn.helpers import verify_signature as _library_verify_signature
from webauthn.helpers.cose import COSEAlgorithmIdentifier as _Alg

from passgate.core.errors import CeremonyRejected, RejectReason
from passgate.core.keys import MAX_RSA_BITS, MIN_RSA_BITS, KeyProblem, key_strength_problem

_R = RejectReason

# COSE labels (RFC 9052 §7.1, RFC 9053 §7.1-7.2, RFC 8230 §4) and values
_KTY, _ALG, _CRV_OR_N, _X_OR_E, _Y = 1, 3, -1, -2, -3
_OKP, _EC2, _RSA, _AKP = 1, 2, 3, 7  # AKP: the ML-DSA key type py_webauthn 3.0.1 decodes
_KTY_NAMES: Mapping[int, str] = {_OKP: "OKP", _EC2: "EC2", _RSA: "RSA", _AKP: "AKP"}
_P256, _P384, _P521, _ED25519 = 1, 2, 3, 6
_EC2_CURVES: Mapping[int, ec.EllipticCurve] = {_P256: ec.SECP256R1(), _P384: ec.SECP384R1(), _P521: ec.SECP521R1()}
_CURVE_NAMES: Mapping[int, str] = {_P256: "P-256", _P384: "P-384", _P521: "P-521", _ED25519: "Ed25519"}
_ED25519_KEY_BYTES = 32

_ML_DSA: Mapping[int, Callable[[bytes], PublicKeyTypes]] = {
    _Alg.ML_DSA_44: MLDSA44PublicKey.from_public_bytes,
    _Alg.ML_DSA_65: MLDSA65PublicKey.from_public_bytes,
    _Alg.ML_DSA_87: MLDSA87PublicKey.from_public_bytes,
}
_RSA_ALGS = (
    _Alg.RSASSA_PKCS1_v1_5_SHA_256,
    _Alg.RSASSA_PKCS1_v1_5_SHA_384,
    _Alg.RSASSA_PKCS1_v1_5_SHA_512,
    _Alg.RSASSA_PKCS1_v1_5_SHA_1,
    _Alg.RSASSA_PSS_SHA_256,
    _Alg.RSASSA_PSS_SHA_384,
    _Alg.RSASSA_PSS_SHA_512,
)
# COSE alg -> the (kty, crv) its key must have (crv None: the key type has no curve)
_ALG_KEY: Mapping[int, tuple[int, int | None]] = {
    _Alg.ECDSA_SHA_256: (_EC2, _P256),
    _Alg.ECDSA_SHA_512: (_EC2, _P521),
    _Alg.EDDSA: (_OKP, _ED25519),
    **{alg: (_RSA, None) for alg in _RSA_ALGS},
    **{alg: (_AKP, None) for alg in _ML_DSA},
}
SUPPORTED_ALGORITHMS: frozenset[int] = frozenset(int(alg) for alg in _ALG_KEY)


@dataclass(frozen=True, slots=True)
class CredentialKey:
    algorithm: int
    public_key: PublicKeyTypes


class KeyRejected(Exception):
    """The COSE key is unusable; ``reason`` says why (see the module docstring)."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# ---------------------------------------------------------------------------------------------
# COSE_Key decoding
# ---------------------------------------------------------------------------------------------


def _cose_map(cose_key: bytes) -> Mapping[Any, Any]:
    try:
        decoded = parse_cbor(cose_key)
    except Exception as exc:
        raise KeyRejected(_R.MALFORMED_ATTESTATION_OBJECT, "credential public key is not CBOR") from exc
    alg = decoded.get(_ALG) if isinstance(decoded, dict) else None
    if not isinstance(alg, int) or isinstance(alg, bool):
        raise KeyRejected(_R.MALFORMED_ATTESTATION_OBJECT, "credential public key is not a COSE_Key with an int alg")
    members: Mapping[Any, Any] = decoded
    return members


def cose_algorithm(cose_key: bytes) -> int:
    """The ``alg`` (label 3) of a COSE_Key map; :class:`KeyRejected` if there is none."""
    alg: int = _cose_map(cose_key)[_ALG]
    return alg


def _integer(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise KeyRejected(_R.CREDENTIAL_KEY_INVALID, f"credential key {what} is not an integer")
    return value


def _bytes(value: object, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, bytes) or not value:
        raise KeyRejected(_R.CREDENTIAL_KEY_INVALID, f"credential key {what} is not a byte string")
    if length is not None and len(value) != length:
        raise KeyRejected(_R.CREDENTIAL_KEY_INVALID, f"credential key {what} is {len(value)} bytes, not {length}")
    return value


def _ec2_key(members: Mapping[Any, Any], crv: int) -> PublicKeyTypes:
    curve = _EC2_CURVES[crv]
    size = (curve.key_size + 7) // 8
    x = _bytes(members.get(_X_OR_E), "x", size)
    y_member = members.get(_Y)
    if isinstance(y_member, bool):
        raise KeyRejected(_R.CREDENTIAL_KEY_INVALID, "credential key is a compressed point (y is a sign bit)")
    y = _bytes(y_member, "y", size)
    try:
        key = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve).public_key()
    except ValueError as exc:
        raise KeyRejected(_R.CREDENTIAL_KEY_INVALID, "credential key point is not on the curve") from exc
    # Coordinates at or above the field prime are reduced by the library: refuse such non-canonical points.
    if key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint) != b"\x04" + x + y:
        raise KeyRejected(_R.CREDENTIAL_KEY_INVALID, "credential key coordinates are not below the field prime")
    return key


def _rsa_key(members: Mapping[Any, Any]) -> PublicKeyTypes:
    n = int.from_bytes(_bytes(members.get(_CRV_OR_N), "n"), "big")
    e = int.from_bytes(_bytes(members.get(_X_OR_E), "e"), "big")
    if n.bit_length() < MIN_RSA_BITS:  # "too weak" for a short modulus, whatever its exponent
        raise KeyRejected(_R.CREDENTIAL_KEY_TOO_WEAK,
                          f"{n.bit_length()}-bit RSA key: at least {MIN_RSA_BITS} bits are required")
    if n.bit_length() > MAX_RSA_BITS:
        raise KeyRejected(_R.CREDENTIAL_KEY_INVALID, f"{n.bit_length()}-bit RSA key: more than {MAX_RSA_BITS} bits")
    try:
        return rsa.RSAPublicNumbers(e=e, n=n).public_key()
    except ValueError as exc:  # e < 3, e even, e >= n
        raise KeyRejected(_R.CREDENTIAL_KEY_INVALID, f"RSA public key is invalid: {exc}") from exc


def _key_for(alg: int, members: Mapping[Any, Any]) -> PublicKeyTypes:
    kty = _integer(members.get(_KTY), "kty")
    want_kty, want_crv = _ALG_KEY[alg]
    if kty != want_kty:
        raise KeyRejected(_R.CREDENTIAL_KEY_ALG_MISMATCH, f"COSE algorithm {alg} needs a {_KTY_NAMES[want_kty]} key, "
                          f"not key type {kty}")
    if kty == _RSA:
        return _rsa_key(members)
    if kty == _AKP:
        try:
            return _ML_DSA[alg](_bytes(members.get(_CRV_OR_N), "pub"))
        except ValueError as exc:
            raise KeyRejected(_R.CREDENTIAL_KEY_INVALID, "ML-DSA public key is invalid") from exc
    crv = _integer(members.get(_CRV_OR_N), "crv")
    if crv not in (_EC2_CURVES if kty == _EC2 else (_ED25519,)):
        raise KeyRejected(_R.UNSUPPORTED_CURVE, f"curve {crv} is not supported for {_KTY_NAMES[kty]} keys")
    if crv != want_crv:
        wanted, given = _CURVE_NAMES.get(want_crv or 0), _CURVE_NAMES[crv]
        raise KeyRejected(_R.CREDENTIAL_KEY_ALG_MISMATCH, f"COSE algorithm {alg} needs curve {wanted}, not {given}")
    if kty == _EC2:
        return _ec2_key(members, crv)
    try:
        return ed25519.Ed25519PublicKey.from_public_bytes(_bytes(members.get(_X_OR_E), "x", _ED25519_KEY_BYTES))
    except ValueError as exc:
        raise KeyRejected(_R.CREDENTIAL_KEY_INVALID, "Ed25519 public key is invalid") from exc


def decode_key(cose_key: bytes) -> CredentialKey:
    """Decode a COSE_Key into a cryptography key we can verify signatures with; :class:`KeyRejected` if unusable."""
    members = _cose_map(cose_key)
    alg: int = members[_ALG]
    if alg not in SUPPORTED_ALGORITHMS:
        raise KeyRejected(_R.ALGORITHM_NOT_ALLOWED, f"COSE algorithm {alg} is not supported")
    public_key = _key_for(alg, members)
    problem = key_strength_problem(public_key)
    if problem is not None:
        kind, message = problem
        raise KeyRejected(_R.CREDENTIAL_KEY_TOO_WEAK if kind is KeyProblem.TOO_WEAK else _R.CREDENTIAL_KEY_INVALID,
                          f"credential key: {message}")
    return CredentialKey(algorithm=alg, public_key=public_key)


def load_credential_key(cose_key: bytes, allowed_algorithms: tuple[int, ...]) -> CredentialKey:
    """Registration: the key must decode and its alg be allowed by the RP (§7.1 alg step)."""
    try:
        if cose_algorithm(cose_key) not in allowed_algorithms:
            raise CeremonyRejected(_R.ALGORITHM_NOT_ALLOWED, "credential algorithm is not allowed")
        return decode_key(cose_key)
    except KeyRejected as exc:
        raise CeremonyRejected(exc.reason, str(exc)) from exc


def check_signature(key: CredentialKey, signature: bytes, data: bytes) -> None:
    """§7.2 signature step: any library error (bad DER, wrong length, ...) is SIGNATURE_INVALID."""
    try:
        _library_verify_signature(
            public_key=key.public_key,
            signature_alg=_Alg(key.algorithm),
            signature=signature,
            data=data,
        )
    except Exception as exc:
        raise CeremonyRejected(_R.SIGNATURE_INVALID, "assertion signature does not verify") from exc
