"""Provisioning packages (``core.devices.package``): made by an administrator, signed by Passgate, applied on a
computer no one manages; the computer reports the one it applied at every sync."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from passgate.audit.models import Category
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext, Target, audit_record, audited_refusals
from passgate.core.devices import package as rules
from passgate.core.errors import InvalidInput
from passgate.device_api.signing import es256_public_keys, es256_signer


@audited_refusals(category=Category.POLICY, activity="device.provisioningPackage.issue")
def provisioning_package_issue(*, security_key_sign_in: bool, actor: Actor,
                               valid_days: int = rules.DEFAULT_VALID_DAYS,
                               context: RequestContext = NO_CONTEXT) -> tuple[rules.Package, str]:
    """A signed package turning security-key sign-in on (or off); the file's text is returned, never stored."""
    if isinstance(valid_days, bool) or not isinstance(valid_days, int) or not 1 <= valid_days <= rules.MAX_VALID_DAYS:
        raise InvalidInput(f"A provisioning package is valid for 1 to {rules.MAX_VALID_DAYS} days.",
                           code="invalid_package_lifetime")
    now = timezone.now()
    made = rules.Package(issuer=settings.PASSGATE.origin, package_id=str(uuid.uuid4()),
                         issued_at=int(now.timestamp()),
                         expires_at=int((now + timedelta(days=valid_days)).timestamp()),
                         security_key_sign_in=security_key_sign_in)
    kid, key = es256_signer()
    text = rules.issue(key, kid, made)
    audit_record(category=Category.POLICY, activity="device.provisioningPackage.issue", actor=actor,
                 target=Target(type="provisioningPackage", id=made.package_id), context=context,
                 details={"useSecurityKeyForSignIn": security_key_sign_in, "validDays": valid_days})
    return made, text


def provisioning_package_read(text: object) -> rules.Package:
    """A package a computer reports, if this Passgate made it and it has not expired."""
    return rules.verify(text, keys=es256_public_keys(), issuer=settings.PASSGATE.origin,
                        now=int(timezone.now().timestamp()))
