"""Helpers shared by tests/services and tests/http: a relying party that matches the software
authenticator, passkey registration / sign-in through the real services, and audit look-ups.

Imported lazily from fixtures and test modules (Django is set up by pytest-django by then).
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from typing import Any

from tests.core.softauthn import ORIGIN, RP_ID, SoftAuthenticator, b64, unb64

REG_SESSION = "registration-session-key"
SIGNIN_SESSION = "signin-session-key"


def use_test_relying_party(settings: Any) -> None:
    """Make the server's relying party the one the software authenticator speaks to."""
    settings.PASSGATE = dataclasses.replace(settings.PASSGATE, origin=ORIGIN, rp_id=RP_ID, extra_origins=())
    settings.ALLOWED_HOSTS = ["testserver", "login.example.com", "localhost", "127.0.0.1"]
    settings.CSRF_TRUSTED_ORIGINS = [ORIGIN, "http://testserver"]


def challenge_of(options: dict[str, Any]) -> bytes:
    """The challenge the server issued, from a begin service's options (or {"publicKey": ...})."""
    if "publicKey" in options:
        options = options["publicKey"]
    return unb64(options["challenge"])


def challenge_in(credential: dict[str, Any]) -> bytes:
    """The challenge a response's clientDataJSON carries."""
    import json

    return unb64(json.loads(unb64(credential["response"]["clientDataJSON"]))["challenge"])


def authenticator_for(user: Any, **kwargs: Any) -> SoftAuthenticator:
    """A fresh credential (random id) on a software authenticator, answering with the user's handle."""
    kwargs.setdefault("credential_id", secrets.token_bytes(32))
    return SoftAuthenticator(user_handle=bytes(user.webauthn_user_handle), **kwargs)


def register(user: Any, auth: SoftAuthenticator, *, name: str = "My passkey",
             session_key: str = REG_SESSION, **register_kwargs: Any) -> Any:
    """Register ``auth`` for ``user`` through the real begin/complete services."""
    from passgate.credentials import services

    options = services.passkey_registration_begin(user=user, session_key=session_key)
    credential = auth.register(challenge=challenge_of(options), **register_kwargs)
    return services.passkey_registration_complete(user=user, session_key=session_key, credential=credential,
                                                  display_name=name)


def assertion(auth: SoftAuthenticator, *, session_key: str = SIGNIN_SESSION, bump: bool = True,
              **assert_kwargs: Any) -> dict[str, Any]:
    """Begin a username-less sign-in and answer it (the counter moves forward unless bump=False)."""
    from passgate.credentials import services

    options = services.passkey_signin_begin(session_key=session_key)
    if bump:
        auth.sign_count += 1
    return auth.assert_(challenge=challenge_of(options), **assert_kwargs)


def sign_in(auth: SoftAuthenticator, *, session_key: str = SIGNIN_SESSION, bump: bool = True,
            **assert_kwargs: Any) -> Any:
    from passgate.credentials import services

    credential = assertion(auth, session_key=session_key, bump=bump, **assert_kwargs)
    return services.passkey_signin_complete(session_key=session_key, credential=credential)


def audit_rows(**filters: Any) -> list[Any]:
    from passgate.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(**filters).order_by("occurred_at"))


def failures(activity: str, reason: str) -> list[Any]:
    return audit_rows(activity=activity, result="failure", reason=reason)


LITERAL = re.compile(r"'(?:[^']|'')*'(?:::\w+(?:\[\])?)?|\b\d+(?:\.\d+)?\b|\bNULL\b|SAVEPOINT \"\w+\"")


def sql_shape(captured: Any) -> list[str]:
    """The statements a ``CaptureQueriesContext`` saw, every value (and savepoint name) replaced by ?: the work
    done, whatever it was done with."""
    return [LITERAL.sub("?", query["sql"]) for query in captured.captured_queries]


__all__ = [
    "ORIGIN", "REG_SESSION", "RP_ID", "SIGNIN_SESSION", "SoftAuthenticator", "assertion", "audit_rows",
    "authenticator_for", "b64", "challenge_in", "challenge_of", "failures", "register", "sign_in", "sql_shape", "unb64",
    "use_test_relying_party",
]
