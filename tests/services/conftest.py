from __future__ import annotations

from typing import Any

import pytest

from tests.services.support import use_test_relying_party


@pytest.fixture(autouse=True)
def test_relying_party(settings: Any) -> None:
    use_test_relying_party(settings)
