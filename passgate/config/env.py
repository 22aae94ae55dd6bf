"""Typed Passgate settings, read once from environment variables.

Every variable is validated here; a bad value stops start-up with one clear line naming the variable.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from passgate.core.errors import InvalidInput
from passgate.core.net import IPNetwork, parse_networks


class ConfigError(Exception):
    """A configuration value is invalid. The message names the variable and what is wrong."""


@dataclass(frozen=True)
class PassgateSettings:
    data_dir: Path
    database_url: str
    origin: str
    rp_id: str
    rp_name: str
    extra_origins: tuple[str, ...]
    secret_key: str
    debug: bool
    session_idle_minutes: int
    session_max_hours: int
    redis_url: str | None
    mds_root: Path | None = None
    trusted_proxies: tuple[IPNetwork, ...] = ()  # peers whose X-Forwarded-For / Forwarded headers are believed
    device_offline_days: int = 7  # how long a device may unlock offline after an online security-key sign-in
    mds_grace_days: int = 7  # how long past its nextUpdate a FIDO metadata BLOB still counts as fresh (/readyz)
    metrics_token: str | None = None  # the Bearer token /metrics answers to; None: no /metrics at all

    @property
    def origins(self) -> tuple[str, ...]:
        return (self.origin, *self.extra_origins)

    @property
    def secure_cookies(self) -> bool:
        return self.origin.startswith("https://")

    @property
    def cookie_prefix(self) -> str:
        """``__Host-`` on an https origin: the browser then keeps the cookie only if it is Secure, has Path=/ and no
        Domain, so neither a sibling sub-domain nor anyone on plain http can plant or overwrite it (cookie tossing,
        which HSTS on Passgate's own host does not stop)."""
        return "__Host-" if self.secure_cookies else ""

    @property
    def allowed_hosts(self) -> list[str]:
        hosts = {urlsplit(o).hostname or "" for o in self.origins}
        if "localhost" in hosts:  # the same machine by address, e.g. for health checks
            hosts |= {"127.0.0.1", "[::1]"}
        return sorted(h for h in hosts if h)


def _origin(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: {value!r} is not an origin like https://id.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"{name}: {value!r} must be an origin only (scheme, host, optional port)")
    if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise ConfigError(f"{name}: {value!r} uses http; WebAuthn needs https except on localhost")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{name}: {value!r} has an invalid port") from exc
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets in an origin
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {raw!r} is not a whole number") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} is outside {low}..{high}")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}: {raw!r} is not a boolean (true/false)")


def _trusted_proxies(env: Mapping[str, str]) -> tuple[IPNetwork, ...]:
    try:
        return parse_networks(env.get("PASSGATE_TRUSTED_PROXIES") or "")
    except InvalidInput as exc:
        raise ConfigError(f"PASSGATE_TRUSTED_PROXIES: {exc.message}") from None


def _rp_id_valid_for(rp_id: str, origin: str) -> bool:
    host = urlsplit(origin).hostname or ""
    return host == rp_id or host.endswith("." + rp_id)


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    given = env.get("PASSGATE_SECRET_KEY")
    if given:
        if len(given) < 32:
            raise ConfigError("PASSGATE_SECRET_KEY: must be at least 32 characters")
        return given
    path = data_dir / "secret_key"
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if len(key) < 32:
            raise ConfigError(f"{path}: the stored secret key is too short; delete it to generate a new one")
        return key
    key = secrets.token_urlsafe(48)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    GENERATED_SECRET_KEYS.add(path)
    return key


# Secret-key files this process created (a first start): ``passgate restore`` may replace such a file with the
# backup's key, never one that was there before it ran.
GENERATED_SECRET_KEYS: set[Path] = set()


MIN_METRICS_TOKEN = 32  # characters


def _metrics_token(env: Mapping[str, str]) -> str | None:
    token = (env.get("PASSGATE_METRICS_TOKEN") or "").strip()
    if not token:
        return None
    if len(token) < MIN_METRICS_TOKEN:
        raise ConfigError(f"PASSGATE_METRICS_TOKEN: must be at least {MIN_METRICS_TOKEN} characters "
                          "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ConfigError("PASSGATE_METRICS_TOKEN: use printable ASCII without spaces (it travels in a header)")
    return token


def data_dir_of(env: Mapping[str, str]) -> Path:
    """The data directory ``load`` uses (PASSGATE_DATA_DIR, default ./data), without reading anything else."""
    return Path(env.get("PASSGATE_DATA_DIR") or "./data").expanduser().resolve()


def load(env: Mapping[str, str] | None = None) -> PassgateSettings:
    env = os.environ if env is None else env
    data_dir = data_dir_of(env)
    origin = _origin("PASSGATE_ORIGIN", env.get("PASSGATE_ORIGIN") or "http://localhost:8000")
    extra = tuple(
        _origin("PASSGATE_EXTRA_ORIGINS", o.strip())
        for o in (env.get("PASSGATE_EXTRA_ORIGINS") or "").split(",")
        if o.strip()
    )
    rp_id = (env.get("PASSGATE_RP_ID") or urlsplit(origin).hostname or "").lower()
    for o in (origin, *extra):
        if not _rp_id_valid_for(rp_id, o):
            raise ConfigError(f"PASSGATE_RP_ID: {rp_id!r} is not {o}'s host nor a parent domain of it")
    database_url = env.get("PASSGATE_DATABASE_URL") or f"sqlite:///{data_dir / 'passgate.sqlite3'}"
    if not database_url.startswith(("sqlite:", "postgres:", "postgresql:")):
        raise ConfigError("PASSGATE_DATABASE_URL: only sqlite:/// and postgresql:// URLs are supported")
    redis_url = env.get("PASSGATE_REDIS_URL") or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("PASSGATE_REDIS_URL: must be a redis:// or rediss:// URL")
    if "PASSGATE_REFUSE_REVOKED_MODELS" in env:
        raise ConfigError("PASSGATE_REFUSE_REVOKED_MODELS: no longer read; refusing flagged passkeys at sign-in is a "
                          "tenant setting now (admin centre: Reports, Untrusted models), so unset it")
    mds_root_raw = env.get("PASSGATE_MDS_ROOT") or ""
    mds_root = Path(mds_root_raw).expanduser().resolve() if mds_root_raw else None
    if mds_root is not None and not mds_root.is_file():
        raise ConfigError(f"PASSGATE_MDS_ROOT: {mds_root} is not a file (a DER or PEM root certificate)")
    return PassgateSettings(
        data_dir=data_dir,
        database_url=database_url,
        origin=origin,
        rp_id=rp_id,
        rp_name=(env.get("PASSGATE_RP_NAME") or "Passgate").strip()[:64] or "Passgate",
        extra_origins=extra,
        secret_key=_secret_key(env, data_dir),
        debug=_bool(env, "PASSGATE_DEBUG"),
        session_idle_minutes=_int(env, "PASSGATE_SESSION_IDLE_MINUTES", 60, 1, 24 * 60),
        session_max_hours=_int(env, "PASSGATE_SESSION_MAX_HOURS", 12, 1, 24 * 7),
        device_offline_days=_int(env, "PASSGATE_DEVICE_OFFLINE_DAYS", 7, 1, 30),
        mds_grace_days=_int(env, "PASSGATE_MDS_GRACE_DAYS", 7, 0, 365),
        metrics_token=_metrics_token(env),
        redis_url=redis_url,
        mds_root=mds_root,
        trusted_proxies=_trusted_proxies(env),
    )
