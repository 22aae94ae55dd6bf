"""Template variables every page may use, computed only when a template reads them."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from django.http import HttpRequest

from passgate.credentials.relying_party import relying_party
from passgate.credentials.selectors import passkey_signals
from passgate.directory.facts import user_is_admin
from passgate.directory.models import User


def _signals(user: User) -> str:
    """JSON for a data attribute (no inline script: the pages' Content-Security-Policy allows none)."""
    return json.dumps(passkey_signals(user, rp_id=relying_party().id))


def person(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {"pg_holds_a_role": False, "pg_passkey_signals": None}
    # Callables: a template calls them only where it asks, and the answers come from the request's memo (the
    # session check read the person's roles and passkeys already).
    return {"pg_holds_a_role": partial(user_is_admin, user), "pg_passkey_signals": partial(_signals, user)}
