"""Directory: users (immutable GUID id, changeable UPN), security groups, directory role assignments."""

from __future__ import annotations

import secrets
import uuid
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models


def new_user_handle() -> bytes:
    """WebAuthn user handle: 32 random bytes, opaque, never derived from the UPN or an email."""
    return secrets.token_bytes(32)


class UserManager(BaseUserManager["User"]):
    def create_user(self, user_principal_name: str, display_name: str) -> User:  # used by Django tooling only
        user = self.model(user_principal_name=user_principal_name, display_name=display_name)
        user.set_unusable_password()
        user.save()
        return user


class User(AbstractBaseUser):
    """A person in the directory. There are no passwords: ``password`` is always unusable."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_principal_name = models.CharField(max_length=113)
    upn_normalized = models.CharField(max_length=113, unique=True, editable=False)
    display_name = models.CharField(max_length=256)
    mail_nickname = models.CharField(max_length=64, blank=True, default="")
    account_enabled = models.BooleanField(default=True)
    webauthn_user_handle = models.BinaryField(max_length=64, unique=True, default=new_user_handle, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Graph's signInSessionsValidFromDateTime: every session, and every app authorization, signed in at or before
    # this moment has ended (core.sessions.revoked). Set by revoking sign-in sessions, and by disabling the account.
    sign_in_sessions_valid_from = models.DateTimeField(null=True, blank=True)
    # The uid (and gid) of the person's local account on joined computers (core.devices.posix): assigned at the
    # first device sign-in, never reused.
    posix_uid = models.PositiveIntegerField(null=True, blank=True, unique=True, editable=False)
    # When the person last answered "Not now" to adding a second passkey (core.redundancy.nudge_due)
    redundancy_nudge_dismissed_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "user_principal_name"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]
    objects = UserManager()

    class Meta:
        ordering = ["upn_normalized"]

    def __str__(self) -> str:
        return self.user_principal_name

    def save(self, *args: object, **kwargs: object) -> None:
        self.upn_normalized = self.user_principal_name.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.account_enabled


class SecurityGroup(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=256)
    name_normalized = models.CharField(max_length=256, unique=True, editable=False)
    description = models.CharField(max_length=1024, blank=True, default="")
    mail_nickname = models.CharField(max_length=64, blank=True, default="")
    members = models.ManyToManyField(User, through="GroupMembership", related_name="security_groups")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name_normalized"]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_normalized = self.display_name.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class GroupMembership(models.Model):
    group = models.ForeignKey(SecurityGroup, on_delete=models.CASCADE)
    user = models.ForeignKey(User, on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="unique_group_member")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class DirectoryRole(models.TextChoices):
    """Built-in directory roles, keyed by Entra ID's role template ids."""

    GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10", "Global Administrator"
    AUTHENTICATION_POLICY_ADMINISTRATOR = "0526716b-113d-4c15-b2c8-68e3c22b9f80", "Authentication Policy Administrator"
    AUTHENTICATION_ADMINISTRATOR = "c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator"
    USER_ADMINISTRATOR = "fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"
    GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"
    CONDITIONAL_ACCESS_ADMINISTRATOR = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator"
    APPLICATION_ADMINISTRATOR = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator"
    CLOUD_APPLICATION_ADMINISTRATOR = "158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator"
    PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator"


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=36, choices=DirectoryRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_role_assignment")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.get_role_display()}"
