"""core.device_code: user codes (alphabet, form, what a person may type) and the polling interval (RFC 8628)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from passgate.core import device_code as rules

FULLWIDTH = "\uff22\uff23\uff24\uff26-\uff27\uff28\uff2a\uff2b"  # BCDF-GHJK in fullwidth letters
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_user_codes_are_eight_letters_of_the_alphabet_and_differ() -> None:
    made = {rules.user_code_new() for _ in range(200)}
    assert len(made) == 200
    for code in made:
        assert len(code) == 8 and set(code) <= set(rules.USER_CODE_ALPHABET)
        assert rules.user_code_display(code) == f"{code[:4]}-{code[4:]}"
        assert rules.user_code_normalise(rules.user_code_display(code)) == code


@pytest.mark.parametrize("typed", ["BCDF-GHJK", "bcdf-ghjk", "bcdfghjk", " BCDF GHJK ", "Bc-Df-Gh-Jk"])
def test_case_dashes_and_spaces_do_not_matter(typed: str) -> None:
    assert rules.user_code_normalise(typed) == "BCDFGHJK"


@pytest.mark.parametrize("typed", ["", "BCDF-GHJ", "BCDF-GHJKL", "BCDF-GHJA", "BCDF-GHJ1", "BCDF_GHJK",
                                   "BCDF-GHJK" + " " * 60, None, 12345678, FULLWIDTH])
def test_what_cannot_be_a_code(typed: object) -> None:
    assert rules.user_code_normalise(typed) is None


def test_polling_sooner_than_the_interval_slows_down_by_five_seconds() -> None:
    assert rules.poll_check(last_polled_at=None, interval=5, now=NOW) == rules.Poll(slow_down=False, interval=5)
    five_ago = NOW - timedelta(seconds=5)
    assert rules.poll_check(last_polled_at=five_ago, interval=5, now=NOW) == rules.Poll(slow_down=False, interval=5)
    assert rules.poll_check(last_polled_at=five_ago, interval=10, now=NOW) == rules.Poll(slow_down=True, interval=15)
    just_now = NOW - timedelta(milliseconds=1)
    assert rules.poll_check(last_polled_at=just_now, interval=5, now=NOW) == rules.Poll(slow_down=True, interval=10)
