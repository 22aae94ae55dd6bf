"""Reading the policy in force: parsed once per version per process, read again only when the configuration's
generation moved (:mod:`passgate.freshness.generation`); a person's groups once per request."""

from __future__ import annotations

import threading

from passgate.core.policy import graph as policy_json
from passgate.core.policy.model import AuthenticationMethodsPolicy, default_policy
from passgate.credentials.models import PolicyVersion
from passgate.directory.facts import user_group_ids
from passgate.freshness.generation import cached

__all__ = ["current_policy", "current_version", "policy_at", "user_group_ids"]

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
    return cached("credentials.methods_policy", lambda: policy_at(current_version()))

