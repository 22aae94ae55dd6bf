"""The PAM module for security-key sign-in (``pam_passgate.py``, run by Debian's ``libpam-python``)."""
