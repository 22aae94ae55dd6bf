"""``passgate check``: is this configuration fit to serve? Each problem is one line on stdout; exit 0 when there is
none, 1 otherwise. It changes nothing: no migration, no key, no secret-key file is created.

Checked: the PASSGATE_* variables (as ``serve`` reads them; a bad one is the only line, since nothing else can be
read without them), the secret key (present, not trivially guessable, its file readable by the owner only), the
data directory (a writable directory), the public origin and the WebAuthn RP ID (set, a registrable domain, no
debug mode on a public origin, a TLS proxy named for an https origin), the metrics token (not the secret key), the
database (reachable, every migration applied), the token-signing keys (present, usable with this secret key) and,
where the policy needs it, the FIDO metadata (``passgate.web.health``).

Imported before Django is set up (``passgate.cli.main``): Django and Passgate's apps are imported inside ``run``.
"""

from __future__ import annotations

import ipaddress
import math
import os
import secrets
import stat
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

from passgate.config.env import ConfigError, PassgateSettings, data_dir_of, load

MIN_SECRET_BITS = 128  # estimated: length x log2(distinct characters)
MIN_DISTINCT = 10
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def secret_key_problems(key: str, path: Path | None) -> list[str]:
    """The secret key's problems (``path``: the file it was read from, if any)."""
    found = []
    distinct = len(set(key))
    if distinct < MIN_DISTINCT or len(key) * math.log2(max(distinct, 2)) < MIN_SECRET_BITS:
        found.append(f"secret key: too easy to guess ({len(key)} characters, {distinct} distinct); use "
                     "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'")
    if path is not None and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        found.append(f"secret key: {path} is readable by others (mode {stat.S_IMODE(path.stat().st_mode):o}); "
                     f"chmod 600 {path}")
    return found


def data_dir_problems(data_dir: Path) -> list[str]:
    if not data_dir.exists():
        return [f"data directory: {data_dir} does not exist (PASSGATE_DATA_DIR)"]
    if not data_dir.is_dir():
        return [f"data directory: {data_dir} is not a directory (PASSGATE_DATA_DIR)"]
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".passgate-check-"):
            pass
    except OSError as exc:
        return [f"data directory: {data_dir} is not writable ({exc.strerror})"]
    return []


def origin_problems(settings: PassgateSettings, env: MutableMapping[str, str]) -> list[str]:
    found = []
    if not env.get("PASSGATE_ORIGIN"):
        found.append(f"PASSGATE_ORIGIN: not set, so {settings.origin} (this machine only); set the public origin, "
                     "e.g. https://id.example.com")
    rp_id = settings.rp_id
    try:
        address = ipaddress.ip_address(rp_id.strip("[]"))
    except ValueError:
        address = None
    if address is not None and not address.is_loopback:
        found.append(f"PASSGATE_RP_ID: {rp_id!r} is an IP address; WebAuthn needs a domain name")
    elif address is None and rp_id != "localhost" and "." not in rp_id:
        found.append(f"PASSGATE_RP_ID: {rp_id!r} is a top-level domain; browsers refuse it as an RP ID")
    public = [o for o in settings.origins if (o.split("://", 1)[1].rsplit(":", 1)[0]) not in LOCAL_HOSTS]
    if settings.origin.startswith("https://") and not settings.trusted_proxies:
        found.append("PASSGATE_TRUSTED_PROXIES: not set, but the origin is https and passgate serve speaks plain "
                     "HTTP: name the TLS proxy's address (e.g. 127.0.0.1/32), or requests look like http and every "
                     "sign-in is logged from the proxy's address")
    if settings.debug and public:
        found.append(f"PASSGATE_DEBUG: on for the public origin {public[0]}; turn it off in production")
    if settings.metrics_token is not None and secrets.compare_digest(settings.metrics_token.encode(),
                                                                     settings.secret_key.encode()):
        found.append("PASSGATE_METRICS_TOKEN: is the secret key; give /metrics a token of its own")
    return found


def database_problems(*, secret_key_known: bool) -> list[str]:
    """Needs Django set up."""
    from django.db import DatabaseError, connection

    from passgate.web import health

    if connection.vendor == "sqlite" and not Path(str(connection.settings_dict["NAME"])).is_file():
        return [f"database: {connection.settings_dict['NAME']} does not exist; run passgate migrate"]
    try:
        connection.ensure_connection()
        missing = health.unapplied_migrations()
    except DatabaseError as exc:
        said = str(exc).strip()
        return [f"database: unreachable: {said.splitlines()[0] if said else type(exc).__name__}"]
    if missing:
        return [f"database: {len(missing)} unapplied migration(s), e.g. {missing[0]}; run passgate migrate"]
    checks = [health.check_signing_keys()] if secret_key_known else []
    checks.append(health.check_mds())
    return [f"{c.name.replace('_', ' ')}: {c.detail}" for c in checks if not c.ok and c.fatal]


def run(env: MutableMapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    problems: list[str] = []
    data_dir = data_dir_of(env)
    key_file = data_dir / "secret_key"
    secret_key_known = bool(env.get("PASSGATE_SECRET_KEY")) or key_file.is_file()
    if not secret_key_known:
        problems.append(f"secret key: none yet ({key_file} would be generated at the first start); on several "
                        "nodes set PASSGATE_SECRET_KEY, the same on each")
        env["PASSGATE_SECRET_KEY"] = secrets.token_urlsafe(48)  # this process only: so that nothing is written
    try:
        settings = load(env)
    except ConfigError as exc:
        print(f"configuration: {exc}")
        return 1
    if secret_key_known:
        problems += secret_key_problems(settings.secret_key,
                                        None if env.get("PASSGATE_SECRET_KEY") else key_file)
    problems += data_dir_problems(settings.data_dir)
    problems += origin_problems(settings, env)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passgate.config.settings")
    import django

    django.setup()
    problems += database_problems(secret_key_known=secret_key_known)
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"passgate check: all is well (origin {settings.origin}, RP ID {settings.rp_id})")
    return 0
