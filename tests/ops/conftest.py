"""The OpenID Connect fixtures (a signed-in browser, relying parties), for counting what they do."""

from tests.oidc.conftest import browser, make_rp, person, rp, test_relying_party

__all__ = ["browser", "make_rp", "person", "rp", "test_relying_party"]
