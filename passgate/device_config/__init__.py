"""Device configuration: custom configuration profiles, their assignments and the enrollment setting (ADR 0007)."""
