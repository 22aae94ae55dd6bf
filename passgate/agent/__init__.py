"""``passgate-device``: the agent on a joined computer (docs/devices.md).

- ``state``: the state directory (device key, ``device.json``, cached JWKS, offline records) and its file modes.
- ``client``: the HTTP client for ``/device/v1/…``, every request signed with a device proof.
- ``securitykeys``: FIDO2 security keys through python-fido2 (the ``KeyProvider`` seam), their management.
- ``signin``: the client side of security-key sign-in (CTAP2 getAssertion with user verification, the prompts).
- ``daemon``: the Unix-socket daemon a PAM module talks to (JSON lines, peer credentials checked).
- ``cli``: ``passgate-device join|status|sync|leave|daemon|key …``.

No Django and no Django app of Passgate here (an import-linter contract says so): the agent is a client of
Passgate that shares only ``passgate.core``.
"""
