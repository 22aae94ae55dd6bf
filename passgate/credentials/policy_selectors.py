"""Reading the policy in force. Parsed once per version per process; one small query per call."""

from __future__ import annotations

import threading

from passgate.core.policy import graph as policy_json
from passgate.core.policy.model import AuthenticationMethodsPolicy, default_policy
from passgate.credentials.models import PolicyVersion
from passgate.directory.models import User

_lock = threading.Lock()
_parsed: dict[tuple[int, object], AuthenticationMethodsPolicy] = {}  # (version, created_at): rows never change


def current_version() -> PolicyVersion | None:
    return PolicyVersion.objects.order_by("-version").first()


def policy_at(row: PolicyVersion | None) -> AuthenticationMethodsPolicy:
    if row is None:
        return default_policy()
    with _lock:
        key = (row.version, row.created_at)
        found = _parsed.get(key)
        if found is None:
            found = policy_json.policy_from_document(row.document, last_modified=row.created_at)
            _parsed.clear()
            _parsed[key] = found
        return found


def current_policy() -> AuthenticationMethodsPolicy:
    return policy_at(current_version())


def user_group_ids(user: User) -> frozenset[str]:
    return frozenset(str(gid) for gid in user.security_groups.values_list("id", flat=True))
