"""What a person reads when something is refused. Reason codes stay in the JSON and the audit log;
the core's messages are for developers and logs, and can carry details (counters, flags) a person
holding a copied key should not learn."""

from __future__ import annotations

import math
from collections.abc import Sequence

from passgate.core import tap
from passgate.core.directory import MAX_DISPLAY_NAME
from passgate.core.errors import CeremonyRejected, InvalidInput, PassgateError, RejectReason, Throttled
from passgate.core.policy.errors import PolicyValidationError

_R = RejectReason
_TRY_AGAIN = "This passkey couldn't be verified. Try again, or use another passkey."
_UNREADABLE = "Your browser sent a passkey response Passgate couldn't read. Try again."
_UNTRUSTED_SITE = "This passkey request didn't come from this site's address, so it was refused."
_RESTART = "This sign-in request expired or was already used. Start again."
_UNUSABLE_KEY = "This passkey uses a kind of key Passgate doesn't accept. Try another passkey."
_BAD_ATTESTATION = ("This authenticator's attestation certificate doesn't meet the WebAuthn requirements, so it was "
                    "refused. Try another passkey or security key.")

CEREMONY_MESSAGES: dict[RejectReason, str] = {
    _R.MALFORMED_CREDENTIAL: _UNREADABLE,
    _R.MALFORMED_CLIENT_DATA: _UNREADABLE,
    _R.MALFORMED_AUTHENTICATOR_DATA: _UNREADABLE,
    _R.MALFORMED_ATTESTATION_OBJECT: _UNREADABLE,
    _R.ID_MISMATCH: _UNREADABLE,
    _R.WRONG_CREDENTIAL_TYPE: _UNREADABLE,
    _R.WRONG_CEREMONY_TYPE: _UNREADABLE,
    _R.CHALLENGE_MISMATCH: _RESTART,
    _R.ORIGIN_NOT_ALLOWED: _UNTRUSTED_SITE,
    _R.CROSS_ORIGIN_NOT_ALLOWED: "Passkeys can't be used from inside another site's frame. Open Passgate directly.",
    _R.TOP_ORIGIN_NOT_ALLOWED: "Passkeys can't be used from inside another site's frame. Open Passgate directly.",
    _R.TOKEN_BINDING_INVALID: _UNREADABLE,
    _R.RP_ID_HASH_MISMATCH: "This passkey belongs to another site.",
    _R.USER_NOT_PRESENT: "Your passkey didn't confirm you were there (touch or approve). Try again.",
    _R.USER_NOT_VERIFIED: "Your passkey didn't verify you with a PIN, fingerprint or face. "
                          "Use a passkey that can, and allow the check when asked.",
    _R.BACKUP_STATE_INCONSISTENT: "This passkey reported inconsistent backup information and was refused.",
    _R.BACKUP_ELIGIBILITY_CHANGED: "This passkey reported different backup information than when it was added, "
                                   "so it was refused. Add it again.",
    _R.ATTESTED_DATA_MISSING: _UNREADABLE,
    _R.ALGORITHM_NOT_ALLOWED: _UNUSABLE_KEY,
    _R.CREDENTIAL_KEY_TOO_WEAK: "This passkey's key is too weak to be safe, so Passgate doesn't accept it. Use or "
                                "add another passkey.",
    _R.CREDENTIAL_KEY_INVALID: _UNUSABLE_KEY,
    _R.UNSUPPORTED_CURVE: _UNUSABLE_KEY,
    _R.CREDENTIAL_KEY_ALG_MISMATCH: _UNUSABLE_KEY,
    _R.UNSUPPORTED_ATTESTATION_FORMAT: "Passgate couldn't check what kind of authenticator this is.",
    _R.ATTESTATION_INVALID: "Passgate couldn't check what kind of authenticator this is.",
    _R.ATTESTATION_CERTIFICATE_MALFORMED: _BAD_ATTESTATION,
    _R.ATTESTATION_CERTIFICATE_KEY_TOO_WEAK: _BAD_ATTESTATION,
    _R.ATTESTATION_CERTIFICATE_VERSION: _BAD_ATTESTATION,
    _R.ATTESTATION_CERTIFICATE_SUBJECT: _BAD_ATTESTATION,
    _R.ATTESTATION_CERTIFICATE_CA: _BAD_ATTESTATION,
    _R.ATTESTATION_CERTIFICATE_AAGUID: _BAD_ATTESTATION,
    _R.ATTESTATION_CERTIFICATE_SAN: _BAD_ATTESTATION,
    _R.ATTESTATION_CERTIFICATE_EKU: _BAD_ATTESTATION,
    _R.ATTESTATION_CERTIFICATE_KEY_MISMATCH: _BAD_ATTESTATION,
    _R.ATTESTATION_CHALLENGE_MISMATCH: _BAD_ATTESTATION,
    _R.ATTESTATION_KEY_AUTHORIZATION: _BAD_ATTESTATION,
    _R.CREDENTIAL_ID_TOO_LONG: "This authenticator's passkey is too large for Passgate. Try another one.",
    _R.CREDENTIAL_ALREADY_REGISTERED: "This passkey is already registered.",
    _R.CREDENTIAL_NOT_ALLOWED: "Use one of your own passkeys.",
    _R.UNKNOWN_CREDENTIAL: "This passkey isn't registered here. Use another passkey, or ask your administrator "
                           "for a Temporary Access Pass.",
    _R.USER_HANDLE_MISMATCH: _TRY_AGAIN,
    _R.USER_HANDLE_MISSING: _TRY_AGAIN,
    _R.SIGNATURE_INVALID: _TRY_AGAIN,
    _R.SIGN_COUNT_REGRESSION: "This passkey was refused because it may have been copied. Remove it in Security "
                              "info and add a new one, or ask your administrator.",
    _R.CHALLENGE_UNKNOWN: _RESTART,
    _R.CHALLENGE_EXPIRED: _RESTART,
    _R.CHALLENGE_CONSUMED: _RESTART,
    _R.CHALLENGE_WRONG_SESSION: "This request was started in another browser window or session. Start again.",
}


# A back-off refusal says when to try again, never why: the same words for a user name that exists and one that
# doesn't, and for an address or a person being the one slowed down.
THROTTLED_MESSAGES = {
    "tap_throttled": "Too many wrong attempts. Try again {when}.",
    "totp_throttled": "Too many wrong codes. Try again {when}, or confirm it's you another way.",
}


def in_words(seconds: int) -> str:
    """A wait as people say it, rounded up: "in a few seconds", "in 40 seconds", "in 3 minutes", "in about 2 hours"."""
    if seconds <= 5:
        return "in a few seconds"
    if seconds < 60:
        return f"in {seconds} seconds"
    if seconds < 3600:
        minutes = math.ceil(seconds / 60)
        return "in 1 minute" if minutes == 1 else f"in {minutes} minutes"
    hours = math.ceil(seconds / 3600)
    return "in about 1 hour" if hours == 1 else f"in about {hours} hours"


def for_person(exc: PassgateError) -> str:
    if isinstance(exc, CeremonyRejected):
        return CEREMONY_MESSAGES.get(exc.reason, _TRY_AGAIN)
    if isinstance(exc, Throttled):
        template = THROTTLED_MESSAGES.get(exc.code, "Too many attempts. Try again {when}.")
        return template.format(when=in_words(exc.retry_after))
    return exc.message


# A core refusal names a value as the Graph API does (displayName, lifetimeInMinutes, a JSON path); the Graph API
# keeps those words. A web page names the field as its form labels it: the reason code, and the rule when one code
# covers several, pick the sentence; the view gives the label.
FIELD_SENTENCES: dict[tuple[str, str], str] = {
    ("invalid_display_name", "required"): "{label} can't be empty.",
    ("invalid_display_name", "too_long"): f"{{label}} must be at most {MAX_DISPLAY_NAME} characters.",
    ("invalid_display_name", "unprintable"): "{label} can't contain control characters.",
    ("invalid_upn", "required"): "{label}: enter the person's user name, like ada@contoso.com.",
    ("invalid_upn", "format"): "{label}: enter it as alias@domain, like ada@contoso.com (letters, digits and "
                               "' . - _ ! # ^ ~ before the @).",
    ("invalid_tap_lifetime", "whole_number"): "{label} must be a whole number of minutes.",
    ("invalid_tap_lifetime", "range"): (f"{{label}} must be between {tap.MIN_LIFETIME_MINUTES:,} and "
                                        f"{tap.MAX_LIFETIME_MINUTES:,} minutes."),
}


def in_form(exc: PassgateError, label: str) -> str:
    """What a form says next to the field labelled ``label`` when the core refused its value."""
    sentence = FIELD_SENTENCES.get((exc.code, exc.rule)) if isinstance(exc, InvalidInput) else None
    return sentence.format(label=label) if sentence is not None else for_person(exc)


def _under(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith((f"{prefix}.", f"{prefix}["))


def labelled(exc: PolicyValidationError, labels: Sequence[tuple[str, str]]) -> str:
    """A refused policy document on the form that built it: the label of the form field its property path falls
    under (``labels``: property path prefix, label), then what is wrong; the core's message when no field does."""
    label = next((label for prefix, label in labels if _under(exc.target, prefix)), None)
    return exc.message if label is None else f"{label}: {exc.detail}"
