"""Who is calling: an app with a Bearer access token, or a signed-in administrator with their browser session.

Bearer tokens come first; a session is used only without an Authorization header, and then DRF's
SessionAuthentication enforces CSRF on unsafe methods (a token in ``X-CSRFToken``), as the web pages do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.request import Request

from passgate.apps.services import token_authenticate
from passgate.audit.services import Actor
from passgate.core.access.methods import authentication_from_json, authentication_to_json
from passgate.core.errors import NotSignedIn
from passgate.core.graph.authz import Caller, UserCaller
from passgate.core.sessions import AUTHENTICATION_SESSION_KEY
from passgate.directory.models import User
from passgate.directory.services import actor_for, user_roles
from passgate.graph_api.errors import BEARER_REALM

# The web adapter marks sessions opened with a Temporary Access Pass (passgate.web.session.METHOD); those may
# reach Security info only, never the API. (Adapters do not import each other, hence the literal.)
SESSION_METHOD_KEY = "pg_method"


@dataclass(frozen=True)
class Principal:
    """What ``request.user`` is inside the Graph API."""

    caller: Caller
    actor: Actor
    is_authenticated: bool = True
    is_active: bool = True


class BearerAuthentication(BaseAuthentication):  # type: ignore[misc]
    def authenticate(self, request: Request) -> tuple[Principal, str] | None:
        header = str(request.META.get("HTTP_AUTHORIZATION", ""))
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            caller = token_authenticate(token.strip())
        except NotSignedIn as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        actor = Actor(id=uuid.UUID(caller.object_id), name=f"app:{caller.display_name}")
        return Principal(caller=caller, actor=actor), token

    def authenticate_header(self, request: Request) -> str:
        return BEARER_REALM


class GraphSessionAuthentication(SessionAuthentication):  # type: ignore[misc]
    def authenticate(self, request: Request) -> tuple[Principal, None] | None:
        found: Any = super().authenticate(request)  # enforces CSRF for a signed-in session
        if found is None:
            return None
        user: User = found[0]
        if request._request.session.get(SESSION_METHOD_KEY) == "tap":
            raise exceptions.AuthenticationFailed(
                "A Temporary Access Pass session can only open Security info; sign in with a passkey.")
        caller = UserCaller(user_id=str(user.id), user_principal_name=user.user_principal_name,
                            roles=user_roles(user=user))
        return Principal(caller=caller, actor=actor_for(user)), None


def release_session_method(request: Request, method_id: object) -> None:
    """The caller's own browser session deleted an authentication method it proved: the session goes on (its person
    just proved who they are), its record no longer tied to that method (``core.sessions``); the person's other
    sessions that proved it end. Nothing for a bearer token, or for someone else's method."""
    if not isinstance(request.successful_authenticator, GraphSessionAuthentication):
        return
    session = request._request.session
    auth = authentication_from_json(session.get(AUTHENTICATION_SESSION_KEY))
    principal = request.user
    if auth is not None and isinstance(principal, Principal) and isinstance(principal.caller, UserCaller) \
            and auth.user_id == principal.caller.user_id:
        session[AUTHENTICATION_SESSION_KEY] = authentication_to_json(auth.releasing(str(method_id)))
