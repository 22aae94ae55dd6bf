"""App registrations (client-credentials clients of the Graph API), their signing keys, and the token service."""
