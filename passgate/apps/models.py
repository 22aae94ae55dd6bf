"""App registrations (Entra's application + service principal in one row), the token-signing keys, and what the
OpenID Connect provider issues: authorization codes and tokens, grouped per authorization (``OidcGrant``)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from passgate.core.text import ScrubbingJSONDecoder


class AppRegistration(models.Model):
    """A client of the Graph API (application permissions) and/or an OpenID Connect relying party (redirect URIs).

    Its secret is high-entropy random and stored only as SHA-256; public clients and ``private_key_jwt`` clients
    without Graph permissions have none (an empty digest, which no secret matches). An app has at most one secret
    (Entra allows several passwordCredentials; a new one here replaces the old).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # the object id
    app_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)  # the client id (Graph: appId)
    display_name = models.CharField(max_length=256)
    # application permission names, e.g. "User.Read.All"
    permissions = models.JSONField(decoder=ScrubbingJSONDecoder, default=list)
    secret_sha256 = models.BinaryField(max_length=32)
    secret_hint = models.CharField(max_length=3)  # the first three characters, as Entra's passwordCredential.hint
    # The one secret's Graph passwordCredential: keyId, displayName, startDateTime (null when there is no secret)
    secret_key_id = models.UUIDField(null=True, blank=True)
    secret_display_name = models.CharField(max_length=256, blank=True, default="")
    secret_created_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=256, blank=True, default="")
    # OpenID Connect (an app with no redirect URI is not an OpenID Connect client)
    redirect_uris = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True)  # exact strings
    post_logout_redirect_uris = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True)
    client_type = models.CharField(max_length=16, default="confidential")  # core.oidc.ClientType
    token_endpoint_auth_method = models.CharField(max_length=32, default="client_secret_basic")
    # the client's public keys, for private_key_jwt
    jwks = models.JSONField(decoder=ScrubbingJSONDecoder, null=True, blank=True)
    allowed_scopes = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True)
    id_token_signed_response_alg = models.CharField(max_length=8, default="ES256")
    # PKCE from this confidential client at every authorization request (public clients always): core.oidc
    require_pkce = models.BooleanField(default=False)
    # OpenID Back-Channel Logout 1.0: where Passgate POSTs a logout token when a session the app got tokens from
    # ends ("" when the app has none)
    backchannel_logout_uri = models.CharField(max_length=2000, blank=True, default="", db_default="")
    # An API the app exposes (Graph: identifierUris, api.oauth2PermissionScopes): the URIs that name it, kept in
    # order here and, for uniqueness across apps and look-up, as ``AppIdentifierUri`` rows; the permission scopes as
    # Graph's permissionScope objects (core.app_api). Clients ask for "<identifierUri>/<scope value>".
    identifier_uris = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True, db_default=[])
    api_scopes = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True, db_default=[])
    # The app's roles (Graph: appRoles) as Graph's appRole objects (core.app_roles); who holds them:
    # ``AppRoleAssignment``. Tokens for the app carry the holder's enabled role values (the ``roles`` claim).
    app_roles = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True, db_default=[])
    # RFC 8628: the app may use the device authorization grant (command-line tools, devices without a browser)
    allow_device_code = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.app_id})"

    @property
    def is_oidc_client(self) -> bool:
        return bool(self.redirect_uris)

    @property
    def has_secret(self) -> bool:
        return len(bytes(self.secret_sha256)) == 32


class AppIdentifierUri(models.Model):
    """One of an app's identifier URIs: unique across apps (Entra's rule), and how a requested scope finds its API."""

    uri = models.CharField(max_length=2000, unique=True)
    app = models.ForeignKey(AppRegistration, on_delete=models.CASCADE, related_name="identifier_uri_rows")

    def __str__(self) -> str:
        return self.uri


class AppRoleAssignment(models.Model):
    """One of an app's roles given to a user or to a security group (Graph's appRoleAssignment; the app is its
    resource: Passgate has no separate service principals). Exactly one of ``user`` and ``group`` is set."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(AppRegistration, on_delete=models.CASCADE, related_name="role_assignments")
    app_role_id = models.UUIDField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="app_role_assignments")
    group = models.ForeignKey("directory.SecurityGroup", on_delete=models.CASCADE, null=True, blank=True,
                              related_name="app_role_assignments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=(models.Q(user__isnull=False, group__isnull=True)
                                              | models.Q(user__isnull=True, group__isnull=False)),
                                   name="app_role_assignment_one_principal"),
            models.UniqueConstraint(fields=["app", "app_role_id", "user"], condition=models.Q(user__isnull=False),
                                    name="app_role_assignment_unique_user"),
            models.UniqueConstraint(fields=["app", "app_role_id", "group"], condition=models.Q(group__isnull=False),
                                    name="app_role_assignment_unique_group"),
        ]

    def __str__(self) -> str:
        return f"{self.app_role_id} of {self.app_id}"


class SigningKey(models.Model):
    """An ES256 (P-256) or RS256 (RSA 2048) key signing tokens. The PKCS#8 PEM is encrypted under a key derived from
    the secret key, so a database copy alone cannot mint tokens. A retired key still verifies, and is published,
    until every token it signed has expired; its row stays (id_token_hint of any age is still checked with it)."""

    kid = models.CharField(max_length=64, unique=True)
    alg = models.CharField(max_length=8, default="ES256")
    private_key_pem = models.TextField()
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.kid


class OidcGrant(models.Model):
    """One authorization: the code and every token issued from it (one refresh-token family).

    Revoking the grant ends them all at once (a replayed code, a reused refresh token). ``sid`` is the browser
    session's OpenID Connect session id, so a logout finds what that session gave out.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(AppRegistration, on_delete=models.CASCADE, related_name="oidc_grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_grants")
    scope = models.CharField(max_length=2000)  # the OpenID Connect scopes, and an API's "<identifierUri>/<value>"
    sid = models.CharField(max_length=64, db_index=True)
    auth_time = models.DateTimeField()
    acr = models.CharField(max_length=64, blank=True, default="")
    amr = models.JSONField(decoder=ScrubbingJSONDecoder, default=list, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()  # the absolute end of its refresh tokens
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"OIDC grant {self.id} ({self.app_id} for {self.user_id})"


class AuthorizationCode(models.Model):
    """An authorization code: stored as SHA-256, single use (``used_at`` set by one conditional UPDATE), short-lived,
    bound to its client, redirect URI and PKCE challenge."""

    code_sha256 = models.BinaryField(max_length=32, unique=True)
    grant = models.OneToOneField(OidcGrant, on_delete=models.CASCADE, related_name="code")
    redirect_uri = models.TextField()
    nonce = models.TextField(blank=True, default="")
    code_challenge = models.CharField(max_length=128)
    code_challenge_method = models.CharField(max_length=8)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"authorization code {self.pk}"


class OidcToken(models.Model):
    """An access or refresh token, stored as SHA-256. A refresh token is used once (rotation).

    An access token for an API (RFC 9068 JWT) names its ``resource`` app, the ``audience`` it was issued for and
    the API's scope values it carries (``scp``); an opaque one (for UserInfo) has none of them.
    """

    class Kind(models.TextChoices):
        ACCESS = "access"
        REFRESH = "refresh"

    token_sha256 = models.BinaryField(max_length=32, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    grant = models.ForeignKey(OidcGrant, on_delete=models.CASCADE, related_name="tokens")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)  # refresh tokens: rotated
    revoked_at = models.DateTimeField(null=True, blank=True)
    resource = models.ForeignKey(AppRegistration, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    audience = models.CharField(max_length=2000, blank=True, default="", db_default="")
    api_scope = models.CharField(max_length=2000, blank=True, default="", db_default="")

    def __str__(self) -> str:
        return f"{self.kind} token {self.pk}"


class DeviceAuthorization(models.Model):
    """An RFC 8628 device authorization: the device code (SHA-256 only) the client polls with, the user code
    (SHA-256 of its normalised form) the person types on the verification page, and what they decided.

    Approval makes the grant (the person, ``auth_time``, ``acr``, ``amr``, ``sid``); the first poll after it takes
    the tokens, by one conditional UPDATE of ``used_at`` (single use). ``interval`` grows by 5 s at each
    ``slow_down`` (§3.5)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DENIED = "denied"

    device_code_sha256 = models.BinaryField(max_length=32, unique=True)
    user_code_sha256 = models.BinaryField(max_length=32, unique=True)
    app = models.ForeignKey(AppRegistration, on_delete=models.CASCADE, related_name="device_authorizations")
    scope = models.CharField(max_length=256)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    interval = models.PositiveIntegerField(default=5)  # seconds between polls
    last_polled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    grant = models.OneToOneField(OidcGrant, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="device_authorization")
    used_at = models.DateTimeField(null=True, blank=True)  # the tokens were issued

    def __str__(self) -> str:
        return f"device authorization {self.pk}"


class ClientAssertionJti(models.Model):
    """The ``jti`` of a private_key_jwt client assertion (RFC 7523 §3), kept until the assertion expires: single use."""

    app = models.ForeignKey(AppRegistration, on_delete=models.CASCADE, related_name="+")
    jti_sha256 = models.BinaryField(max_length=32)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "jti_sha256"], name="apps_assertion_jti_once")]

    def __str__(self) -> str:
        return f"client assertion {self.pk}"
