"""Passkey and Temporary Access Pass services: load, call the core, persist, audit.

Every refusal is audited with its reason code before the error goes back to the adapter.
Challenges are consumed in their own committed statement first, so a failed verification can never
"un-consume" one, and of concurrent completions of the same response exactly one gets further.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from passgate.audit.metrics import CEREMONY_SECONDS
from passgate.audit.models import Category
from passgate.audit.services import (
    NO_CONTEXT,
    Actor,
    RequestContext,
    Target,
    audit_failure,
    audit_record,
    audited_refusals,
)
from passgate.core import tap as tap_rules
from passgate.core import throttle as throttle_rules
from passgate.core import webauthn as core
from passgate.core.directory import normalise_upn, validate_passkey_name
from passgate.core.errors import (
    AccessDenied,
    CeremonyRejected,
    InvalidInput,
    PassgateError,
    PolicyDenied,
    RejectReason,
    TemporaryAccessPassRejected,
)
from passgate.core.policy import evaluate as policy_rules
from passgate.core.throttle import Scope
from passgate.core.trust.attestation import assess_attestation, attestation_required_refusal, known_vendor_roots
from passgate.credentials import throttle
from passgate.credentials.models import Ceremony, Challenge, Passkey, RegistrationSnooze, TemporaryAccessPass
from passgate.credentials.policy_selectors import current_policy, user_group_ids
from passgate.credentials.relying_party import relying_party
from passgate.credentials.selectors import passkeys_of
from passgate.directory.models import User
from passgate.directory.services import actor_for, user_target
from passgate.trust_store.selectors import current_snapshot

CHALLENGE_LIFETIME = timedelta(minutes=5)
CHALLENGE_BYTES = 32


@dataclass(frozen=True)
class SignIn:
    user: User
    method: str  # "passkey" | "tap"
    passkey: Passkey | None = None
    tap_usable_once: bool | None = None  # "tap": whether the pass used was one-time
    tap_id: uuid.UUID | None = None  # "tap": the pass used


def passkey_target(passkey: Passkey) -> Target:
    return Target(type="passkey", id=str(passkey.id), name=passkey.display_name)


def _binding(session_key: str) -> bytes:
    return hashlib.sha256(b"passgate-challenge-binding\x00" + session_key.encode()).digest()


# --- challenges -------------------------------------------------------------------------------------

def _challenge_issue(*, ceremony: Ceremony, session_key: str, user: User | None = None,
                     lifetime: timedelta = CHALLENGE_LIFETIME) -> bytes:
    now = timezone.now()
    value = secrets.token_bytes(CHALLENGE_BYTES)
    Challenge.objects.create(challenge=value, ceremony=ceremony, session_binding=_binding(session_key),
                             user=user, created_at=now, expires_at=now + lifetime)
    return value


def _challenge_check(*, challenge: bytes, ceremony: Ceremony, session_key: str,
                     user: User | None = None) -> Challenge:
    """Find an issued challenge and check it is usable, or raise with the precise reason (consumes nothing)."""
    row = Challenge.objects.filter(challenge=challenge).first()
    if row is None or row.ceremony != ceremony or (user is not None and row.user_id != user.pk):
        raise CeremonyRejected(RejectReason.CHALLENGE_UNKNOWN, "This sign-in request is unknown. Start again.")
    if not secrets.compare_digest(bytes(row.session_binding), _binding(session_key)):
        raise CeremonyRejected(RejectReason.CHALLENGE_WRONG_SESSION,
                               "This request was started in another browser session. Start again.")
    if row.consumed_at is not None:
        raise CeremonyRejected(RejectReason.CHALLENGE_CONSUMED, "This request was already used. Start again.")
    if row.expires_at <= timezone.now():
        raise CeremonyRejected(RejectReason.CHALLENGE_EXPIRED, "This request has expired. Start again.")
    return row


def _challenge_consume(row: Challenge) -> None:
    """Consume with one conditional UPDATE: of concurrent callers exactly one passes (ADR 0002).

    Called inside the transaction that persists the ceremony's result, so success and consumption commit
    together; after a failed verification it runs on its own, so a refused response burns its challenge too.
    """
    won = Challenge.objects.filter(pk=row.pk, consumed_at__isnull=True).update(consumed_at=timezone.now())
    if won != 1:
        raise CeremonyRejected(RejectReason.CHALLENGE_CONSUMED, "This request was already used. Start again.")


def _burn(row: Challenge | None) -> None:
    if row is not None:
        Challenge.objects.filter(pk=row.pk, consumed_at__isnull=True).update(consumed_at=timezone.now())


def challenges_purge(*, older_than: timedelta = timedelta(hours=1)) -> int:
    deleted, _ = Challenge.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted


# --- the authentication methods policy ---------------------------------------------------------------

def _user_facts(user: User) -> policy_rules.UserFacts:
    return policy_rules.UserFacts(group_ids=user_group_ids(user))


def _enforce(decision: policy_rules.PasskeyDecision) -> None:
    if not decision.allowed:
        raise PolicyDenied(decision.message, code=f"policy_{decision.reason.value}")


def passkey_policy_decision(*, user: User, passkey: Passkey) -> policy_rules.PasskeyDecision:
    """Would the policy in force let this registered passkey sign in now? (The admin centre's impact view.)"""
    return policy_rules.evaluate_passkey(current_policy(), _user_facts(user), passkey_facts(passkey),
                                         policy_rules.Phase.SIGN_IN)


def passkey_facts(passkey: Passkey) -> policy_rules.PasskeyFacts:
    return policy_rules.PasskeyFacts(aaguid=str(passkey.aaguid), backup_eligible=passkey.backup_eligible,
                                     attestation_verified=passkey.attestation_level == "attested")


def passkey_registration_prompt(*, user: User) -> policy_rules.RegistrationPrompt:
    """isRegistrationRequired: should this person, signed in without a passkey, be asked to add one now, and may
    they put it off (at most ``MAX_REGISTRATION_SNOOZES`` times, counted per person)? A suspended passkey (possibly
    copied) cannot sign in, so it does not count: its owner is asked to add a new one."""
    has_passkey = any(p.possibly_cloned_at is None for p in passkeys_of(user))
    # The snoozes count only when a passkey is asked for, which it never is from someone who has one.
    row = None if has_passkey else RegistrationSnooze.objects.filter(user=user).first()
    return policy_rules.registration_required(current_policy(), _user_facts(user), has_passkey=has_passkey,
                                              snoozes_used=row.count if row is not None else 0)


def passkey_registration_snooze(*, user: User, context: RequestContext = NO_CONTEXT) -> int:
    """"Not now": count one snooze (audited) and answer how many are left; refused when none are."""
    activity = "passkey.registrationSnooze"
    prompt = passkey_registration_prompt(user=user)
    if not prompt.required or not prompt.may_snooze:
        audit_failure(category=Category.SECURITY_INFO, activity=activity, actor=actor_for(user),
                      reason="snooze_not_allowed", context=context, target=user_target(user))
        raise PolicyDenied("Your organisation requires a passkey now: add one to continue.",
                           code="snooze_not_allowed")
    with transaction.atomic():
        row, _ = RegistrationSnooze.objects.select_for_update().get_or_create(
            user=user, defaults={"updated_at": timezone.now()})
        row.count += 1
        row.updated_at = timezone.now()
        row.save()
        left = max(0, prompt.snoozes_left - 1)
        audit_record(category=Category.SECURITY_INFO, activity=activity, actor=actor_for(user),
                     target=user_target(user), context=context, details={"snoozesLeft": left})
    return left


def may_add_passkey(*, user: User) -> policy_rules.PasskeyDecision:
    """Self-service set-up: the method enabled for this person and self-service allowed."""
    return policy_rules.may_self_register(current_policy(), _user_facts(user))


# --- registration -----------------------------------------------------------------------------------

def _descriptors(passkeys: Any) -> list[core.CredentialDescriptor]:
    return [core.CredentialDescriptor(id=bytes(p.credential_id), transports=tuple(p.transports)) for p in passkeys]


def passkey_registration_begin(*, user: User, session_key: str,
                               ceremony: Ceremony = Ceremony.REGISTRATION,
                               lifetime: timedelta = CHALLENGE_LIFETIME) -> dict[str, Any]:
    if ceremony is Ceremony.REGISTRATION:
        try:
            _enforce(may_add_passkey(user=user))
        except PolicyDenied as exc:
            audit_failure(category=Category.SECURITY_INFO, activity="passkey.register", actor=actor_for(user),
                          reason=exc.code, target=user_target(user))
            raise
    challenge = _challenge_issue(ceremony=ceremony, session_key=session_key, user=user, lifetime=lifetime)
    return core.registration_options(
        rp=relying_party(),
        user=core.UserEntity(handle=bytes(user.webauthn_user_handle), name=user.user_principal_name,
                             display_name=user.display_name),
        challenge=challenge,
        exclude=_descriptors(user.passkeys.all()),
        attestation=policy_rules.attestation_conveyance(current_policy(), _user_facts(user)),
    )


def passkey_registration_complete(*, user: User, session_key: str, credential: Mapping[str, Any],
                                  display_name: str, context: RequestContext = NO_CONTEXT,
                                  actor: Actor | None = None,
                                  ceremony: Ceremony = Ceremony.REGISTRATION) -> Passkey:
    """Verify and store a new passkey for ``user``: by the user themself, or by ``actor`` (admin provisioning)."""
    actor = actor or actor_for(user)
    row: Challenge | None = None
    try:
        name = validate_passkey_name(display_name)
        challenge = core.read_registration_challenge(credential)
        row = _challenge_check(challenge=challenge, ceremony=ceremony, session_key=session_key, user=user)
        with CEREMONY_SECONDS.labels(ceremony="registration").time():
            registered = core.verify_registration(
                rp=relying_party(), credential=credential, expected_challenge=challenge,
                credential_id_registered=lambda cid: Passkey.objects.filter(credential_id=cid).exists(),
            )
        if ceremony is Ceremony.REGISTRATION:
            _enforce(may_add_passkey(user=user))
        assessment = assess_attestation(credential=registered, snapshot=current_snapshot(), now=timezone.now(),
                                        extra_roots=known_vendor_roots(registered.attestation_format))
        decision = policy_rules.evaluate_passkey(
            current_policy(), _user_facts(user),
            policy_rules.PasskeyFacts(
                aaguid=registered.aaguid, backup_eligible=registered.backup_eligible,
                attestation_verified=assessment.attested, certification_level=assessment.certification_level,
                key_protection=assessment.entry.key_protection if assessment.entry is not None else (),
                model=assessment.model),
            policy_rules.Phase.REGISTRATION)
        if not decision.allowed and decision.reason is policy_rules.PolicyReason.ATTESTATION_REQUIRED:
            raise PolicyDenied(f"{decision.message} {attestation_required_refusal(assessment)}",
                               code=f"policy_{decision.reason.value}", detail=assessment.message)
        _enforce(decision)
        with transaction.atomic():
            _challenge_consume(row)
            passkey = Passkey.objects.create(
                user=user, credential_id=registered.credential_id, public_key=registered.public_key,
                algorithm=registered.algorithm, sign_count=registered.sign_count,
                aaguid=uuid.UUID(registered.aaguid), attestation_format=registered.attestation_format,
                transports=list(registered.transports), backup_eligible=registered.backup_eligible,
                backup_state=registered.backup_state, uv_initialized=registered.user_verified,
                display_name=name, attestation_object=registered.attestation_object,
                client_data_json=registered.client_data_json, created_at=timezone.now(),
                attestation_certificates=list(assessment.thumbprints), attestation_level=assessment.level.value,
                model_name=(assessment.model or "")[:256],
                certification_level=assessment.certification_level.value if assessment.certification_level else "",
                metadata_status=assessment.status.value if assessment.status else "",
            )
            audit_record(category=Category.SECURITY_INFO, activity="passkey.register", actor=actor,
                         target=passkey_target(passkey), context=context,
                         details={"aaGuid": registered.aaguid, "synced": registered.backup_eligible,
                                  "attestationFormat": registered.attestation_format,
                                  "owner": user.user_principal_name,
                                  "attestationLevel": assessment.level.value,
                                  "attestation": assessment.reason.value,
                                  "provisionedByAdmin": ceremony is Ceremony.PROVISIONING})
    except IntegrityError:  # the same credential id registered concurrently
        _burn(row)
        audit_failure(category=Category.SECURITY_INFO, activity="passkey.register", actor=actor,
                      reason=RejectReason.CREDENTIAL_ALREADY_REGISTERED, context=context)
        raise CeremonyRejected(RejectReason.CREDENTIAL_ALREADY_REGISTERED,
                               "This passkey is already registered.") from None
    except PassgateError as exc:
        _burn(row)
        audit_failure(category=Category.SECURITY_INFO, activity="passkey.register", actor=actor,
                      reason=exc.code, context=context, target=user_target(user),
                      details={"detail": exc.detail[:500]} if exc.detail else None)
        raise
    return passkey


# --- admin provisioning (Graph: fido2Methods/creationOptions, then POST fido2Methods) -----------------

PROVISIONING_MIN_MINUTES, PROVISIONING_MAX_MINUTES = 5, 43_200


def _provisioning_binding(actor: Actor) -> str:
    """A provisioning challenge belongs to the administrator or app that asked for it, not to a browser."""
    return f"provisioning:{actor.id or actor.name}"


def passkey_provision_begin(*, user: User, actor: Actor, timeout_minutes: int = 5) -> tuple[dict[str, Any], datetime]:
    if isinstance(timeout_minutes, bool) or not isinstance(timeout_minutes, int) or not (
            PROVISIONING_MIN_MINUTES <= timeout_minutes <= PROVISIONING_MAX_MINUTES):
        raise InvalidInput(f"challengeTimeoutInMinutes must be between {PROVISIONING_MIN_MINUTES} and "
                           f"{PROVISIONING_MAX_MINUTES}", code="invalid_challenge_timeout")
    lifetime = timedelta(minutes=timeout_minutes)
    options = passkey_registration_begin(user=user, session_key=_provisioning_binding(actor),
                                         ceremony=Ceremony.PROVISIONING, lifetime=lifetime)
    return options, timezone.now() + lifetime


def passkey_provision_complete(*, user: User, actor: Actor, credential: Mapping[str, Any], display_name: str,
                               context: RequestContext = NO_CONTEXT) -> Passkey:
    return passkey_registration_complete(user=user, session_key=_provisioning_binding(actor), credential=credential,
                                         display_name=display_name, context=context, actor=actor,
                                         ceremony=Ceremony.PROVISIONING)


# --- sign-in ----------------------------------------------------------------------------------------

def passkey_signin_begin(*, session_key: str) -> dict[str, Any]:
    """Options for a username-less (discoverable) sign-in: the same answer whoever is signing in."""
    challenge = _challenge_issue(ceremony=Ceremony.AUTHENTICATION, session_key=session_key)
    return core.authentication_options(rp=relying_party(), challenge=challenge)


def passkey_reauth_begin(*, user: User, session_key: str) -> dict[str, Any]:
    challenge = _challenge_issue(ceremony=Ceremony.REAUTHENTICATION, session_key=session_key, user=user)
    return core.authentication_options(rp=relying_party(), challenge=challenge,
                                       allow=_descriptors(user.passkeys.all()))


def passkey_device_signin_begin(*, binding: str, user: User | None = None) -> dict[str, Any]:
    """Options for signing in to a joined computer: the challenge is bound to the device (``binding``) and to this
    ceremony, so it serves no browser sign-in. With ``user``, only that person's passkeys are allowed."""
    challenge = _challenge_issue(ceremony=Ceremony.DEVICE_SIGN_IN, session_key=binding, user=user)
    return core.authentication_options(rp=relying_party(), challenge=challenge,
                                       allow=_descriptors(user.passkeys.all()) if user is not None else ())


def passkey_signin_complete(*, session_key: str, credential: Mapping[str, Any],
                            context: RequestContext = NO_CONTEXT, reauth_user: User | None = None,
                            device_sign_in: bool = False) -> SignIn:
    """Verify an assertion. With ``reauth_user`` it must be one of that user's passkeys; ``device_sign_in``: the
    challenge came from ``passkey_device_signin_begin`` with ``session_key`` as its binding."""
    ceremony = (Ceremony.DEVICE_SIGN_IN if device_sign_in else
                Ceremony.REAUTHENTICATION if reauth_user else Ceremony.AUTHENTICATION)
    activity = ("passkey.deviceSignIn" if device_sign_in else
                "passkey.reauthenticate" if reauth_user else "passkey.signIn")
    passkey: Passkey | None = None
    row: Challenge | None = None
    try:
        header = core.read_assertion_header(credential)
        row = _challenge_check(challenge=header.challenge, ceremony=ceremony, session_key=session_key,
                               user=reauth_user)
        passkey = Passkey.objects.select_related("user").filter(credential_id=header.credential_id).first()
        if passkey is None or (reauth_user is not None and passkey.user_id != reauth_user.pk):
            raise CeremonyRejected(RejectReason.UNKNOWN_CREDENTIAL,
                                   "This passkey is not registered here. Use another passkey, or ask your "
                                   "administrator for a Temporary Access Pass.")
        stored = core.StoredCredential(
            credential_id=bytes(passkey.credential_id), public_key=bytes(passkey.public_key),
            sign_count=passkey.sign_count, backup_eligible=passkey.backup_eligible,
            user_handle=bytes(passkey.user.webauthn_user_handle),
        )
        try:
            with CEREMONY_SECONDS.labels(ceremony="assertion").time():
                verified = core.verify_authentication(
                    rp=relying_party(), credential=credential, expected_challenge=header.challenge, stored=stored,
                    allowed_credential_ids=[stored.credential_id] if reauth_user else (),
                    require_user_handle=reauth_user is None,
                )
        except CeremonyRejected as exc:
            if exc.reason is RejectReason.SIGN_COUNT_REGRESSION:
                # Losing a race to complete this very response is a replay, not a clone: only the request
                # that consumes the challenge may call the passkey copied.
                _challenge_consume(row)
                _flag_possible_clone(passkey, context=context)
            raise
        if passkey.possibly_cloned_at is not None:
            raise AccessDenied("This passkey was suspended: Passgate saw signs that it may have been copied. Sign in "
                               "another way (another passkey, or a Temporary Access Pass from your administrator: "
                               "the link below), then remove the suspended passkey in Security info and add a new "
                               "one.", code="credential_suspended")
        if not passkey.user.account_enabled:
            raise AccessDenied("Your account is disabled. Contact your administrator.", code="user_disabled")
        policy = current_policy()
        if passkey.metadata_revoked_at is not None and policy.fido2.refuse_flagged_models_at_sign_in:
            raise AccessDenied(f"The FIDO Alliance marked this passkey's model {passkey.metadata_status}: it is no "
                               "longer trusted. Add another passkey, or ask your administrator.",
                               code="credential_model_untrusted")
        # Passkey types and key restrictions apply at every sign-in (attestation only at registration).
        _enforce(policy_rules.evaluate_passkey(policy, _user_facts(passkey.user), passkey_facts(passkey),
                                               policy_rules.Phase.SIGN_IN))
        _record_use(passkey, verified, row, context=context, activity=activity)
    except PassgateError as exc:
        _burn(row)
        owner = passkey.user if passkey is not None else None
        audit_failure(category=Category.SIGN_IN, activity=activity, reason=exc.code, context=context,
                      actor=actor_for(owner) if owner else None,
                      target=passkey_target(passkey) if passkey else None)
        raise
    return SignIn(user=passkey.user, method="passkey", passkey=passkey)


def _record_use(passkey: Passkey, verified: core.VerifiedAssertion, challenge: Challenge, *,
                context: RequestContext, activity: str) -> None:
    """One transaction: consume the challenge, move the counter, audit. A loser of a race changes nothing."""
    now = timezone.now()
    with transaction.atomic():
        _challenge_consume(challenge)
        rows = Passkey.objects.filter(pk=passkey.pk)
        if verified.new_sign_count:
            # Counters only move forward, also when two sign-ins of one authenticator race.
            rows = rows.filter(sign_count__lt=verified.new_sign_count)
        updated = rows.update(sign_count=verified.new_sign_count, backup_state=verified.backup_state,
                              last_used_at=now)
        if updated != 1:
            raise CeremonyRejected(RejectReason.SIGN_COUNT_REGRESSION,
                                   "This passkey's signature counter went backwards.")
        audit_record(category=Category.SIGN_IN, activity=activity, actor=actor_for(passkey.user),
                     target=passkey_target(passkey), context=context,
                     details={"aaGuid": str(passkey.aaguid), "signCount": verified.new_sign_count,
                              "userVerified": verified.user_verified})
    passkey.sign_count, passkey.last_used_at = verified.new_sign_count, now


def _flag_possible_clone(passkey: Passkey, *, context: RequestContext) -> None:
    now = timezone.now()
    with transaction.atomic():
        Passkey.objects.filter(pk=passkey.pk, possibly_cloned_at__isnull=True).update(possibly_cloned_at=now)
        audit_failure(category=Category.SECURITY_INFO, activity="passkey.possibleClone",
                      reason=RejectReason.SIGN_COUNT_REGRESSION,
                      actor=actor_for(passkey.user), target=passkey_target(passkey), context=context,
                      details={"storedSignCount": passkey.sign_count})
    passkey.possibly_cloned_at = now


# --- security info changes --------------------------------------------------------------------------

@audited_refusals(category=Category.SECURITY_INFO, activity="passkey.rename",
                  target=lambda kwargs: passkey_target(kwargs["passkey"]))
def passkey_rename(*, passkey: Passkey, display_name: str, actor: Actor,
                   context: RequestContext = NO_CONTEXT) -> Passkey:
    name = validate_passkey_name(display_name)
    with transaction.atomic():
        old = passkey.display_name
        passkey.display_name = name
        passkey.save(update_fields=["display_name"])
        audit_record(category=Category.SECURITY_INFO, activity="passkey.rename", actor=actor,
                     target=passkey_target(passkey), context=context,
                     details={"displayName": {"old": old, "new": name}})
    return passkey


@transaction.atomic
def passkey_delete(*, passkey: Passkey, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    target = passkey_target(passkey)
    details = {"aaGuid": str(passkey.aaguid), "owner": passkey.user.user_principal_name}
    passkey.delete()
    audit_record(category=Category.SECURITY_INFO, activity="passkey.delete", actor=actor, target=target,
                 context=context, details=details)


# --- Temporary Access Pass --------------------------------------------------------------------------

def _tap_key() -> bytes:
    return hashlib.sha256(b"passgate-tap\x00" + settings.SECRET_KEY.encode()).digest()


def _tap_record(row: TemporaryAccessPass) -> tap_rules.TapRecord:
    return tap_rules.TapRecord(start=row.start_at, lifetime_minutes=row.lifetime_minutes,
                               is_usable_once=row.is_usable_once, used=row.used_at is not None,
                               revoked=row.revoked_at is not None)


def tap_issue(*, user: User, actor: Actor, lifetime_minutes: int | None = None,
              usable_once: bool | None = None, start_at: datetime | None = None,
              context: RequestContext = NO_CONTEXT) -> tuple[TemporaryAccessPass, str]:
    """Issue a pass within the Temporary Access Pass policy (its defaults fill what is not given).

    The plain pass is returned once, here, and never stored.
    """
    config = current_policy().temporary_access_pass
    try:
        if lifetime_minutes is not None:
            tap_rules.validate_lifetime(lifetime_minutes)
        if not policy_rules.method_allowed(config, _user_facts(user)):
            raise PolicyDenied(f"The Temporary Access Pass policy does not include {user.user_principal_name}.",
                               code="policy_method_not_allowed")
        settings_ = policy_rules.tap_issue_settings(config, lifetime_in_minutes=lifetime_minutes,
                                                    is_usable_once=usable_once)
    except PassgateError as exc:
        audit_failure(category=Category.SECURITY_INFO, activity="tap.issue", actor=actor, target=user_target(user),
                      reason=exc.code, context=context)
        raise
    lifetime_minutes, usable_once = settings_.lifetime_in_minutes, settings_.is_usable_once
    plain = tap_rules.generate(secrets.token_bytes(tap_rules.RANDOM_BYTES_NEEDED))
    now = timezone.now()
    with transaction.atomic():
        row = TemporaryAccessPass.objects.create(
            user=user, digest=tap_rules.digest(_tap_key(), plain), created_at=now, start_at=start_at or now,
            lifetime_minutes=lifetime_minutes, is_usable_once=usable_once, created_by=actor.name,
        )
        audit_record(category=Category.SECURITY_INFO, activity="tap.issue", actor=actor, target=user_target(user),
                     context=context, details={"lifetimeInMinutes": lifetime_minutes,
                                               "isUsableOnce": usable_once, "tapId": str(row.id)})
    return row, tap_rules.display(plain)


def tap_state(row: TemporaryAccessPass) -> tap_rules.TapState:
    return tap_rules.state(_tap_record(row), now=timezone.now())


@transaction.atomic
def tap_delete(*, tap: TemporaryAccessPass, actor: Actor, context: RequestContext = NO_CONTEXT) -> None:
    target = user_target(tap.user)
    tap_id = str(tap.id)
    tap.delete()
    audit_record(category=Category.SECURITY_INFO, activity="tap.delete", actor=actor, target=target,
                 context=context, details={"tapId": tap_id})


GENERIC_TAP_FAILURE = "That user name and Temporary Access Pass don't match a valid pass."
NO_USER_ID = uuid.UUID(int=0)  # an id no user has: an unknown user name runs the same pass query as a real one


def tap_signin(*, upn: object, tap: object, context: RequestContext = NO_CONTEXT,
               activity: str = "tap.signIn") -> SignIn:
    """Sign in (or, with ``activity="tap.reauthenticate"``, confirm it's you) with a pass.

    Guessing is slowed, never locked out: the request's address and the user name given each have a back-off
    counter (``core.throttle``); while either makes the guesser wait, the attempt is refused (``tap_throttled``)
    before any pass is looked at, a correct one included. An unknown user name and a wrong pass give the same
    answer after the same work: one HMAC, the same SQL statements (the pass query runs with an id no user has),
    and the same counters, which are keyed by the user name whether or not it names anybody.
    """
    given_upn = normalise_upn(_storable(upn)) if isinstance(upn, str) else ""
    given_digest = tap_rules.digest(_tap_key(), tap if isinstance(tap, str) else "")
    upn_given = {"upnGiven": _storable(str(upn)[:113])}
    refusal: PassgateError | None = None
    result: SignIn | None = None
    with transaction.atomic():
        guard = throttle.throttle_lock([throttle.source_subject(context),
                                        throttle.subject(Scope.TAP_USER, given_upn)])
        if not guard.verdict.allowed:
            refusal = throttle_rules.refusal(guard.verdict, code="tap_throttled")
            audit_failure(category=Category.SIGN_IN, activity=activity, reason=refusal.code, context=context,
                          details={**upn_given, "retryAfterSeconds": guard.verdict.retry_after})
        else:
            user = User.objects.filter(upn_normalized=given_upn).first()
            passes = list(TemporaryAccessPass.objects.filter(user_id=user.pk if user else NO_USER_ID))
            index = tap_rules.find_match(given_digest, [bytes(row.digest) for row in passes])
            if user is None or index is None:
                guard.failed()
                refusal = TemporaryAccessPassRejected(GENERIC_TAP_FAILURE)
                audit_failure(category=Category.SIGN_IN, activity=activity, reason=refusal.code, context=context,
                              actor=actor_for(user) if user else None, details=upn_given)
            else:
                refusal = _tap_use(user, passes[index], guard=guard, context=context, activity=activity)
                result = SignIn(user=user, method="tap", tap_usable_once=passes[index].is_usable_once,
                                tap_id=passes[index].id)
    if refusal is not None or result is None:
        raise refusal or RuntimeError("a pass sign-in ended without an answer")
    return result


def _storable(text: str) -> str:
    """What was typed, as a database and a JSON audit row can hold it: NULs and lone surrogates become U+FFFD
    (no user name contains it, so the look-up still finds nobody)."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").replace("\x00", "\ufffd")


def _tap_use(user: User, match: TemporaryAccessPass, *, guard: throttle.Guard, context: RequestContext,
             activity: str) -> PassgateError | None:
    """The pass given is this one of ``user``'s: use it if it is usable now (audited either way). A correct pass
    is no wrong guess: it adds no failure, and only a successful sign-in clears the user name's failures."""
    details = {"tapId": str(match.id)}
    try:
        tap_rules.require_usable(_tap_record(match), now=guard.now)
        if not user.account_enabled:
            raise AccessDenied("Your account is disabled. Contact your administrator.", code="user_disabled")
        if not policy_rules.method_allowed(current_policy().temporary_access_pass, _user_facts(user)):
            raise PolicyDenied("Your organisation's policy doesn't allow you to use a Temporary Access Pass.",
                               code="policy_method_not_allowed")
        if match.is_usable_once:
            won = TemporaryAccessPass.objects.filter(pk=match.pk, used_at__isnull=True).update(used_at=guard.now)
            if won != 1:
                raise TemporaryAccessPassRejected(tap_rules.TAP_MESSAGES[tap_rules.TapState.USED], code="tap_used")
    except PassgateError as exc:
        audit_failure(category=Category.SIGN_IN, activity=activity, reason=exc.code, context=context,
                      actor=actor_for(user), target=user_target(user), details=details)
        return exc
    guard.succeeded(Scope.TAP_USER)
    audit_record(category=Category.SIGN_IN, activity=activity, actor=actor_for(user), target=user_target(user),
                 context=context, details=details)
    return None
