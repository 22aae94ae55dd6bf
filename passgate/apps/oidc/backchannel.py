"""OpenID Connect Back-Channel Logout 1.0: when a session ends, the apps that got tokens from it are told.

An app registered with a back-channel logout URI (``passgate apps add --backchannel-logout-uri``) gets a POST of
``logout_token`` (§2.4): a JWT signed like its ID tokens (``typ`` ``logout+jwt``) with ``iss``, ``aud``, ``iat``,
``exp``, ``jti``, ``sub``, the ``sid`` of the ended session (absent when every session of the person ended at once:
``revokeSignInSessions`` or a disabled account) and the back-channel logout event; never a nonce.

Delivery is direct, to every app at once, each with a short timeout and no redirects followed (§2.5: a redirect
is not a success). Each delivery is audited (``oidc.backchannelLogout``): success, or the reason code
(``http_<status>``, ``unreachable``, ``timeout``). Passgate does not retry: the app's tokens were revoked anyway;
the message only lets it end its own session sooner.
"""

from __future__ import annotations

import secrets
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt

from passgate.apps import keys
from passgate.apps.models import AppRegistration, OidcGrant
from passgate.apps.selectors import oidc_issuer
from passgate.apps.services import app_target
from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, RequestContext, audit_failure, audit_record
from passgate.directory.models import User
from passgate.directory.services import actor_for

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_LIFETIME = timedelta(minutes=2)
TIMEOUT_SECONDS = 5.0
MAX_PARALLEL = 8


def logout_token(*, app: AppRegistration, user: User, sid: str | None) -> str:
    alg = app.id_token_signed_response_alg
    kid, key = keys.signing_key_current(alg)
    now = int(time.time())
    claims: dict[str, Any] = {"iss": oidc_issuer(), "aud": str(app.app_id), "iat": now,
                              "exp": now + int(TOKEN_LIFETIME.total_seconds()), "jti": secrets.token_urlsafe(16),
                              "sub": str(user.pk), "events": {EVENT: {}}}
    if sid:
        claims["sid"] = sid
    return str(jwt.encode({"alg": alg, "kid": kid, "typ": "logout+jwt"}, claims, key, algorithms=[alg]))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx surfaces as an HTTPError: not a success (§2.5)


_OPENER = urllib.request.build_opener(_NoRedirects)


def _deliver(uri: str, token: str) -> str | None:
    """None when the app answered 200 or 204, else the reason code."""
    if not uri.startswith(("https://", "http://")):  # registration allows only these (core.oidc)
        return "unreachable"
    body = urlencode({"logout_token": token}).encode()
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        uri, data=body, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        return f"http_{exc.code}"
    except TimeoutError:
        return "timeout"
    except (urllib.error.URLError, OSError) as exc:
        return "timeout" if "timed out" in str(exc) else "unreachable"
    return None if status in (200, 204) else f"http_{status}"


def backchannel_logout(*, user: User, sid: str | None = None, reason: str,
                       context: RequestContext = NO_CONTEXT) -> int:
    """Tell every app with a back-channel logout URI that got tokens from this session (``sid``), or from any of
    the person's sessions (``sid`` None), that it ended. Returns how many apps confirmed."""
    grants = OidcGrant.objects.filter(user=user).exclude(app__backchannel_logout_uri="")
    if sid is not None:
        grants = grants.filter(sid=sid)
    apps = {grant.app_id: grant.app for grant in grants.select_related("app")}
    if not apps:
        return 0
    tokens = {pk: logout_token(app=app, user=user, sid=sid) for pk, app in apps.items()}
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(apps))) as pool:
        outcomes = dict(zip(apps, pool.map(lambda pk: _deliver(apps[pk].backchannel_logout_uri, tokens[pk]), apps),
                            strict=True))
    for pk, failure in outcomes.items():
        app = apps[pk]
        details = {"clientId": str(app.app_id), "reason": reason, "sid": bool(sid)}
        if failure is None:
            audit_record(category=Category.SIGN_IN, activity="oidc.backchannelLogout", actor=actor_for(user),
                         target=app_target(app), context=context, details=details)
        else:
            audit_failure(category=Category.SIGN_IN, activity="oidc.backchannelLogout", reason=failure,
                          actor=actor_for(user), target=app_target(app), context=context, details=details)
    return sum(1 for failure in outcomes.values() if failure is None)
