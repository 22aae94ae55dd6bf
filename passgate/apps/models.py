"""App registrations (Entra's application + service principal in one row) and the token-signing keys."""

from __future__ import annotations

import uuid

from django.db import models


class AppRegistration(models.Model):
    """A client of the Graph API. Its secret is high-entropy random and stored only as SHA-256."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # the object id
    app_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)  # the client id (Graph: appId)
    display_name = models.CharField(max_length=256)
    permissions = models.JSONField(default=list)  # application permission names, e.g. "User.Read.All"
    secret_sha256 = models.BinaryField(max_length=32)
    secret_hint = models.CharField(max_length=3)  # the first three characters, as Entra's passwordCredential.hint
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=256, blank=True, default="")

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.app_id})"


class SigningKey(models.Model):
    """An ES256 (P-256) key signing access tokens. The PKCS#8 PEM is encrypted under a key derived from the
    secret key, so a database copy alone cannot mint tokens. A retired key still verifies until its tokens expire."""

    kid = models.CharField(max_length=64, unique=True)
    private_key_pem = models.TextField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.kid
