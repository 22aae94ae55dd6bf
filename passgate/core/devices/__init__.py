"""Computers joined to the directory, and how they prove who they are (pure: no Django, no clock, no I/O).

- ``enrollment``: the one-time (or N-time) device enrollment token an administrator issues to join a computer.
- ``keys``: the device's own key pair (ES256 on P-256; the private key never leaves the device), its public JWK and
  thumbprint (RFC 7638).
- ``proof``: the signed proof a joined device sends with every request to Passgate's device API (a compact JWS
  bound to the method, the URL, the body and a single-use id), and its verification.
- ``join``: reading a join request.
- ``signin``, ``offline``, ``posix``: security-key sign-in to a device, offline records, local accounts.
- ``configuration``, ``signin_setting``, ``impact``: device configuration profiles and the enrollment
  setting, whether security-key sign-in is on for a device (and why), and which devices a change would switch.

docs/devices.md describes the protocol and its threat model.
"""
