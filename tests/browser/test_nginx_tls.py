"""TLS at a reverse proxy: Debian's nginx with the repository's own packaging/nginx/passgate.conf (only names, ports
and paths replaced) in front of the real ``passgate serve``, with a certificate from a CA made here.

- https: the public origin is https://passgate.test:PORT; answers carry Strict-Transport-Security, cookies are
  Secure with the ``__Host-`` prefix, plain http is sent to https, and no redirect leaves https.
- Forwarding headers: Passgate trusts nginx (127.0.0.1) only. A request straight to the app port (from 127.0.0.3)
  with a forged X-Forwarded-For / X-Forwarded-Proto / Forwarded is not believed: the audit row has the real peer
  and the request is not https. Through nginx (the client at 127.0.0.4) the audit row has the address nginx saw.
- Chromium, trusting the test CA (``--ignore-certificate-errors-spki-list`` with the CA's key hash) and resolving
  passgate.test to 127.0.0.1 (``--host-resolver-rules``), registers a passkey over https through nginx and signs in
  with it (the CDP virtual authenticator, as the other browser tests). Checked by hand with Debian's Chromium 156:
  without trust the page does not load (ERR_CERT_AUTHORITY_INVALID), a wrong key hash neither; Playwright's
  ``ignore_https_errors`` and ``--ignore-certificate-errors`` would also give a secure context in which WebAuthn
  works, but trust them less: the key hash trusts this CA alone.

nginx runs as the current user from a folder of its own (``-p``, ``-c``, ``-e``): no system file is read or
written. Outside CI a missing /usr/sbin/nginx skips these tests loudly; with CI=true it fails them.
"""

from __future__ import annotations

import base64
import datetime
import grp
import hashlib
import http.client
import json
import os
import pwd
import re
import signal
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.browser.fixtures import CHROMIUM, CHROMIUM_ARGS, Tab
from tests.conftest import loud_skip
from tests.processes import cli, free_port, passgate_env, scratch_database, started, wait_for_output, wait_listening

pytestmark = pytest.mark.browser

NGINX = Path("/usr/sbin/nginx")
CONF = Path(__file__).resolve().parents[2] / "packaging" / "nginx" / "passgate.conf"
HOST = "passgate.test"
HSTS = "max-age=31536000; includeSubDomains"  # settings.PASSGATE_HSTS
NGINX_PEER = "127.0.0.1"  # nginx connects to Passgate from here: PASSGATE_TRUSTED_PROXIES
DIRECT_CLIENT = "127.0.0.3"  # someone who reaches the app port past nginx
CLIENT = "127.0.0.4"  # a client of nginx
FORGED = "198.51.100.66"


# --- a test CA and a server certificate -------------------------------------------------------------------------

def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_certificates(folder: Path) -> dict[str, Any]:
    """A CA, and a certificate for HOST signed by it: ``{"ca", "chain", "key", "ca_spki"}`` (files, and the CA's
    SubjectPublicKeyInfo SHA-256 in base64, as Chromium's --ignore-certificate-errors-spki-list takes it)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Passgate test CA")).issuer_name(_name("Passgate test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder().subject_name(_name(HOST)).issuer_name(ca.subject)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    files = {"ca": folder / "ca.pem", "chain": folder / "fullchain.pem", "key": folder / "privkey.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["chain"].write_bytes(server.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
        serialization.Encoding.PEM))
    files["key"].write_bytes(_pem(key))
    files["key"].chmod(0o600)
    spki = ca.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {**files, "ca_spki": base64.b64encode(hashlib.sha256(spki).digest()).decode()}


# --- nginx with the repository's configuration -------------------------------------------------------------------

def render(template: str, *, tls_port: int, http_port: int, app_port: int, chain: Path, key: Path) -> str:
    """packaging/nginx/passgate.conf for this test: each replaced text must be there exactly as often as expected,
    so an edit of the file that the test no longer covers fails here instead of passing untested."""
    replacements = [  # (text in the file, how often, what the test puts there)
        ("    listen [::]:80;\n", 1, ""),  # the test listens on 127.0.0.1 only
        ("    listen [::]:443 ssl http2;\n", 1, ""),
        ("listen 80;", 1, f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", 1, f"listen 127.0.0.1:{tls_port} ssl http2;"),
        ("https://id.example.com$request_uri", 1, f"https://{HOST}:{tls_port}$request_uri"),
        ("server_name id.example.com;", 2, f"server_name {HOST};"),
        ("server 127.0.0.1:8000;", 1, f"server 127.0.0.1:{app_port};"),
        ("/etc/ssl/passgate/fullchain.pem", 1, str(chain)),
        ("/etc/ssl/passgate/privkey.pem", 1, str(key)),
    ]
    text = template
    for old, count, new in replacements:
        assert text.count(old) == count, f"{CONF} no longer has {old!r} {count} time(s): update this test"
        text = text.replace(old, new)
    leftover = [line for line in text.splitlines() if "example.com" in line.split("#")[0] or "/etc/" in line.split(
        "#")[0]]
    assert not leftover, f"{CONF} names something this test does not replace: {leftover}"
    return text


def main_config(root: Path, site: Path) -> str:
    """The smallest nginx.conf around the site: everything nginx writes stays in ``root``; nginx runs as the current
    user (as root, its workers stay root instead of becoming nobody, who could not enter pytest's folders)."""
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    temp = "\n".join(f"    {kind}_temp_path {root}/{kind}_temp;"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""daemon off;
{f"user {user} {group};" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
{temp}
    include {site};
}}
"""


@dataclass
class Site:
    tls_port: int
    http_port: int
    app_port: int
    ca: Path
    ca_spki: str
    env: dict[str, str]
    serve_log: Path
    nginx_root: Path

    @property
    def origin(self) -> str:
        return f"https://{HOST}:{self.tls_port}"

    def nginx_log(self) -> str:
        return (self.nginx_root / "error.log").read_text(errors="replace")[-3000:]

    def audit(self, activity: str) -> list[dict[str, Any]]:
        """The audit rows of ``activity``, newest first."""
        rows = json.loads(cli(self.env, "audit", "tail", "--limit", "200", "--json"))  # oldest first
        return [e for e in reversed(rows) if e["activity"] == activity]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not NGINX.exists():
        loud_skip("NGINX TLS TESTS", f"they need Debian's nginx at {NGINX} (apt-get install nginx)")
    tmp = tmp_path_factory.mktemp("nginx-tls")
    certs = make_certificates(tmp)
    tls_port, http_port, app_port = free_port(), free_port(), free_port()
    with scratch_database(tmp, "nginx") as database_url:
        env = passgate_env(tmp / "data", database_url, PASSGATE_ORIGIN=f"https://{HOST}:{tls_port}",
                           PASSGATE_TRUSTED_PROXIES=f"{NGINX_PEER}/32")
        serve_log = tmp / "serve.log"
        with started(["serve", "--host", "127.0.0.1", "--port", str(app_port), "--workers", "2"], env,
                     serve_log) as serve:
            wait_for_output(serve_log, serve, "Passgate listening on")
            wait_listening(app_port, serve)
            root = tmp / "nginx"
            root.mkdir()
            conf = root / "passgate.conf"
            conf.write_text(render(CONF.read_text(), tls_port=tls_port, http_port=http_port, app_port=app_port,
                                   chain=certs["chain"], key=certs["key"]))
            (root / "nginx.conf").write_text(main_config(root, conf))
            with (root / "stderr.log").open("w") as stderr:
                nginx = subprocess.Popen([str(NGINX), "-p", str(root), "-c", str(root / "nginx.conf"), "-e",
                                          str(root / "error.log")], stdout=subprocess.DEVNULL, stderr=stderr,
                                         start_new_session=True,
                                         env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
            try:
                running = Site(tls_port, http_port, app_port, certs["ca"], certs["ca_spki"], env, serve_log, root)
                try:
                    wait_listening(tls_port, nginx, timeout=30)  # type: ignore[arg-type]
                except AssertionError:
                    pytest.fail(f"nginx did not start:\n{(root / 'stderr.log').read_text()}\n{running.nginx_log()}")
                yield running
            finally:
                os.killpg(nginx.pid, signal.SIGTERM)  # nginx's fast shutdown
                try:
                    nginx.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(nginx.pid, signal.SIGKILL)
                    nginx.wait(timeout=15)


# --- plain HTTP clients with a chosen source address --------------------------------------------------------------

@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


def request(port: int, method: str, path: str, *, source: str, ca: Path | None = None,
            headers: dict[str, str] | None = None, body: str | None = None) -> Answer:
    """One request to 127.0.0.1:``port`` from the loopback address ``source``, for Host ``HOST:port``: over TLS
    checked against ``ca`` (and the name HOST) when given, plain http otherwise."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source, 0))
    conn: http.client.HTTPConnection
    if ca is not None:
        context = ssl.create_default_context(cafile=str(ca))
        conn = http.client.HTTPSConnection(HOST, port, context=context, timeout=30)
        conn.sock = context.wrap_socket(raw, server_hostname=HOST)
    else:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        conn.sock = raw
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read().decode(errors="replace"))
    finally:
        conn.close()


def cookies_of(answer: Answer) -> dict[str, str]:
    """Each Set-Cookie line by cookie name."""
    return {line.split("=", 1)[0]: line for line in answer.headers.get_all("Set-Cookie") or []}


def csrf_of(answer: Answer) -> tuple[str, str]:
    """(the Cookie header, the page's CSRF token) of a page that set the CSRF cookie."""
    line = cookies_of(answer)["__Host-passgate_csrf"]
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', answer.body)
    assert token, answer.body[:2000]
    return line.split(";", 1)[0], token.group(1)


# --- the tests ---------------------------------------------------------------------------------------------------

def test_https_through_nginx_hsts_secure_cookies_and_no_way_back_to_http(site: Site) -> None:
    page = request(site.tls_port, "GET", "/signin", source=CLIENT, ca=site.ca)
    assert page.status == 200, (page.body[:2000], site.nginx_log())
    assert page.headers["Strict-Transport-Security"] == HSTS
    csrf = cookies_of(page)["__Host-passgate_csrf"]
    assert "; Secure" in csrf and "; Path=/" in csrf and "Domain=" not in csrf, csrf

    # Static files and error pages too.
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.body)
    assert stylesheet, page.body[:2000]
    for path, status in ((stylesheet.group(1), 200), ("/no-such-page", 404)):
        answer = request(site.tls_port, "GET", path, source=CLIENT, ca=site.ca)
        assert (answer.status, answer.headers["Strict-Transport-Security"]) == (status, HSTS), path

    # Redirects stay on the https origin: relative, or absolute with https and the public port.
    away = request(site.tls_port, "GET", "/security-info", source=CLIENT, ca=site.ca)
    assert away.status == 302 and away.headers["Strict-Transport-Security"] == HSTS
    assert away.headers["Location"].startswith(("/signin", f"{site.origin}/signin")), away.headers["Location"]
    discovery = request(site.tls_port, "GET", "/.well-known/openid-configuration", source=CLIENT, ca=site.ca)
    assert discovery.status == 200
    assert json.loads(discovery.body)["issuer"].startswith(site.origin), discovery.body
    assert "http://" not in discovery.body.replace("\\/", "/"), discovery.body

    assert "all is well" in cli(site.env, "check")  # the configuration the doc prescribes passes `passgate check`

    # Plain http at nginx only sends the browser to the https origin.
    plain = request(site.http_port, "GET", "/signin?x=1", source=CLIENT)
    assert plain.status == 301 and plain.headers["Location"] == f"{site.origin}/signin?x=1"


def test_forwarding_headers_are_believed_from_nginx_only(site: Site) -> None:
    forged = {"X-Forwarded-For": FORGED, "X-Forwarded-Proto": "https", "Forwarded": f"for={FORGED};proto=https"}
    token_request = urlencode({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x",
                               "scope": "https://graph.microsoft.com/.default"})
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    # Straight to the app port, past nginx: the forged headers change nothing.
    direct = request(site.app_port, "POST", "/oauth2/v2.0/token", source=DIRECT_CLIENT, body=token_request,
                     headers={**forged, **form})
    assert direct.status in (400, 401), direct.body
    assert site.audit("token.issue")[0]["ipAddress"] == DIRECT_CLIENT

    # Through nginx: the address nginx saw, never what the client wrote (nginx appends; its Forwarded is dropped).
    proxied = request(site.tls_port, "POST", "/oauth2/v2.0/token", source=CLIENT, ca=site.ca, body=token_request,
                      headers={**forged, **form})
    assert proxied.status == direct.status, proxied.body
    assert site.audit("token.issue")[0]["ipAddress"] == CLIENT

    # The scheme: a form posted without Origin and Referer. Straight to the app, "X-Forwarded-Proto: https" is not
    # believed: the request is plain http, where Django's CSRF check needs no Referer, and the pass is checked.
    page = request(site.app_port, "GET", "/signin/tap", source=DIRECT_CLIENT)
    cookie, token = csrf_of(page)
    tap_form = urlencode({"csrfmiddlewaretoken": token, "upn": "nobody@contoso.com", "tap": "WRONG-PASS"})
    posted = request(site.app_port, "POST", "/signin/tap", source=DIRECT_CLIENT, body=tap_form,
                     headers={**forged, **form, "Cookie": cookie})
    assert posted.status != 403 and "This form has expired" not in posted.body, posted.body[:2000]
    tap_rows = site.audit("tap.signIn")
    assert (tap_rows[0]["result"], tap_rows[0]["ipAddress"]) == ("failure", DIRECT_CLIENT), tap_rows[0]

    # Through nginx the request is https (nginx's X-Forwarded-Proto is believed): without Origin or Referer the
    # same form is refused by the CSRF check; with the browser's Origin it goes through, from the client's address.
    page = request(site.tls_port, "GET", "/signin/tap", source=CLIENT, ca=site.ca)
    cookie, token = csrf_of(page)
    tap_form = urlencode({"csrfmiddlewaretoken": token, "upn": "nobody@contoso.com", "tap": "WRONG-PASS"})
    refused = request(site.tls_port, "POST", "/signin/tap", source=CLIENT, ca=site.ca, body=tap_form,
                      headers={**form, "Cookie": cookie})
    assert refused.status == 403 and "This form has expired" in refused.body, refused.body[:2000]
    assert len(site.audit("tap.signIn")) == len(tap_rows)  # refused before the pass was looked at
    posted = request(site.tls_port, "POST", "/signin/tap", source=CLIENT, ca=site.ca, body=tap_form,
                     headers={**forged, **form, "Cookie": cookie, "Origin": site.origin})
    assert posted.status != 403, posted.body[:2000]
    tap_rows = site.audit("tap.signIn")
    assert (tap_rows[0]["result"], tap_rows[0]["ipAddress"]) == ("failure", CLIENT), tap_rows[0]


@pytest.fixture(scope="module")
def trusting_browser(chromium: Any, site: Site) -> Iterator[Any]:
    """A second Chromium from the session's Playwright that resolves HOST to 127.0.0.1 and trusts the test CA."""
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
        f"--ignore-certificate-errors-spki-list={site.ca_spki}"])
    yield browser
    browser.close()


def test_a_passkey_registers_and_signs_in_over_https_through_nginx(site: Site, trusting_browser: Any) -> None:
    upn = "pat@contoso.com"
    cli(site.env, "users", "add", upn, "--display-name", "Pat Example")
    issued = json.loads(cli(site.env, "tap", "issue", "--user", upn, "--json"))
    tab = Tab(trusting_browser, site.origin)
    try:
        tab.add_authenticator()
        tab.tap_sign_in(upn, issued["temporaryAccessPass"])
        tab.wait_for_path("/security-info")
        assert tab.page.evaluate("window.isSecureContext") is True
        tab.add_passkey("Work laptop")
        tab.page.wait_for_selector("text=Passkey “Work laptop” added.")
        tab.sign_out_and_back_in_with_the_button()
        assert tab.page.url.startswith(site.origin + "/"), tab.page.url

        session = next(c for c in tab.context.cookies() if c["name"] == "__Host-passgate_session")
        assert session["secure"] and session["httpOnly"] and session["domain"] == HOST, session
        problems = tab.csp_violations()
        # Chromium spoke HTTP/2 to nginx (ALPN on the listen line), nginx HTTP/1.1 to Passgate.
        assert '"GET /security-info HTTP/2.0" 200' in (site.nginx_root / "access.log").read_text()
    finally:
        tab.close()
    assert not problems, problems
    assert [e["result"] for e in site.audit("passkey.register")] == ["success"]
    assert [e["result"] for e in site.audit("passkey.signIn")] == ["success"]
