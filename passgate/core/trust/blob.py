"""FIDO Metadata Service v3: verify a metadata BLOB and turn it into an immutable, indexed snapshot
(``mds.MetadataSnapshot``; the payload's entries are read by ``_entries``).

A BLOB is accepted only when (in this order, the first failure is the reason given):

1. it is at most ``max_bytes`` long and is a compact JWS (three base64url parts, JSON header);
2. its header ``alg`` is RS256, ES256 or PS256 (``none``, ``HS*`` and everything else are refused);
3. its ``x5c`` certificates parse, do not include the configured root, and chain to it: each certificate
   names the next one (the root last) as issuer, is signed by its key, and every issuer is a CA;
4. the JWS signature verifies with the key of ``x5c[0]``;
5. every chain certificate, the root included, is within its validity dates at ``now``;
6. no supplied CRL revokes a chain certificate (a CRL counts when its issuer name matches a chain
   certificate and its signature verifies with that certificate's key; an unparseable CRL, or one whose
   signature does not verify, is itself a refusal);
7. the payload parses, its serial number ``no`` is not lower than ``current_no`` (no rollback), and every
   entry has the fields MDS3 requires, with no AAGUID or key identifier listed twice.

A BLOB past its ``nextUpdate`` is not refused: the snapshot says ``stale=True`` and the caller decides.

python-fido2's ``fido2.mds3.parse_blob`` is not used, on purpose: it checks neither names nor CA flags
along the chain, it verifies ES256 only with DER signatures (JWS uses raw ``r||s``), its PS256 key swaps the
RSA modulus and exponent, it raises bare library exceptions, and its typed payload parser spends ~2.5 ms per
entry (25 s for a 10,000-entry BLOB). The checks are short enough to own; tests cross-check the result
against ``parse_blob`` on the real production BLOB.

Pure: no clock (the verification time is an argument), no I/O except reading the shipped root.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from itertools import pairwise
from typing import Final, NoReturn

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from passgate.core.errors import InvalidInput
from passgate.core.text import map_strings, may_hold_unusable, replace_unusable
from passgate.core.trust._entries import check_duplicates, entry, payload_fields
from passgate.core.trust.errors import MetadataRejectReason, reject, short
from passgate.core.trust.mds import MetadataSnapshot

_R = MetadataRejectReason

DEFAULT_MAX_BYTES: Final = 16 * 1024 * 1024
ALLOWED_ALGORITHMS: Final = frozenset({"RS256", "ES256", "PS256"})
MAX_CHAIN_LENGTH: Final = 8
GLOBALSIGN_ROOT_R3_SHA256: Final = "cbb522d7b7f127ad6a0113865bdf1cd4102e7d0759af635a7cf4720dc963c53b"


def default_root_der() -> bytes:
    """GlobalSign Root CA - R3, the root of the FIDO production MDS3 BLOB, shipped with the package."""
    return resources.files("passgate.core.trust").joinpath("roots", "globalsign-root-r3.der").read_bytes()


def verify_blob(
    blob: bytes,
    *,
    root_der: bytes,
    now: datetime,
    crls: Sequence[bytes] = (),
    current_no: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> MetadataSnapshot:
    """Verify an MDS3 BLOB against ``root_der`` at time ``now``; raise ``MetadataRejected`` saying why not.

    ``crls`` are DER or PEM CRLs (those whose issuer is not in the chain are ignored). ``current_no`` is the
    serial number of the snapshot in force, if any. ``now`` must be timezone-aware.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("the verification time must be timezone-aware")
    now = now.astimezone(UTC)
    data = bytes(blob)
    if len(data) > max_bytes:
        reject(_R.TOO_LARGE, f"the BLOB is {len(data)} bytes, more than the limit of {max_bytes}")
    data = data.strip()
    parts = data.split(b".")
    if len(parts) != 3:
        reject(_R.MALFORMED_BLOB, f"not a compact JWS: {len(parts)} dot-separated part(s), expected 3")
    header_b64, payload_b64, signature_b64 = parts
    header = _json_object(_b64url(header_b64, "header"), "header")
    payload_bytes = _b64url(payload_b64, "payload")
    signature = _b64url(signature_b64, "signature")

    alg = _algorithm(header)
    chain = _x5c(header)
    root = _load_root(root_der)
    _verify_chain(chain, root)
    _verify_signature(alg, header_b64 + b"." + payload_b64, signature, chain[0])
    full_chain = [*chain, root]
    _check_validity(full_chain, now)
    _check_crls(full_chain, crls, now)

    payload = _json_object(payload_bytes, "payload")
    no, next_update, legal_header, raw_entries = payload_fields(payload)
    if current_no is not None and no < current_no:
        reject(_R.ROLLBACK, f"the BLOB's serial number no={no} is lower than the one in force, no={current_no}")
    entries = tuple(entry(index, raw) for index, raw in enumerate(raw_entries))
    check_duplicates(entries)
    return MetadataSnapshot(
        no=no,
        next_update=next_update,
        legal_header=legal_header,
        stale=now.date() > next_update,
        entries=entries,
    )


# --- JWS structure ---------------------------------------------------------------------------------------------

_B64URL: Final = re.compile(rb"[A-Za-z0-9_-]*")


def _b64url(part: bytes, what: str) -> bytes:
    if _B64URL.fullmatch(part) is None or len(part) % 4 == 1:
        reject(_R.MALFORMED_BLOB, f"the JWS {what} is not base64url (truncated or corrupted?)")
    return base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4))


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _json_object(raw: bytes, what: str) -> dict[str, object]:
    try:
        # The signature covers the bytes; NUL and lone surrogates in the text become U+FFFD so that what is stored
        # from it (the legal header, a passkey's model name) can be (core.text).
        text = raw.decode("utf-8")
        value: object = json.loads(text, parse_constant=_refuse_constant)
        if may_hold_unusable(text):
            value = map_strings(value, replace_unusable)
    except (ValueError, RecursionError) as exc:
        reject(_R.MALFORMED_BLOB, f"the JWS {what} is not UTF-8 JSON: {short(exc)}")
    if not isinstance(value, dict):
        reject(_R.MALFORMED_BLOB, f"the JWS {what} is JSON but not an object")
    return value


def _algorithm(header: Mapping[str, object]) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str):
        reject(_R.MALFORMED_BLOB, "the JWS header has no string 'alg'")
    if alg not in ALLOWED_ALGORITHMS:
        reject(_R.UNSUPPORTED_ALGORITHM,
                f"JWS alg {short(alg)!r} is not accepted (only {', '.join(sorted(ALLOWED_ALGORITHMS))})")
    if "crit" in header:
        reject(_R.MALFORMED_BLOB, "the JWS header has a 'crit' parameter; no critical extension is supported")
    return alg


def _x5c(header: Mapping[str, object]) -> list[x509.Certificate]:
    x5c = header.get("x5c")
    if x5c is None:
        reject(_R.UNTRUSTED_CHAIN, "the JWS header has no x5c certificate chain")
    if not isinstance(x5c, list) or not x5c:
        reject(_R.MALFORMED_BLOB, "the JWS header's x5c is not a non-empty list")
    if len(x5c) > MAX_CHAIN_LENGTH:
        reject(_R.UNTRUSTED_CHAIN, f"x5c has {len(x5c)} certificates, more than {MAX_CHAIN_LENGTH}")
    chain = []
    for index, item in enumerate(x5c):
        if not isinstance(item, str):
            reject(_R.MALFORMED_CERTIFICATE, f"x5c[{index}] is not a string")
        try:
            der = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            reject(_R.MALFORMED_CERTIFICATE, f"x5c[{index}] is not base64 (x5c uses standard base64, RFC 7515)")
        chain.append(_load_certificate(der, f"x5c[{index}]"))
    return chain


def _load_certificate(der: bytes, what: str) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(der)
        cert.subject.rfc4514_string()  # names and dates parse lazily: force them here
        cert.issuer.rfc4514_string()
        _ = cert.not_valid_before_utc, cert.not_valid_after_utc
        cert.public_key()
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        reject(_R.MALFORMED_CERTIFICATE, f"{what} is not a usable DER X.509 certificate: {short(exc)}")
    return cert


def _load_root(root_der: bytes) -> x509.Certificate:
    return _load_certificate(root_der, "the configured root")


# --- chain, signature, dates, CRLs -----------------------------------------------------------------------------


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _verify_chain(chain: Sequence[x509.Certificate], root: x509.Certificate) -> None:
    for index, cert in enumerate(chain):
        if cert == root or (cert.subject == root.subject and cert.public_key() == root.public_key()):
            reject(_R.UNTRUSTED_CHAIN,
                    f"x5c[{index}] is the trust root itself ({_subject(root)}): the root must come from "
                    "configuration, never from the BLOB")
    certs = [*chain, root]
    for index, (child, issuer) in enumerate(pairwise(certs)):
        issuer_name = "the configured root" if issuer is root else f"x5c[{index + 1}]"
        if child.issuer != issuer.subject:
            reject(_R.UNTRUSTED_CHAIN,
                    f"x5c[{index}] ({_subject(child)}) is issued by {child.issuer.rfc4514_string()}, "
                    f"not by {issuer_name} ({_subject(issuer)})")
        if not _is_ca(issuer, issuer_name):
            reject(_R.UNTRUSTED_CHAIN, f"{issuer_name} ({_subject(issuer)}) is not a CA certificate")
        try:
            child.verify_directly_issued_by(issuer)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            reject(_R.UNTRUSTED_CHAIN,
                    f"the signature on x5c[{index}] ({_subject(child)}) does not verify with the key of "
                    f"{issuer_name} ({_subject(issuer)}): {short(exc) or 'invalid signature'}")


def _is_ca(cert: x509.Certificate, what: str) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    except ValueError as exc:
        reject(_R.MALFORMED_CERTIFICATE, f"{what} ({_subject(cert)}) has malformed extensions: {short(exc)}")
    return constraints.ca


def _verify_signature(alg: str, signing_input: bytes, signature: bytes, leaf: x509.Certificate) -> None:
    key = leaf.public_key()
    try:
        if alg in {"RS256", "PS256"}:
            if not isinstance(key, rsa.RSAPublicKey):
                reject(_R.BAD_SIGNATURE, f"JWS alg {alg} needs an RSA key; {_subject(leaf)} has another kind")
            pad: padding.AsymmetricPadding = (
                padding.PKCS1v15() if alg == "RS256"
                else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)  # RFC 7518 §3.5
            )
            key.verify(signature, signing_input, pad, hashes.SHA256())
        else:  # ES256
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
                reject(_R.BAD_SIGNATURE, f"JWS alg ES256 needs a P-256 key; {_subject(leaf)} has another kind")
            key.verify(_ecdsa_der(signature), signing_input, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as exc:
        reject(_R.BAD_SIGNATURE,
                f"the {alg} JWS signature does not verify with the key of {_subject(leaf)}"
                + (f": {short(exc)}" if str(exc) else ""))


def _ecdsa_der(signature: bytes) -> bytes:
    """JWS ES256 signatures are raw ``r || s`` (RFC 7518 §3.4). Other lengths are taken as DER, the encoding
    python-fido2 and the MDS3 spec example use: both encode the same (r, s), so this loosens nothing."""
    if len(signature) == 64:
        return encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    return signature


def _check_validity(chain: Sequence[x509.Certificate], now: datetime) -> None:
    for cert in chain:
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        if now < not_before:
            reject(_R.CERTIFICATE_NOT_YET_VALID,
                    f"certificate {_subject(cert)} is not valid before {not_before.isoformat()} "
                    f"(verification time {now.isoformat()})")
        if now > not_after:
            reject(_R.CERTIFICATE_EXPIRED,
                    f"certificate {_subject(cert)} expired on {not_after.isoformat()} "
                    f"(verification time {now.isoformat()})")


def _load_crl(raw: bytes, index: int) -> x509.CertificateRevocationList:
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(raw)
        return x509.load_der_x509_crl(raw)
    except ValueError as exc:
        reject(_R.CRL_INVALID, f"CRL #{index} is not a DER or PEM X.509 CRL: {short(exc)}")


def _check_crls(chain: Sequence[x509.Certificate], crls: Sequence[bytes], now: datetime) -> None:
    for index, raw in enumerate(crls):
        crl = _load_crl(bytes(raw), index)
        try:
            issuer = next((cert for cert in chain if cert.subject == crl.issuer), None)
            if issuer is None:
                continue  # a CRL of some other CA says nothing about this chain
            try:
                signed = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
            except (TypeError, UnsupportedAlgorithm):
                signed = False
            if not signed:
                reject(_R.CRL_INVALID,
                        f"CRL #{index} names {_subject(issuer)} as issuer but is not signed by its key")
            for cert in chain:
                if cert.issuer != crl.issuer:
                    continue
                revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                if revoked is not None and revoked.revocation_date_utc <= now:
                    reject(_R.CERTIFICATE_REVOKED,
                            f"certificate {_subject(cert)} (serial {cert.serial_number:x}) is revoked since "
                            f"{revoked.revocation_date_utc.isoformat()} by the CRL of {_subject(issuer)} "
                            f"(CRL #{index})")
        except ValueError as exc:
            reject(_R.CRL_INVALID, f"CRL #{index} is malformed: {short(exc)}")
