"""The agent's state directory (``--state-dir``, ``PASSGATE_DEVICE_DIR``, default ``/var/lib/passgate-device``).

Mode 0700, owned by the user the agent runs as. It holds:

- ``device.key``: the device's private key (PEM, PKCS #8, mode 0600, written atomically). The agent refuses to use
  a key file that its group or others may read, or that another user owns.
- ``device.json``: ``{"deviceId", "id", "origin", "displayName", "trustType", "joinedDateTime"}``.
- ``jwks.json``: Passgate's token-signing keys as last synced (to check offline records).
- ``offline/``: the offline records Passgate signed at online sign-ins (one JSON file per credential, 0600:
  ``{"record", "expiresDateTime", "rpId", "user", "posix"}``: the signed record, and what the online sign-in
  answered next to it, so an offline unlock answers the same account).
- ``package.jwt``: the provisioning package applied with ``passgate-device package apply`` (0600).
- ``sync.json``: the security-key setting and its source as Passgate answered at the last sync.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from passgate.agent.errors import AgentError
from passgate.core.devices.errors import DeviceRejected
from passgate.core.devices.keys import public_key_from_jwk

DEFAULT_DIR = "/var/lib/passgate-device"
ENV_DIR = "PASSGATE_DEVICE_DIR"
KEY_FILE = "device.key"
DEVICE_FILE = "device.json"
JWKS_FILE = "jwks.json"
OFFLINE_DIR = "offline"
PACKAGE_FILE = "package.jwt"
SYNC_FILE = "sync.json"


def state_dir(given: str | None) -> Path:
    """The directory from ``--state-dir``, else ``PASSGATE_DEVICE_DIR``, else the default."""
    return Path(given or os.environ.get(ENV_DIR) or DEFAULT_DIR)


@dataclass(frozen=True)
class DeviceRecord:
    """What the agent keeps of its join (``device.json``)."""

    deviceId: str  # the JSON names, as Passgate answers them
    id: str
    origin: str
    displayName: str
    trustType: str
    joinedDateTime: str

    @classmethod
    def from_json(cls, data: object) -> DeviceRecord:
        names = ("deviceId", "id", "origin", "displayName", "trustType", "joinedDateTime")
        if not isinstance(data, dict) or not all(isinstance(data.get(n), str) for n in names):
            raise ValueError("not a device record")
        return cls(**{n: data[n] for n in names})


def write_atomically(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` through a new file of ``mode`` in the same directory, synced, then renamed over
    ``path``: a reader sees the old file or the new one, never half of one, and never a wider mode."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it further; never wider
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class State:
    """The state directory; every method checks modes before it trusts a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def key_path(self) -> Path:
        return self.root / KEY_FILE

    @property
    def device_path(self) -> Path:
        return self.root / DEVICE_FILE

    @property
    def jwks_path(self) -> Path:
        return self.root / JWKS_FILE

    @property
    def offline_path(self) -> Path:
        return self.root / OFFLINE_DIR

    # --- the directory -----------------------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the directory 0700 (its parents as the system makes them) and check it."""
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise AgentError("state_unusable", f"Cannot create the state directory {self.root}: "
                             f"{exc.strerror or exc}.") from None
        self.check_directory()

    def check_directory(self) -> None:
        try:
            info = self.root.lstat()
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(info.st_mode):
            raise AgentError("state_unusable", f"{self.root} is not a directory.")
        if info.st_uid != os.geteuid():
            raise AgentError("state_unusable", f"The state directory {self.root} belongs to uid {info.st_uid}, "
                             f"not to the user the agent runs as (uid {os.geteuid()}).")
        if info.st_mode & 0o077:
            os.chmod(self.root, 0o700)  # ours: narrow it rather than leave the key's directory open

    def joined(self) -> bool:
        return self.device_path.exists()

    # --- the device key ----------------------------------------------------------------------------------

    def new_key(self) -> ec.EllipticCurvePrivateKey:
        """Make the device's key pair (P-256) and write the private key, 0600; refuse to overwrite one."""
        if self.key_path.exists():
            raise AgentError("already_joined", f"A device key already exists at {self.key_path}: this computer "
                             "is joined, or a join was interrupted (passgate-device leave --local-only removes it).")
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        write_atomically(self.key_path, pem, 0o600)
        return key

    def load_key(self) -> ec.EllipticCurvePrivateKey:
        path = self.key_path
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise AgentError("not_joined", "This computer is not joined to Passgate (no device key): run "
                             "passgate-device join.") from None
        except OSError as exc:
            raise AgentError("state_unusable", f"Cannot read the device key {path}: {exc.strerror or exc}.") from None
        try:
            info = os.fstat(fd)
            if info.st_mode & 0o077:
                raise AgentError("key_file_exposed", f"The device key {path} may be read by its group or others "
                                 f"(mode {stat.S_IMODE(info.st_mode):04o}): refusing to use it. Anyone who read it "
                                 "can act as this device: leave and join again, or at least chmod 600 it.")
            if info.st_uid != os.geteuid():
                raise AgentError("key_file_exposed", f"The device key {path} belongs to uid {info.st_uid}, not to "
                                 f"the user the agent runs as (uid {os.geteuid()}): refusing to use it.")
            with os.fdopen(os.dup(fd), "rb") as handle:
                pem = handle.read()
        finally:
            os.close(fd)
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except ValueError:
            raise AgentError("state_unusable", f"The device key {path} is not a PEM private key.") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise AgentError("state_unusable", f"The device key {path} is not a P-256 key.")
        return key

    # --- device.json, jwks.json, offline records --------------------------------------------------------

    def save_device(self, record: DeviceRecord) -> None:
        write_atomically(self.device_path, (json.dumps(asdict(record), indent=2) + "\n").encode(), 0o600)

    def load_device(self) -> DeviceRecord:
        try:
            data = json.loads(self.device_path.read_bytes())
            return DeviceRecord.from_json(data)
        except FileNotFoundError:
            raise AgentError("not_joined", "This computer is not joined to Passgate: run passgate-device join.") \
                from None
        except (ValueError, UnicodeDecodeError):
            raise AgentError("state_unusable", f"{self.device_path} is damaged: passgate-device leave "
                             "--local-only, then join again.") from None

    def save_jwks(self, jwks: object) -> None:
        write_atomically(self.jwks_path, (json.dumps(jwks, indent=2) + "\n").encode(), 0o600)

    def load_jwks(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.jwks_path.read_bytes())
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def jwks_keys(self) -> dict[str, ec.EllipticCurvePublicKey]:
        """The cached JWKS's P-256 keys by kid (the ones offline records and packages are signed with)."""
        found: dict[str, ec.EllipticCurvePublicKey] = {}
        for jwk in (self.load_jwks() or {}).get("keys") or []:
            if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str) or jwk.get("kty") != "EC":
                continue
            try:
                found[jwk["kid"]] = public_key_from_jwk(jwk)
            except DeviceRejected:
                continue
        return found

    @property
    def package_path(self) -> Path:
        return self.root / PACKAGE_FILE

    def save_package(self, text: str) -> None:
        write_atomically(self.package_path, (text.strip() + "\n").encode(), 0o600)

    def load_package(self) -> str | None:
        try:
            return self.package_path.read_text(encoding="utf-8").strip() or None
        except (FileNotFoundError, UnicodeDecodeError):
            return None

    def remove_package(self) -> bool:
        existed = self.package_path.exists()
        self.package_path.unlink(missing_ok=True)
        return existed

    def save_sync(self, data: object) -> None:
        write_atomically(self.root / SYNC_FILE, (json.dumps(data, indent=2) + "\n").encode(), 0o600)

    def load_sync(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.root / SYNC_FILE).read_bytes())
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None

    def save_offline(self, credential_id: str, record: object) -> None:
        """Keep an offline record under its credential id (base64url, so a safe file name)."""
        if not credential_id or any(c not in _B64URL for c in credential_id):
            raise AgentError("state_unusable", "An offline record needs a base64url credential id.")
        self.offline_path.mkdir(mode=0o700, exist_ok=True)
        write_atomically(self.offline_path / f"{credential_id}.json", json.dumps(record).encode(), 0o600)

    def offline_ids(self) -> list[str]:
        if not self.offline_path.is_dir():
            return []
        return sorted(p.stem for p in self.offline_path.glob("*.json"))

    def offline_entries(self) -> list[tuple[str, dict[str, Any]]]:
        """Every kept offline record, readable or not (a damaged file reads as ``{}``)."""
        found = []
        for credential_id in self.offline_ids():
            try:
                data = json.loads((self.offline_path / f"{credential_id}.json").read_bytes())
            except (OSError, ValueError, UnicodeDecodeError):
                data = {}
            found.append((credential_id, data if isinstance(data, dict) else {}))
        return found

    def drop_offline(self, credential_id: str) -> None:
        if credential_id and all(c in _B64URL for c in credential_id):
            (self.offline_path / f"{credential_id}.json").unlink(missing_ok=True)

    def remove(self) -> None:
        """Forget the join: the key, the record, the JWKS and every offline record (the directory stays)."""
        for path in (self.key_path, self.device_path, self.jwks_path, self.package_path, self.root / SYNC_FILE):
            path.unlink(missing_ok=True)
        if self.offline_path.is_dir():
            shutil.rmtree(self.offline_path)


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
