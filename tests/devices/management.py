"""The soft key's management commands: authenticatorCredentialManagement (CTAP 2.1 §6.8) and
authenticatorBioEnrollment (§6.7) with simulated fingerprints.

Both are called like the other command handlers of ``SoftKey`` (parameters, the previous command's
continuation) and authorize with the key's pinUvAuthToken: ``cm`` for credential management, ``be`` for
enrollment, the pinUvAuthParam being authenticate(token, subCommand [modality first for bio] || subCommandParams).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fido2 import cbor
from fido2.ctap import STATUS, CtapError

from tests.devices.ctap_cbor import get, need, parse_user
from tests.devices.keystate import MAX_RESIDENT_CREDENTIALS, Credential, Fingerprint
from tests.devices.volatile import Continuation, PinUvAuthToken

if TYPE_CHECKING:
    from tests.devices.softkey import SoftKey

ERR = CtapError.ERR
PERM_CM, PERM_BE = 0x04, 0x08
ENUMERATION_WINDOW = 30.0


def _sub_command_message(prefix: bytes, sub_params: Mapping[int, Any] | None) -> bytes:
    return prefix + (cbor.encode(dict(sub_params)) if sub_params is not None else b"")


def _authorize(key: SoftKey, params: Mapping[int, Any], message: bytes, *, keys: tuple[int, int],
               permission: int) -> PinUvAuthToken:
    """pinUvAuthParam absent: PUAT_REQUIRED; then the protocol, the MAC and the permission (PIN_AUTH_INVALID).
    ``keys``: where the request carries pinUvAuthProtocol and pinUvAuthParam."""
    protocol_key, param_key = keys
    pin_uv_auth_param = get(params, param_key, bytes)
    if pin_uv_auth_param is None:
        raise CtapError(ERR.PUAT_REQUIRED)
    protocol = key.protocol(get(params, protocol_key, int))
    token = key.token_for(protocol, message, pin_uv_auth_param)
    if not token.permissions & permission:
        raise CtapError(ERR.PIN_AUTH_INVALID)
    return token


class CredentialManagementCommand:
    """authenticatorCredentialManagement (§6.8): metadata, RP and credential enumeration, delete, update."""

    def __init__(self, key: SoftKey) -> None:
        self.key = key

    def __call__(self, params: dict[int, Any], previous: Continuation | None) -> dict[int, Any] | None:
        sub_command = need(params, 0x01, int)
        sub_params = get(params, 0x02, dict)
        if sub_command == 0x03:
            return self._next("enumerateRPs", previous)
        if sub_command == 0x05:
            return self._next("enumerateCredentials", previous)
        handlers = {0x01: self._metadata, 0x02: self._rps_begin, 0x04: self._credentials_begin,
                    0x06: self._delete, 0x07: self._update}
        if sub_command not in handlers:
            raise CtapError(ERR.INVALID_SUBCOMMAND)
        message = _sub_command_message(bytes([sub_command]), sub_params)
        token = _authorize(self.key, params, message, keys=(0x03, 0x04), permission=PERM_CM)
        return handlers[sub_command](token, sub_params or {})

    def _discoverable(self) -> list[Credential]:
        return sorted((c for c in self.key.state.credentials if c.discoverable), key=lambda c: c.created)

    @staticmethod
    def _unscoped(token: PinUvAuthToken) -> None:
        """Metadata and RP enumeration span every RP: a token bound to one RP may not ask (§6.8.2, §6.8.3)."""
        if token.rp_id is not None:
            raise CtapError(ERR.PIN_AUTH_INVALID)

    def _metadata(self, token: PinUvAuthToken, _: Mapping[int, Any]) -> dict[int, Any]:
        """getCredsMetadata (§6.8.2): existing discoverable credentials and room for more."""
        self._unscoped(token)
        count = len(self._discoverable())
        return {0x01: count, 0x02: MAX_RESIDENT_CREDENTIALS - count}

    def _rps_begin(self, token: PinUvAuthToken, _: Mapping[int, Any]) -> dict[int, Any]:
        """enumerateRPsBegin (§6.8.3): the first RP with totalRPs; NO_CREDENTIALS when there is none."""
        self._unscoped(token)
        rps: dict[str, dict[str, Any]] = {}
        for credential in self._discoverable():
            rps.setdefault(credential.rp_id, credential.rp)
        if not rps:
            raise CtapError(ERR.NO_CREDENTIALS)
        entries = tuple(self._rp_entry(rp) for rp in rps.values())
        self._remember("enumerateRPs", entries[1:])
        return {**entries[0], 0x05: len(entries)}

    @staticmethod
    def _rp_entry(rp: Mapping[str, Any]) -> dict[int, Any]:
        return {0x03: dict(rp), 0x04: hashlib.sha256(rp["id"].encode()).digest()}

    def _credentials_begin(self, token: PinUvAuthToken, sub_params: Mapping[int, Any]) -> dict[int, Any]:
        """enumerateCredentialsBegin (§6.8.4): the RP's discoverable credentials, first one with the total."""
        rp_id_hash = need(sub_params, 0x01, bytes)
        if token.rp_id is not None and hashlib.sha256(token.rp_id.encode()).digest() != rp_id_hash:
            raise CtapError(ERR.PIN_AUTH_INVALID)
        credentials = [c for c in self._discoverable() if c.rp_id_hash == rp_id_hash]
        if not credentials:
            raise CtapError(ERR.NO_CREDENTIALS)
        entries = tuple(self._credential_entry(c) for c in credentials)
        self._remember("enumerateCredentials", entries[1:])
        return {**entries[0], 0x09: len(entries)}

    @staticmethod
    def _credential_entry(credential: Credential) -> dict[int, Any]:
        return {0x06: dict(credential.user), 0x07: {"id": credential.credential_id, "type": "public-key"},
                0x08: credential.cose_public_key(),
                0x0A: credential.cred_protect}

    def _remember(self, kind: str, rest: tuple[dict[int, Any], ...]) -> None:
        if rest:
            self.key.continuation = Continuation(kind, rest, self.key.clock() + ENUMERATION_WINDOW)

    def _next(self, kind: str, previous: Continuation | None) -> dict[int, Any]:
        """enumerateRPsGetNextRP / enumerateCredentialsGetNextCredential: only right after the previous step."""
        if previous is None or previous.kind != kind or self.key.clock() > previous.deadline:
            raise CtapError(ERR.NOT_ALLOWED)
        self._remember(kind, previous.items[1:])
        return dict(previous.items[0])

    def _credential(self, token: PinUvAuthToken, sub_params: Mapping[int, Any]) -> Credential:
        descriptor = need(sub_params, 0x02, dict)
        credential_id = need(descriptor, "id", bytes)
        credential = self.key.find_credential(credential_id)
        if credential is None or not credential.discoverable:
            raise CtapError(ERR.NO_CREDENTIALS)
        if token.rp_id is not None and token.rp_id != credential.rp_id:
            raise CtapError(ERR.PIN_AUTH_INVALID)
        return credential

    def _delete(self, token: PinUvAuthToken, sub_params: Mapping[int, Any]) -> None:
        """deleteCredential (§6.8.5)."""
        credential = self._credential(token, sub_params)
        self.key.state.credentials.remove(credential)

    def _update(self, token: PinUvAuthToken, sub_params: Mapping[int, Any]) -> None:
        """updateUserInformation (§6.8.6): same user id (else INVALID_PARAMETER); name and displayName
        replaced, absent or empty ones removed."""
        credential = self._credential(token, sub_params)
        user = parse_user(need(sub_params, 0x03, dict))
        if user["id"] != credential.user["id"]:
            raise CtapError(ERR.INVALID_PARAMETER)
        credential.user = user


@dataclass
class Enrollment:
    template_id: bytes
    finger: str | None
    remaining: int


class BioEnrollmentCommand:
    """authenticatorBioEnrollment (§6.7) for a touch fingerprint sensor; the test's ``key.finger`` is what the
    sensor reads (None: nothing, the capture times out)."""

    SAMPLES = 3
    MAX_TEMPLATES = 5
    MAX_NAME_BYTES = 32
    FINGERPRINT = 0x01  # modality
    TOUCH_SENSOR = 0x01  # fingerprintKind
    FP_GOOD, FP_MERGE_FAILURE, FP_EXISTS = 0x00, 0x0A, 0x0B  # lastEnrollSampleStatus

    def __init__(self, key: SoftKey) -> None:
        self.key = key
        self.enrollment: Enrollment | None = None

    def cancel(self) -> None:
        self.enrollment = None

    def __call__(self, params: dict[int, Any], _: Continuation | None) -> dict[int, Any] | None:
        if get(params, 0x06, bool):
            return {0x01: self.FINGERPRINT}  # getModality
        modality, sub_command = need(params, 0x01, int), need(params, 0x02, int)
        if modality != self.FINGERPRINT:
            raise CtapError(ERR.INVALID_PARAMETER)
        sub_params = get(params, 0x03, dict)
        if sub_command == 0x07:
            return {0x02: self.TOUCH_SENSOR, 0x03: self.SAMPLES, 0x08: self.MAX_NAME_BYTES}
        if sub_command == 0x03:
            self.cancel()  # cancelCurrentEnrollment (§6.7.5)
            return None
        handlers = {0x01: self._enroll_begin, 0x02: self._capture_next, 0x04: self._enumerate,
                    0x05: self._set_name, 0x06: self._remove}
        if sub_command not in handlers:
            raise CtapError(ERR.INVALID_SUBCOMMAND)
        message = _sub_command_message(bytes([modality, sub_command]), sub_params)
        _authorize(self.key, params, message, keys=(0x04, 0x05), permission=PERM_BE)
        return handlers[sub_command](sub_params or {})

    def _enroll_begin(self, sub_params: Mapping[int, Any]) -> dict[int, Any]:
        """enrollBegin (§6.7.3): a new template id and the first sample (FP_DATABASE_FULL when full)."""
        get(sub_params, 0x03, int)  # timeoutMilliseconds: the test decides instead
        if len(self.key.state.fingerprints) >= self.MAX_TEMPLATES:
            raise CtapError(ERR.FP_DATABASE_FULL)
        template_id = self.key.state.next_sequence().to_bytes(2, "big")
        self.enrollment = Enrollment(template_id, None, self.SAMPLES)
        try:
            status = self._capture()
        except CtapError:
            self.enrollment = None
            raise
        return {0x04: template_id, 0x05: status, 0x06: self.SAMPLES - self._done()}

    def _capture_next(self, sub_params: Mapping[int, Any]) -> dict[int, Any]:
        """enrollCaptureNextSample (§6.7.4) of the enrollment in progress (else INVALID_PARAMETER)."""
        template_id = need(sub_params, 0x01, bytes)
        get(sub_params, 0x03, int)
        if self.enrollment is None or self.enrollment.template_id != template_id:
            raise CtapError(ERR.INVALID_PARAMETER)
        status = self._capture()
        return {0x05: status, 0x06: self.SAMPLES - self._done()}

    def _done(self) -> int:
        return self.SAMPLES if self.enrollment is None else self.SAMPLES - self.enrollment.remaining

    def _capture(self) -> int:
        """One sample: no finger times out; an enrolled finger is FP_EXISTS; another finger than the first
        sample's is FP_MERGE_FAILURE; the last good sample stores the template."""
        self.key.keepalive(STATUS.UPNEEDED)
        finger, enrollment = self.key.finger, self.enrollment
        assert enrollment is not None
        if finger is None:
            raise CtapError(ERR.USER_ACTION_TIMEOUT)
        if any(template.finger == finger for template in self.key.state.fingerprints):
            return self.FP_EXISTS
        if enrollment.finger not in (None, finger):
            return self.FP_MERGE_FAILURE
        enrollment.finger = finger
        enrollment.remaining -= 1
        if enrollment.remaining == 0:
            self.key.state.fingerprints.append(Fingerprint(enrollment.template_id, finger))
            self.enrollment = None
        return self.FP_GOOD

    def _enumerate(self, _: Mapping[int, Any]) -> dict[int, Any]:
        """enumerateEnrollments (§6.7.6): INVALID_OPTION when nothing is enrolled."""
        templates = self.key.state.fingerprints
        if not templates:
            raise CtapError(ERR.INVALID_OPTION)
        return {0x07: [{0x01: t.template_id, 0x02: t.name} for t in templates]}

    def _template(self, sub_params: Mapping[int, Any]) -> Fingerprint:
        template_id = need(sub_params, 0x01, bytes)
        for template in self.key.state.fingerprints:
            if template.template_id == template_id:
                return template
        raise CtapError(ERR.INVALID_PARAMETER)

    def _set_name(self, sub_params: Mapping[int, Any]) -> None:
        """setFriendlyName (§6.7.7): at most maxTemplateFriendlyName bytes (else INVALID_LENGTH)."""
        name = need(sub_params, 0x02, str)
        template = self._template(sub_params)
        if len(name.encode()) > self.MAX_NAME_BYTES:
            raise CtapError(ERR.INVALID_LENGTH)
        template.name = name

    def _remove(self, sub_params: Mapping[int, Any]) -> None:
        """removeEnrollment (§6.7.8)."""
        self.key.state.fingerprints.remove(self._template(sub_params))
