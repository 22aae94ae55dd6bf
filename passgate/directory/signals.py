"""What the directory tells the apps that depend on it, without importing them (the layers go the other way)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after the commit that moved a person's signInSessionsValidFromDateTime (revokeSignInSessions, or the account
# disabled): every session and app authorization of theirs ended. Arguments: user, reason, context.
sign_in_sessions_revoked = Signal()
