"""Custom authentication strengths and Conditional Access policies, each stored as its Graph JSON document.

The document is what ``passgate.core.access`` writes (``strength_to_graph`` / ``ca_policy_to_graph``) and reads
back (``*_from_document``), so the stored form and the API form are one. Built-in strengths are not stored: they
are constants of the core.
"""

from __future__ import annotations

from django.db import models

from passgate.core.text import ScrubbingJSONDecoder


class StrengthPolicy(models.Model):
    """A custom ``authenticationStrengthPolicy``."""

    id = models.UUIDField(primary_key=True, editable=False)
    display_name = models.CharField(max_length=256)
    name_key = models.CharField(max_length=256, unique=True)  # display_name.casefold(): names are unique
    document = models.JSONField(decoder=ScrubbingJSONDecoder)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["name_key"]

    def __str__(self) -> str:
        return self.display_name


class AccessPolicy(models.Model):
    """A ``conditionalAccessPolicy``."""

    id = models.UUIDField(primary_key=True, editable=False)
    display_name = models.CharField(max_length=256)
    document = models.JSONField(decoder=ScrubbingJSONDecoder)
    created_at = models.DateTimeField()
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.display_name
