"""Encryption at rest for shared secrets the server must read back (authenticator-app seeds).

AES-256-GCM under a key derived (HKDF-SHA-256) from the server secret key, with the row's purpose and owner as
associated data, so a copied ciphertext does not decrypt for another user. A leaked database without the secret
key reveals no seed.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

NONCE_BYTES = 12


def _key(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"passgate-secretbox:" + purpose).derive(
        settings.SECRET_KEY.encode())


def seal(plaintext: bytes, *, purpose: bytes, associated: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(_key(purpose)).encrypt(nonce, plaintext, associated)


def open_sealed(sealed: bytes, *, purpose: bytes, associated: bytes) -> bytes:
    return AESGCM(_key(purpose)).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
