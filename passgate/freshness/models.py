from __future__ import annotations

from django.db import models


class Generation(models.Model):
    """The configuration's generation: one row (id 1). Database triggers add one to ``value`` on every insert,
    update, delete (and PostgreSQL TRUNCATE) of the tables in :data:`passgate.freshness.generation.WATCHED`, in the
    writing transaction, so no write path can forget it. ``epoch`` is new whenever the row is (re)created, so a
    flushed and refilled database never meets a cache filled before."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    epoch = models.CharField(max_length=32)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"configuration generation {self.epoch[:8]}/{self.value}"
