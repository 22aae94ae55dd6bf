"""Template variables every page may use, computed only when a template reads them."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.http import HttpRequest

from passgate.directory.facts import user_is_admin
from passgate.directory.models import User


def person(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    # A callable: the template calls it only where it asks (the header's "Admin centre" link), and the answer comes
    # from the request's memo (the Conditional Access check read the person's roles already).
    return {"pg_holds_a_role": partial(user_is_admin, user) if isinstance(user, User) else False}
