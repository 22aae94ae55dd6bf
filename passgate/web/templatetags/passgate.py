"""Template filters: what to call a passkey's authenticator (FIDO metadata, then the community catalogue)."""

from __future__ import annotations

from typing import Any

from django import template

from passgate.trust_store.selectors import model_name

register = template.Library()


@register.filter
def passkey_model(passkey: Any) -> str:
    return model_name(passkey.aaguid, passkey.model_name)
