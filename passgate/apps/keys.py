"""Token-signing keys: ES256 (P-256, the default) and RS256 (RSA 2048), each with a ``kid`` (its RFC 7638
thumbprint), the private half encrypted at rest and never leaving the server.

- Parsed keys are cached per process by ``kid``; a rotation makes a new ``kid``, so caches need no invalidation.
  Finding the current key costs one small query, so a rotation made by another process (the CLI) applies at once.
- Rotation makes a new current key for an algorithm and retires the previous one. A retired key stays in the JWKS
  until every token it signed has expired (tokens live at most :data:`TOKEN_LIFETIME`, plus clock leeway); then
  it drops out of the JWKS and stops verifying access tokens, but its row is kept, so an ``id_token_hint`` of
  any age can still be recognised as ours.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from joserfc.jwk import ECKey, RSAKey

from passgate.apps.models import SigningKey
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_record
from passgate.core.errors import InvalidInput
from passgate.freshness.generation import cached

log = logging.getLogger(__name__)

ALGORITHMS = ("ES256", "RS256")
DEFAULT_ALGORITHM = "ES256"
TOKEN_LIFETIME = timedelta(minutes=60)  # the longest-lived signed token (access tokens for Graph, ID tokens)
LEEWAY = timedelta(seconds=60)
RSA_BITS = 2048

SigningJwk = ECKey | RSAKey

_loaded: dict[str, SigningJwk] = {}


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    alg: str
    created_at: datetime
    retired_at: datetime | None
    published: bool


def _pem_password() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"passgate-signing-key-v1", hashlib.sha256).hexdigest().encode()


def _load(row: SigningKey) -> SigningJwk | None:
    key = _loaded.get(row.kid)
    if key is None:
        try:
            private = serialization.load_pem_private_key(row.private_key_pem.encode(), password=_pem_password())
        except (ValueError, TypeError):
            log.warning("signing key %s cannot be decrypted (was the secret key changed?); not using it", row.kid)
            return None
        if row.alg == "ES256" and isinstance(private, ec.EllipticCurvePrivateKey):
            key = ECKey.import_key(private)
        elif row.alg == "RS256" and isinstance(private, rsa.RSAPrivateKey):
            key = RSAKey.import_key(private)
        else:
            log.warning("signing key %s is not an %s key; not using it", row.kid, row.alg)
            return None
        _loaded[row.kid] = key
    return key


def _check_alg(alg: str) -> str:
    if alg not in ALGORITHMS:
        raise InvalidInput(f"Unknown signing algorithm {alg!r}; choose {' or '.join(ALGORITHMS)}",
                           code="unknown_algorithm")
    return alg


def _create(alg: str) -> tuple[SigningKey, SigningJwk]:
    private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        key: SigningJwk = ECKey.import_key(private)
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
        key = RSAKey.import_key(private)
    kid = key.thumbprint()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(_pem_password())).decode()
    row = SigningKey.objects.create(kid=kid, alg=alg, private_key_pem=pem, created_at=timezone.now())
    _loaded[kid] = key
    return row, key


class SigningKeyUnusable(RuntimeError):
    """Current keys exist for an algorithm, and none decrypts with this process's secret key."""


def unusable_key_message(alg: str) -> str:
    return (f"the current {alg} token-signing key does not decrypt with this PASSGATE_SECRET_KEY: give every node "
            f"the same secret key (another node made the key), or if it was changed on purpose, run "
            f"passgate keys rotate --alg {alg}")


def signing_key_current(alg: str = DEFAULT_ALGORITHM) -> tuple[str, SigningJwk]:
    """The key that signs new tokens with ``alg``: the active one (the oldest, should two processes have raced to
    create one), created on first use.

    Raises :class:`SigningKeyUnusable` when current keys exist but none decrypts with this secret key: a node
    configured with another ``PASSGATE_SECRET_KEY`` than the others (or none, so it generated its own) must not make
    keys of its own that no other node can use, nor sign tokens with them; it stays not ready instead (/readyz)."""
    _check_alg(alg)
    found = cached(f"apps.signing_key.{alg}", lambda: _active(alg))  # a rotation on any node moves the generation
    if found is not None:
        return found
    if SigningKey.objects.filter(alg=alg, retired_at__isnull=True).exists():
        raise SigningKeyUnusable(unusable_key_message(alg))
    row, key = _create(alg)
    audit_record(category=Category.SYSTEM, activity="signingKey.add", actor=Actor.system(),
                 target=Target(type="signingKey", id=row.kid[:64]), details={"alg": alg})
    return row.kid, key


def _active(alg: str) -> tuple[str, SigningJwk] | None:
    for row in SigningKey.objects.filter(alg=alg, retired_at__isnull=True).order_by("created_at", "pk"):
        key = _load(row)
        if key is not None:
            return row.kid, key
    return None


def signing_key_usable(alg: str = DEFAULT_ALGORITHM) -> bool:
    """Whether a current key for ``alg`` exists and decrypts with this secret key (read only: creates nothing)."""
    _check_alg(alg)
    return any(_load(row) is not None
               for row in SigningKey.objects.filter(alg=alg, retired_at__isnull=True).order_by("created_at", "pk"))


def signing_keys_ensure() -> list[str]:
    """A current key for every algorithm (``passgate serve`` at start, so that readiness can expect them). What
    stands in the way: one line per algorithm whose current keys this secret key cannot decrypt."""
    problems = []
    for alg in ALGORITHMS:
        try:
            signing_key_current(alg)
        except SigningKeyUnusable as exc:
            problems.append(str(exc))
    return problems


def signing_key_rotate(*, alg: str = DEFAULT_ALGORITHM, actor: Actor,
                       context: RequestContext = NO_CONTEXT) -> SigningKey:
    """Make a new current key for ``alg`` and retire the previous one (still published until its tokens expire)."""
    _check_alg(alg)
    with transaction.atomic():
        now = timezone.now()
        retired = list(SigningKey.objects.filter(alg=alg, retired_at__isnull=True).values_list("kid", flat=True))
        SigningKey.objects.filter(alg=alg, retired_at__isnull=True).update(retired_at=now)
        row, _ = _create(alg)
        audit_record(category=Category.SYSTEM, activity="signingKey.rotate", actor=actor, context=context,
                     target=Target(type="signingKey", id=row.kid[:64]),
                     details={"alg": alg, "retired": retired})
    return row


def _published_filter(now: datetime) -> Q:
    return Q(retired_at__isnull=True) | Q(retired_at__gt=now - TOKEN_LIFETIME - LEEWAY)


def signing_key_list() -> list[KeyInfo]:
    now = timezone.now()
    published = set(SigningKey.objects.filter(_published_filter(now)).values_list("kid", flat=True))
    return [KeyInfo(kid=row.kid, alg=row.alg, created_at=row.created_at, retired_at=row.retired_at,
                    published=row.kid in published)
            for row in SigningKey.objects.order_by("created_at", "pk")]


def verification_key(kid: object, *, alg: str, any_age: bool = False) -> SigningJwk | None:
    """Our key ``kid`` for ``alg``: a current or still-published one, or with ``any_age`` any we ever had."""
    if not isinstance(kid, str) or alg not in ALGORITHMS:
        return None
    rows = SigningKey.objects.filter(kid=kid, alg=alg)
    if not any_age:
        rows = rows.filter(_published_filter(timezone.now()))
    row = rows.first()
    return _load(row) if row is not None else None


def jwks() -> dict[str, Any]:
    """The public JWK set: current and retired-but-published keys, with ``kid``, ``alg`` and ``use``."""
    for alg in ALGORITHMS:  # both algorithms are always published, so a client may choose either
        signing_key_current(alg)
    keys = []
    for row in SigningKey.objects.filter(_published_filter(timezone.now())).order_by("-created_at", "pk"):
        key = _load(row)
        if key is not None:
            public = key.as_dict(private=False)
            keys.append({**public, "kid": row.kid, "alg": row.alg, "use": "sig"})
    return {"keys": keys}
