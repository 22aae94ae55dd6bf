"""Session-only auth backend: restores the signed-in user from the session. It never checks a password."""

from __future__ import annotations

from typing import Any

from passgate.directory.models import User


class DirectoryBackend:
    def authenticate(self, request: Any, **credentials: Any) -> None:
        return None  # sign-in happens through the passkey and TAP services, never a password

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User.objects.get(pk=user_id)
        except (User.DoesNotExist, ValueError):
            return None
        return user if user.account_enabled else None
