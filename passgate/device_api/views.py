"""``/device/v1/…``: join, read the device's own registration, leave.

Errors are RFC 6749 §5.2-style JSON (``{"error", "error_description"}``), the ``error`` being the reason code, with
401 for a proof that does not authenticate, 403 for a disabled device, 400 for a bad request.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from passgate.audit.context import request_context
from passgate.core.devices.errors import DeviceReason, DeviceRejected
from passgate.core.devices.proof import SCHEME, ProofRequest
from passgate.core.errors import AccessDenied, PassgateError, Throttled
from passgate.core.graph.schema import format_datetime
from passgate.core.text import strict_loads
from passgate.device_api.register import device_key_register_begin, device_key_register_complete
from passgate.device_api.signin import device_signin_begin, device_signin_complete
from passgate.device_api.sync import device_sync
from passgate.devices.models import Device
from passgate.devices.services import device_actor, device_authenticate, device_delete, device_join

MAX_BODY_BYTES = 16 * 1024
_FORBIDDEN = frozenset({DeviceReason.DEVICE_DISABLED, DeviceReason.SIGNIN_OFF, DeviceReason.POLICY_BLOCKED,
                        DeviceReason.USER_MISMATCH, DeviceReason.PASSKEY_NOT_DEVICE_BOUND})
_UNAUTHENTICATED = frozenset({DeviceReason.PROOF_MALFORMED, DeviceReason.PROOF_SIGNATURE,
                              DeviceReason.PROOF_EXPIRED, DeviceReason.PROOF_REPLAYED,
                              DeviceReason.PROOF_WRONG_REQUEST, DeviceReason.DEVICE_UNKNOWN})


def _error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": code, "error_description": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = f'{SCHEME} error="{code}"'
    return response


def _refusal(exc: PassgateError) -> JsonResponse:
    if isinstance(exc, DeviceRejected) and exc.reason in _UNAUTHENTICATED:
        return _error(401, exc.code, exc.message)
    if isinstance(exc, DeviceRejected) and exc.reason in _FORBIDDEN:
        return _error(403, exc.code, exc.message)
    if isinstance(exc, AccessDenied):  # a disabled user, a suspended passkey, the methods policy
        return _error(403, exc.code, exc.message)
    if isinstance(exc, Throttled):  # wrong passes from here or for this user: wait
        response = _error(429, exc.code, exc.message)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, DeviceRejected) and exc.reason is DeviceReason.KEY_ALREADY_JOINED:
        return _error(409, exc.code, exc.message)
    return _error(400, exc.code, exc.message)


def device_json(device: Device) -> dict[str, Any]:
    return {"id": str(device.id), "deviceId": str(device.device_id), "displayName": device.display_name,
            "operatingSystem": device.operating_system, "operatingSystemVersion": device.operating_system_version,
            "trustType": device.trust_type, "accountEnabled": device.account_enabled,
            "registrationDateTime": format_datetime(device.registered_at), "keyThumbprint": device.key_thumbprint}


def _body(request: HttpRequest, reason: DeviceReason = DeviceReason.JOIN_REQUEST_INVALID) -> object:
    if request.content_type != "application/json":  # before the body: a form body may have been read already
        raise DeviceRejected(reason, "Send the body as application/json.")
    if len(request.body) > MAX_BODY_BYTES:
        raise DeviceRejected(reason, f"The body may be at most {MAX_BODY_BYTES} bytes.")
    try:
        return strict_loads(request.body)
    except ValueError as exc:
        raise DeviceRejected(reason, str(exc)) from None


def _authenticated(request: HttpRequest) -> Device:
    proof_request = ProofRequest(audience=settings.PASSGATE.origin, method=request.method or "",
                                 url=settings.PASSGATE.origin + request.get_full_path(), body=request.body)
    return device_authenticate(authorization=str(request.META.get("HTTP_AUTHORIZATION", "")),
                               request=proof_request, context=request_context(request.META))


@csrf_exempt  # no cookie authenticates here: an enrollment token or a device proof does
@require_http_methods(["POST"])
def join(request: HttpRequest) -> JsonResponse:
    try:
        device = device_join(body=_body(request), context=request_context(request.META))
    except PassgateError as exc:
        return _refusal(exc)
    return JsonResponse({**device_json(device), "origin": settings.PASSGATE.origin}, status=201)


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
def this_device(request: HttpRequest) -> JsonResponse:
    """GET: the device's registration as the directory has it. DELETE: the device leaves the directory."""
    try:
        device = _authenticated(request)
        if request.method == "DELETE":
            device_delete(device=device, actor=device_actor(device), context=request_context(request.META))
            return JsonResponse({}, status=200)
    except PassgateError as exc:
        return _refusal(exc)
    return JsonResponse(device_json(device))


def _signed_step(request: HttpRequest, step: Any,
                 reason: DeviceReason = DeviceReason.SIGNIN_REQUEST_INVALID) -> JsonResponse:
    try:
        if request.content_type != "application/json":  # before the proof reads the body
            raise DeviceRejected(reason, "Send the body as application/json.")
        device = _authenticated(request)
        body = _body(request, reason)
        return JsonResponse(step(device=device, body=body, context=request_context(request.META)))
    except PassgateError as exc:
        return _refusal(exc)


@csrf_exempt
@require_http_methods(["POST"])
def signin_begin(request: HttpRequest) -> JsonResponse:
    return _signed_step(request, device_signin_begin)


@csrf_exempt
@require_http_methods(["POST"])
def signin_complete(request: HttpRequest) -> JsonResponse:
    return _signed_step(request, device_signin_complete)


@csrf_exempt
@require_http_methods(["POST"])
def sync(request: HttpRequest) -> JsonResponse:
    return _signed_step(request, device_sync, DeviceReason.SYNC_REQUEST_INVALID)


@csrf_exempt
@require_http_methods(["POST"])
def register_begin(request: HttpRequest) -> JsonResponse:
    return _signed_step(request, device_key_register_begin, DeviceReason.REGISTER_REQUEST_INVALID)


@csrf_exempt
@require_http_methods(["POST"])
def register_complete(request: HttpRequest) -> JsonResponse:
    return _signed_step(request, device_key_register_complete, DeviceReason.REGISTER_REQUEST_INVALID)
