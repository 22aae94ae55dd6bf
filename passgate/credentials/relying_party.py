"""The relying party, built once from settings (rebuilt only when the settings object changes)."""

from __future__ import annotations

from django.conf import settings

from passgate.core.webauthn import RelyingParty

_cache: dict[int, RelyingParty] = {}


def relying_party() -> RelyingParty:
    conf = settings.PASSGATE
    rp = _cache.get(id(conf))
    if rp is None:
        _cache.clear()
        rp = _cache[id(conf)] = RelyingParty(id=conf.rp_id, name=conf.rp_name, origins=conf.origins)
    return rp
