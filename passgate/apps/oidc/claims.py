"""What the provider says about a person (OIDC Core §5.4), and ID tokens it issued, presented back as hints.

The claims are the same in the ID token and at UserInfo; ``id_token_hint`` (authorization requests, OIDC Core
§3.1.2.1; logout, RP-Initiated Logout §2) must be an ID token this server signed, of any age.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from joserfc import errors as jose_errors
from joserfc import jws, jwt

from passgate.apps import keys
from passgate.apps.oidc.adapter import MAX_TOKEN_LENGTH
from passgate.apps.selectors import oidc_issuer
from passgate.directory.models import User


def user_claims(user: User, scope: str) -> dict[str, Any]:
    """``sub`` (the user's immutable id) and the claims the granted scopes give (OIDC §5.4).

    ``email`` is the user principal name (Passgate has no separate mail attribute); nobody verified that it receives
    mail, so ``email_verified`` is false.
    """
    scopes = scope.split()
    claims: dict[str, Any] = {"sub": str(user.pk)}
    if "profile" in scopes:
        claims.update(name=user.display_name, preferred_username=user.user_principal_name,
                      updated_at=int(user.updated_at.timestamp()))
    if "email" in scopes:
        claims.update(email=user.user_principal_name, email_verified=False)
    return claims


@dataclass(frozen=True)
class IdTokenHint:
    sub: str
    audiences: tuple[str, ...]
    sid: str | None


def id_token_hint_verify(token: str) -> IdTokenHint | None:
    """An ID token this server signed (any age: expiry is not checked), or None."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (jose_errors.JoseError, ValueError, UnicodeError):
        return None
    alg = header.get("alg")
    key = keys.verification_key(header.get("kid"), alg=str(alg), any_age=True) if alg in keys.ALGORITHMS else None
    if key is None:
        return None
    try:
        claims = jwt.decode(token, key, algorithms=[str(alg)]).claims
    except (jose_errors.JoseError, ValueError):
        return None
    aud = claims.get("aud")
    audiences = (aud,) if isinstance(aud, str) else tuple(a for a in aud if isinstance(a, str)) \
        if isinstance(aud, list) else ()
    sub, sid = claims.get("sub"), claims.get("sid")
    if claims.get("iss") != oidc_issuer() or not isinstance(sub, str) or not audiences:
        return None
    return IdTokenHint(sub=sub, audiences=audiences, sid=sid if isinstance(sid, str) else None)
