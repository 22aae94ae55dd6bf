"""Audit log: who did what, when, to what, with which result and reason code.

Actor and target are denormalised (id and a readable name) so a row stays meaningful after the
user or passkey it names is deleted. Rows are never updated.
"""

from __future__ import annotations

import uuid

from django.db import models

from passgate.core.text import ScrubbingJSONDecoder


class Category(models.TextChoices):
    SIGN_IN = "signIn", "Sign-in"
    SECURITY_INFO = "securityInfo", "Security info"
    DIRECTORY = "directory", "Directory"
    POLICY = "policy", "Policy"
    SYSTEM = "system", "System"


class Result(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"


class AuditEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    occurred_at = models.DateTimeField(db_index=True)
    category = models.CharField(max_length=32, choices=Category.choices)
    activity = models.CharField(max_length=64)
    result = models.CharField(max_length=16, choices=Result.choices)
    reason = models.CharField(max_length=64, blank=True, default="")
    actor_id = models.UUIDField(null=True, blank=True)
    actor_name = models.CharField(max_length=256, blank=True, default="")
    target_type = models.CharField(max_length=32, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_name = models.CharField(max_length=256, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True, default="")
    details = models.JSONField(decoder=ScrubbingJSONDecoder, default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="")  # the request's id, as in the logs

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["actor_id", "-occurred_at"]), models.Index(fields=["target_id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.activity} {self.result} {self.reason}"


class SignInEvent(models.Model):
    """One attempt to sign in to an app, as Graph's ``signIn`` describes it (``passgate.audit.signins``).

    Denormalised like ``AuditEvent``: names are kept as they were, so a row stays readable after the user or app is
    deleted or renamed. Rows are written once (one INSERT) and never updated. No secret is stored: no pass, code,
    token, assertion or cookie, only what happened and how.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField()
    user_id = models.UUIDField(null=True, blank=True)
    user_principal_name = models.CharField(max_length=256, blank=True, default="")
    upn_normalized = models.CharField(max_length=256, blank=True, default="")  # lower-case, for filters
    user_display_name = models.CharField(max_length=256, blank=True, default="")
    app_id = models.CharField(max_length=64)
    app_display_name = models.CharField(max_length=256, blank=True, default="")
    resource_id = models.CharField(max_length=256, blank=True, default="")
    resource_display_name = models.CharField(max_length=256, blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    correlation_id = models.CharField(max_length=64, blank=True, default="")
    is_interactive = models.BooleanField(default=True)
    error_code = models.IntegerField(default=0)  # 0: success (Graph's status.errorCode)
    failure_reason = models.CharField(max_length=512, blank=True, default="")
    reason_code = models.CharField(max_length=64, blank=True, default="")  # Passgate's reason code
    conditional_access_status = models.CharField(max_length=16, default="notApplied")
    authentication_requirement = models.CharField(max_length=32, default="singleFactorAuthentication")
    authentication_details = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True)
    # {"id", "displayName"} satisfied
    authentication_strength = models.JSONField(decoder=ScrubbingJSONDecoder, null=True, blank=True)
    applied_policies = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True)
    acr = models.CharField(max_length=128, blank=True, default="")
    amr = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True)
    aaguid = models.UUIDField(null=True, blank=True)
    # A sign-in to a joined computer (the device API): the device's Graph deviceId, name and trust type
    device_id = models.CharField(max_length=64, blank=True, default="")
    device_display_name = models.CharField(max_length=256, blank=True, default="")
    device_trust_type = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="signin_created_idx"),
            models.Index(fields=["user_id", "-created_at"], name="signin_user_idx"),
            models.Index(fields=["upn_normalized", "-created_at"], name="signin_upn_idx"),
            models.Index(fields=["app_id", "-created_at"], name="signin_app_idx"),
            models.Index(fields=["error_code", "-created_at"], name="signin_status_idx"),
        ]

    def __str__(self) -> str:
        outcome = "success" if self.succeeded else f"failure {self.error_code}"
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.user_principal_name} -> {self.app_display_name} {outcome}"

    @property
    def succeeded(self) -> bool:
        return self.error_code == 0
