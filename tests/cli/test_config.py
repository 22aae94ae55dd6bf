"""passgate.config.env.load(): every bad value stops start-up with an error naming the variable."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from passgate.config.env import ConfigError, load

GOOD_SECRET = "s" * 40


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PASSGATE_DATA_DIR": str(tmp_path), "PASSGATE_ORIGIN": "https://id.contoso.com",
            "PASSGATE_SECRET_KEY": GOOD_SECRET}


def refused(env: dict[str, str], **changes: str) -> str:
    with pytest.raises(ConfigError) as info:
        load({**env, **changes})
    return str(info.value)


@pytest.mark.parametrize(("variable", "value"), [
    ("PASSGATE_ORIGIN", "http://id.contoso.com"),  # http only on localhost
    ("PASSGATE_ORIGIN", "http://10.0.0.5:8000"),
    ("PASSGATE_ORIGIN", "https://id.contoso.com/passgate"),  # a path
    ("PASSGATE_ORIGIN", "https://id.contoso.com/?x=1"),
    ("PASSGATE_ORIGIN", "https://id.contoso.com/#top"),
    ("PASSGATE_ORIGIN", "https://user@id.contoso.com"),
    ("PASSGATE_ORIGIN", "id.contoso.com"),
    ("PASSGATE_ORIGIN", "ftp://id.contoso.com"),
    ("PASSGATE_ORIGIN", "https://id.contoso.com:99999"),
    ("PASSGATE_EXTRA_ORIGINS", "https://id.contoso.com,http://app.contoso.com"),
    ("PASSGATE_RP_ID", "fabrikam.com"),  # not the origin's host nor a parent of it
    ("PASSGATE_RP_ID", "toso.com"),  # a suffix, but not at a label boundary
    ("PASSGATE_RP_ID", "sub.id.contoso.com"),  # a child, not a parent
    ("PASSGATE_SESSION_IDLE_MINUTES", "ten"),
    ("PASSGATE_SESSION_IDLE_MINUTES", "1.5"),
    ("PASSGATE_SESSION_IDLE_MINUTES", "0"),
    ("PASSGATE_SESSION_MAX_HOURS", "1000"),
    ("PASSGATE_SECRET_KEY", "too-short"),
    ("PASSGATE_DEBUG", "maybe"),
    ("PASSGATE_DATABASE_URL", "mysql://root@db/passgate"),
    ("PASSGATE_REDIS_URL", "http://cache:6379"),
    ("PASSGATE_TRUSTED_PROXIES", "10.0.0.0/8,10.1.0/16"),
    ("PASSGATE_TRUSTED_PROXIES", "10.0.0.1/8"),  # host bits set: refused, not silently widened
    ("PASSGATE_TRUSTED_PROXIES", "*"),
    ("PASSGATE_TRUSTED_PROXIES", "lb.contoso.com"),
    ("PASSGATE_DEVICE_OFFLINE_DAYS", "31"),  # offline records last at most 30 days
    ("PASSGATE_DEVICE_OFFLINE_DAYS", "0"),
    ("PASSGATE_MDS_GRACE_DAYS", "366"),
    ("PASSGATE_METRICS_TOKEN", "short-token-31-characters-long!"),
    ("PASSGATE_METRICS_TOKEN", "a token with spaces that is long enough"),
    ("PASSGATE_METRICS_TOKEN", "é" * 40),
])
def test_bad_value_names_the_variable(env: dict[str, str], variable: str, value: str) -> None:
    message = refused(env, **{variable: value})
    assert message.startswith(variable + ":"), message


def test_rp_id_must_cover_every_extra_origin(env: dict[str, str]) -> None:
    message = refused(env, PASSGATE_RP_ID="contoso.com", PASSGATE_EXTRA_ORIGINS="https://login.fabrikam.com")
    assert message.startswith("PASSGATE_RP_ID:") and "fabrikam" in message


def test_good_values_are_normalised(env: dict[str, str]) -> None:
    conf = load({**env, "PASSGATE_ORIGIN": "HTTPS://ID.Contoso.COM:443/", "PASSGATE_RP_ID": "Contoso.com",
                 "PASSGATE_EXTRA_ORIGINS": " https://app.contoso.com:8443 , ",
                 "PASSGATE_SESSION_IDLE_MINUTES": "15", "PASSGATE_SESSION_MAX_HOURS": "8",
                 "PASSGATE_DEBUG": "yes"})
    assert conf.origin == "https://id.contoso.com"
    assert conf.rp_id == "contoso.com"
    assert conf.extra_origins == ("https://app.contoso.com:8443",)
    assert conf.origins == ("https://id.contoso.com", "https://app.contoso.com:8443")
    assert conf.allowed_hosts == ["app.contoso.com", "id.contoso.com"]
    assert conf.session_idle_minutes == 15 and conf.session_max_hours == 8
    assert conf.debug is True and conf.secure_cookies is True and conf.cookie_prefix == "__Host-"
    assert conf.secret_key == GOOD_SECRET


def test_trusted_proxies(env: dict[str, str]) -> None:
    conf = load({**env, "PASSGATE_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,"})
    assert [str(n) for n in conf.trusted_proxies] == ["10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"]
    assert load(env).trusted_proxies == ()  # by default nobody's forwarding headers are believed
    message = refused(env, PASSGATE_TRUSTED_PROXIES="10.0.0.0/8, 10.0.0/8")
    assert "'10.0.0/8'" in message and "10.0.0.0/8 or an address" in message


def test_localhost_defaults(tmp_path: Path) -> None:
    conf = load({"PASSGATE_DATA_DIR": str(tmp_path)})
    assert conf.origin == "http://localhost:8000" and conf.rp_id == "localhost"
    assert conf.secure_cookies is False and conf.cookie_prefix == ""  # browsers refuse __Host- without https
    assert conf.session_idle_minutes == 60 and conf.session_max_hours == 12
    assert conf.database_url == f"sqlite:///{tmp_path.resolve() / 'passgate.sqlite3'}"
    for origin in ("http://127.0.0.1:8000", "http://localhost"):
        assert load({"PASSGATE_DATA_DIR": str(tmp_path), "PASSGATE_ORIGIN": origin}).origin == origin


def test_ipv6_loopback_origin_keeps_its_brackets(tmp_path: Path) -> None:
    """env.py allows http on ::1; the normalised origin must still be what a browser sends
    (clientDataJSON.origin is "http://[::1]:8000"), or every ceremony fails with origin_not_allowed."""
    conf = load({"PASSGATE_DATA_DIR": str(tmp_path), "PASSGATE_ORIGIN": "http://[::1]:8000"})
    assert conf.origin == "http://[::1]:8000"


def test_generated_secret_key_is_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "new-data-dir"
    first = load({"PASSGATE_DATA_DIR": str(data_dir)})
    path = data_dir / "secret_key"
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(first.secret_key) >= 32
    assert path.read_text(encoding="utf-8").strip() == first.secret_key
    second = load({"PASSGATE_DATA_DIR": str(data_dir)})
    assert second.secret_key == first.secret_key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    other = load({"PASSGATE_DATA_DIR": str(tmp_path / "another")})
    assert other.secret_key != first.secret_key


def test_given_secret_key_is_not_written(tmp_path: Path) -> None:
    conf = load({"PASSGATE_DATA_DIR": str(tmp_path), "PASSGATE_SECRET_KEY": GOOD_SECRET})
    assert conf.secret_key == GOOD_SECRET
    assert not (tmp_path / "secret_key").exists()


def test_stored_secret_key_that_is_too_short_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("short\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load({"PASSGATE_DATA_DIR": str(tmp_path)})
    assert "secret_key" in str(info.value)


def test_load_reads_the_process_environment_by_default(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setenv("PASSGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PASSGATE_ORIGIN", "http://id.contoso.com")
    with pytest.raises(ConfigError, match=r"^PASSGATE_ORIGIN:"):
        load()


def test_https_cookies_carry_the_host_prefix(tmp_path: Path) -> None:
    """Django's settings, as `passgate serve` builds them for an https origin: __Host- names, Secure, Path=/, no
    Domain (what the prefix requires, or browsers drop the cookie)."""
    code = ("from django.conf import settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, "
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_PATH, s.CSRF_COOKIE_PATH, "
            "s.SESSION_COOKIE_DOMAIN, s.CSRF_COOKIE_DOMAIN)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASSGATE_", "DJANGO_"))}
    env.update(PASSGATE_DATA_DIR=str(tmp_path), PASSGATE_ORIGIN="https://id.contoso.test",
               DJANGO_SETTINGS_MODULE="passgate.config.settings")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          timeout=60)
    assert done.stdout.split() == ["__Host-passgate_session", "__Host-passgate_csrf", "True", "True", "/", "/",
                                   "None", "None"]
