"""Shared fixtures. Nothing here imports Django at module level: tests/core runs without it."""

from __future__ import annotations

import os
from typing import Any

import pytest

IN_CI = os.environ.get("CI") == "true"


def loud_skip(what: str, why: str) -> None:
    """Skip outside CI with a message nobody can miss; under CI=true the same condition fails the run."""
    message = f"!!! {what} NOT RUN: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true requires them)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def make_user(db: Any) -> Any:
    from passgate.audit.services import Actor
    from passgate.directory.services import user_create

    counter = iter(range(1, 10_000))

    def make(upn: str | None = None, display_name: str = "Test User", **kwargs: Any) -> Any:
        return user_create(upn=upn or f"user{next(counter)}@contoso.com", display_name=display_name,
                           actor=Actor.system("test"), **kwargs)

    return make


@pytest.fixture
def issue_tap(db: Any) -> Any:
    from passgate.audit.services import Actor
    from passgate.credentials.services import tap_issue

    def issue(user: Any, **kwargs: Any) -> str:
        _, plain = tap_issue(user=user, actor=Actor.system("test"), **kwargs)
        return plain

    return issue
