"""The authenticator's side of the PIN/UV auth protocols (CTAP 2.1 §6.5.6 protocol one, §6.5.7 protocol two).

Each protocol object holds the authenticator's key agreement key (``initialize``/``regenerate``, §6.5.4),
answers ``getPublicKey`` as a COSE_Key, ``decapsulate``s the platform's key into the shared secret, and offers
``encrypt``/``decrypt``/``authenticate``/``verify`` with that secret or with a pinUvAuthToken.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fido2.ctap import CtapError

ERR = CtapError.ERR
COSE_ECDH_ES_HKDF_256 = -25  # §6.5.6: the alg the key agreement key is labelled with


class ProtocolOne:
    """PIN/UV auth protocol one (§6.5.6): SHA-256 KDF, AES-256-CBC with a zero IV, HMAC-SHA-256 cut to 16 bytes."""

    version = 1
    mac_length = 16

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def regenerate(self) -> None:
        """§6.5.4 regenerate(): a new key agreement key, so earlier shared secrets stop working."""
        self._key = ec.generate_private_key(ec.SECP256R1())

    def public_cose(self) -> dict[int, Any]:
        """§6.5.6 getPublicKey(): the key agreement key as a COSE_Key (EC2, P-256, alg -25)."""
        numbers = self._key.public_key().public_numbers()
        return {1: 2, 3: COSE_ECDH_ES_HKDF_256, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big")}

    def decapsulate(self, peer: Mapping[Any, Any]) -> bytes:
        """§6.5.6 decapsulate(): ECDH with the platform's key, then kdf(); a malformed key is INVALID_PARAMETER."""
        x, y = peer.get(-2), peer.get(-3)
        if peer.get(1) != 2 or peer.get(-1) != 1 or not isinstance(x, bytes) or not isinstance(y, bytes):
            raise CtapError(ERR.INVALID_PARAMETER)
        if len(x) != 32 or len(y) != 32:
            raise CtapError(ERR.INVALID_PARAMETER)
        try:
            public = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                                   ec.SECP256R1()).public_key()
        except ValueError:  # not on the curve
            raise CtapError(ERR.INVALID_PARAMETER) from None
        return self.kdf(self._key.exchange(ec.ECDH(), public))

    def kdf(self, z: bytes) -> bytes:
        return hashlib.sha256(z).digest()

    def _aes_key(self, key: bytes) -> bytes:
        return key

    def _hmac_key(self, key: bytes) -> bytes:
        return key

    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        encryptor = Cipher(algorithms.AES(self._aes_key(key)), modes.CBC(bytes(16))).encryptor()
        return encryptor.update(plaintext) + encryptor.finalize()

    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        """Plaintext, or INVALID_PARAMETER when the ciphertext is not whole AES blocks."""
        if not ciphertext or len(ciphertext) % 16:
            raise CtapError(ERR.INVALID_PARAMETER)
        decryptor = Cipher(algorithms.AES(self._aes_key(key)), modes.CBC(bytes(16))).decryptor()
        return decryptor.update(ciphertext) + decryptor.finalize()

    def authenticate(self, key: bytes, message: bytes) -> bytes:
        return hmac.new(self._hmac_key(key), message, hashlib.sha256).digest()[:self.mac_length]

    def verify(self, key: bytes, message: bytes, signature: bytes) -> bool:
        """§6.5.6 verify(): constant-time comparison of the MAC, of exactly the protocol's length."""
        if len(signature) != self.mac_length:
            return False
        return hmac.compare_digest(self.authenticate(key, message), signature)


class ProtocolTwo(ProtocolOne):
    """PIN/UV auth protocol two (§6.5.7): HKDF-SHA-256 into an HMAC key and an AES key, a random IV per message,
    full 32-byte HMAC-SHA-256."""

    version = 2
    mac_length = 32

    def kdf(self, z: bytes) -> bytes:
        def derive(info: bytes) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes(32), info=info).derive(z)

        return derive(b"CTAP2 HMAC key") + derive(b"CTAP2 AES key")

    def _aes_key(self, key: bytes) -> bytes:
        return key[32:]

    def _hmac_key(self, key: bytes) -> bytes:
        return key[:32]

    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        iv = os.urandom(16)
        encryptor = Cipher(algorithms.AES(self._aes_key(key)), modes.CBC(iv)).encryptor()
        return iv + encryptor.update(plaintext) + encryptor.finalize()

    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        if len(ciphertext) < 32 or len(ciphertext) % 16:
            raise CtapError(ERR.INVALID_PARAMETER)
        decryptor = Cipher(algorithms.AES(self._aes_key(key)), modes.CBC(ciphertext[:16])).decryptor()
        return decryptor.update(ciphertext[16:]) + decryptor.finalize()
