"""The relying party, built once from settings (rebuilt only when the settings object changes)."""

from __future__ import annotations

from django.conf import settings

from passgate.core.webauthn import RelyingParty

_cache: list[tuple[object, RelyingParty]] = []  # (the settings object it was built from, the RP)


def relying_party() -> RelyingParty:
    conf = settings.PASSGATE
    if not _cache or _cache[0][0] is not conf:
        _cache[:] = [(conf, RelyingParty(id=conf.rp_id, name=conf.rp_name, origins=conf.origins))]
    return _cache[0][1]
