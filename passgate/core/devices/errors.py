"""Refusals of the device registry and the device API, each with its reason code (one vocabulary for the HTTP
answer, the audit row and the sign-in log)."""

from __future__ import annotations

from enum import StrEnum, unique

from passgate.core.errors import PassgateError


@unique
class DeviceReason(StrEnum):
    ENROLLMENT_TOKEN_INVALID = "device_enrollment_token_invalid"  # noqa: S105 - reason codes, not secrets
    ENROLLMENT_TOKEN_EXPIRED = "device_enrollment_token_expired"  # noqa: S105
    ENROLLMENT_TOKEN_USED = "device_enrollment_token_used_up"  # noqa: S105
    JOIN_REQUEST_INVALID = "device_join_request_invalid"
    KEY_INVALID = "device_key_invalid"
    KEY_ALREADY_JOINED = "device_key_already_joined"
    PROOF_MALFORMED = "device_proof_malformed"
    PROOF_SIGNATURE = "device_proof_signature_invalid"
    PROOF_EXPIRED = "device_proof_expired"
    PROOF_REPLAYED = "device_proof_replayed"
    PROOF_WRONG_REQUEST = "device_proof_wrong_request"  # another method, URL, audience or body
    DEVICE_UNKNOWN = "device_unknown"
    DEVICE_DISABLED = "device_disabled"
    SIGNIN_OFF = "device_security_key_signin_off"
    SIGNIN_REQUEST_INVALID = "device_signin_request_invalid"
    PASSKEY_NOT_DEVICE_BOUND = "device_signin_passkey_not_device_bound"
    SIGNIN_UNKNOWN = "device_signin_unknown"  # no such sign-in for this device, expired or already completed
    USER_MISMATCH = "device_signin_user_mismatch"  # the key signed in someone other than the user asked for
    POLICY_BLOCKED = "device_signin_blocked"  # Conditional Access blocks device sign-in, or needs what it can't give
    REGISTER_REQUEST_INVALID = "device_register_request_invalid"
    REGISTER_UNKNOWN = "device_register_unknown"  # no such registration for this device, expired or completed
    PACKAGE_INVALID = "device_provisioning_package_invalid"
    SYNC_REQUEST_INVALID = "device_sync_request_invalid"
    OFFLINE_RECORD_INVALID = "device_offline_record_invalid"
    OFFLINE_RECORD_EXPIRED = "device_offline_record_expired"


class DeviceRejected(PassgateError):
    """A device request was refused; ``reason`` says why."""

    def __init__(self, reason: DeviceReason, message: str) -> None:
        super().__init__(message, code=reason.value)
        self.reason = reason
