"""What people read: every ceremony refusal has plain wording, and none leaks a detail of the check."""

from __future__ import annotations

import re

import pytest

from passgate.core.errors import AccessDenied, CeremonyRejected, RejectReason
from passgate.web.messages import CEREMONY_MESSAGES, for_person


def test_every_reason_code_has_plain_wording() -> None:
    assert set(CEREMONY_MESSAGES) == set(RejectReason)


@pytest.mark.parametrize("reason", list(RejectReason))
def test_plain_wording_hides_the_developer_message(reason: RejectReason) -> None:
    exc = CeremonyRejected(reason, "signCount 1 is not greater than the stored 3; rpIdHash deadbeef")
    text = for_person(exc)
    assert text == CEREMONY_MESSAGES[reason]
    assert not re.search(r"\d", text), "no counters, hashes or flags in what a person reads"
    assert "_" not in text and "rpId" not in text


def test_other_errors_keep_their_own_words() -> None:
    assert for_person(AccessDenied("Your account is disabled.", code="user_disabled")) == "Your account is disabled."
