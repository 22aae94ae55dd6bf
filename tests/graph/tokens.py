"""Building good and bad access tokens for tests (expired, forged, wrong audience, alg none …)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from tests.graph.conftest import ORIGIN


def b64(data: Any) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_for(app: Any, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ORIGIN, "aud": ORIGIN, "iat": now, "nbf": now, "exp": now + 3600, "sub": str(app.id),
              "oid": str(app.id), "appid": str(app.app_id), "azp": str(app.app_id), "idtyp": "app",
              "roles": list(app.permissions), "jti": "test"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def signed(claims: dict[str, Any], *, key: Any = None, kid: str | None = None, **header: Any) -> str:
    """Sign with the server's current key (default) or another key."""
    from passgate.apps.services import signing_key_current

    current_kid, current_key = signing_key_current()
    alg = header.pop("alg", "ES256")
    return jwt.encode({"alg": alg, "kid": kid or current_kid, "typ": "JWT", **header}, claims,
                      key if key is not None else current_key, algorithms=[alg])


def tampered(token: str, claims: dict[str, Any]) -> str:
    """The same header and signature over different claims."""
    header, _, signature = token.split(".")
    return f"{header}.{b64(claims)}.{signature}"


def bad_tokens(app: Any) -> dict[str, str]:
    """Tokens for ``app`` that must all be refused with 401, by what is wrong with them."""
    from passgate.apps.services import signing_key_current

    kid, _ = signing_key_current()
    other = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
    good = claims_for(app)
    return {
        "expired": signed(claims_for(app, iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200,
                                     exp=int(time.time()) - 120)),
        "forged": signed(good, key=other, kid=kid),
        "wrong-audience": signed(claims_for(app, aud="https://graph.microsoft.com")),
        "alg-none": f"{b64({'alg': 'none', 'kid': kid, 'typ': 'JWT'})}.{b64(good)}.",
        "wrong-issuer": signed(claims_for(app, iss="https://login.microsoftonline.com/common/v2.0")),
        "not-yet-valid": signed(claims_for(app, nbf=int(time.time()) + 600)),
        "hs256": jwt.encode({"alg": "HS256", "kid": kid}, good, OctKey.import_key(b"k" * 32), algorithms=["HS256"]),
        "unknown-kid": signed(good, key=other, kid="no-such-key"),
        "tampered": tampered(signed(good), {**good, "roles": ["User.ReadWrite.All", "Group.ReadWrite.All"]}),
        "no-expiry": signed(claims_for(app, exp=None)),
        "garbage": "not-a-jwt",
    }
