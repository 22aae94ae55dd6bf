"""FIDO Metadata Service BLOBs accepted over time. The one in force is the highest serial number; older ones
stay as history. Rows are never updated."""

from __future__ import annotations

from django.db import models


class MetadataBlob(models.Model):
    no = models.PositiveIntegerField(unique=True)  # the BLOB's serial number: no rollback, no duplicates
    next_update = models.DateField()
    sha256 = models.CharField(max_length=64)
    blob = models.BinaryField()  # the JWS as received, re-verified (at its import time) when loaded
    entries = models.PositiveIntegerField()
    legal_header = models.TextField(blank=True, default="")
    imported_at = models.DateTimeField()
    imported_by = models.CharField(max_length=256)
    source = models.CharField(max_length=512)  # a file name or URL

    class Meta:
        ordering = ["-no"]

    def __str__(self) -> str:
        return f"MDS3 BLOB no={self.no} (next update {self.next_update})"
