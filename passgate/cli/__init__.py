"""The ``passgate`` command line: run the server, manage the directory, issue passes, read the audit log.

Bad input gives a non-zero exit and one clear line on stderr; read commands take ``--json``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from passgate.cli.device_parsers import add_device_parsers

EXIT_ERROR = 1


class CliError(Exception):
    pass


def _metrics_dir(serving: bool) -> None:
    """``serve``: a fresh ``<data dir>/prometheus`` for prometheus_client's multiprocess mode, set before anything
    imports prometheus_client (it chooses its storage at import) and before gunicorn forks, so that every worker
    writes there and ``/metrics`` adds them up. Other commands keep their counts in memory (none of them serves
    /metrics), so a PROMETHEUS_MULTIPROC_DIR inherited from a service environment is dropped."""
    import shutil

    from passgate.config.env import data_dir_of

    if not serving:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return
    directory = data_dir_of(os.environ) / "prometheus"
    shutil.rmtree(directory, ignore_errors=True)  # counts of an earlier run would be added to this one's
    directory.mkdir(mode=0o700, parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "passgate.config.settings")
    import django

    from passgate.config.env import ConfigError

    try:
        django.setup()
    except ConfigError as exc:
        raise CliError(f"configuration: {exc}") from None


# --- parser -----------------------------------------------------------------------------------------

def _positive(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (``passgate tap issue: error: …``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="passgate", description="Passgate: passkey-first identity provider")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="migrate, bootstrap a first admin if the directory is empty, and serve")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=_positive(1, 65535), default=8000)
    s.add_argument("--workers", type=_positive(1, 64), default=2)
    s.add_argument("--no-migrate", action="store_true",
                   help="never change the schema (the operator runs passgate migrate once per upgrade); refuse to "
                        "start while migrations this version needs are not applied")
    s.set_defaults(func="cmd_serve")
    sub.add_parser("migrate", help="create or upgrade the database").set_defaults(func="cmd_migrate")
    b = sub.add_parser("backup", help="write the database and the secret key to one archive (mode 0600)")
    b.add_argument("file", help="the archive to write (.tar.gz)")
    b.add_argument("--force", action="store_true", help="replace the file if it exists")
    b.set_defaults(func="cmd_backup")
    b = sub.add_parser("restore", help="put back a passgate backup archive into an empty database (stop serve first)")
    b.add_argument("file")
    b.add_argument("--force", action="store_true",
                   help="replace a database that holds Passgate data, and a different secret key")
    b.set_defaults(func="cmd_restore")
    sub.add_parser("check", help="check the configuration, the database and the keys without changing anything; "
                                 "one line per problem, exit status 1 if there is any").set_defaults(func="check")

    users = sub.add_parser("users", help="directory users").add_subparsers(dest="action", required=True)
    a = users.add_parser("add")
    a.add_argument("upn")
    a.add_argument("--display-name")
    a.add_argument("--global-admin", action="store_true", help="assign the Global Administrator role")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_users_add")
    a = users.add_parser("list")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_users_list")
    a = users.add_parser("show")
    a.add_argument("user", help="UPN or object id")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_users_show")
    for name in ("disable", "enable"):
        a = users.add_parser(name)
        a.add_argument("user", help="UPN or object id")
        a.set_defaults(func=f"cmd_users_{name}")
    a = users.add_parser("set-upn")
    a.add_argument("user", help="current UPN or object id")
    a.add_argument("new_upn")
    a.set_defaults(func="cmd_users_set_upn")
    a = users.add_parser("revoke-sessions",
                         help="sign the user out everywhere: end their sessions and apps' refresh tokens")
    a.add_argument("user", help="UPN or object id")
    a.set_defaults(func="cmd_users_revoke_sessions")

    groups = sub.add_parser("groups", help="security groups").add_subparsers(dest="action", required=True)
    a = groups.add_parser("add")
    a.add_argument("name")
    a.add_argument("--description")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_groups_add")
    a = groups.add_parser("list")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_groups_list")
    for name in ("add-member", "remove-member"):
        a = groups.add_parser(name)
        a.add_argument("group", help="group name or id")
        a.add_argument("user", help="UPN or object id")
        a.set_defaults(func=f"cmd_groups_{name.replace('-', '_')}")
    a = groups.add_parser("members")
    a.add_argument("group", help="group name or id")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_groups_members")

    roles = sub.add_parser("roles", help="directory roles (Global Administrator, User Administrator ...)"
                           ).add_subparsers(dest="action", required=True)
    a = roles.add_parser("list", help="the roles and how many people hold each")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_roles_list")
    for name, verb in (("assign", "give"), ("remove", "take")):
        a = roles.add_parser(name, help=f"{verb} a person a role")
        a.add_argument("role", help="role name (quoted: \"User Administrator\") or template id")
        a.add_argument("user", help="UPN or object id")
        a.set_defaults(func=f"cmd_roles_{name}")
    a = roles.add_parser("members", help="who holds a role")
    a.add_argument("role", help="role name or template id")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_roles_members")

    tap = sub.add_parser("tap", help="Temporary Access Passes").add_subparsers(dest="action", required=True)
    a = tap.add_parser("issue")
    a.add_argument("--user", required=True, help="UPN or object id")
    a.add_argument("--lifetime-minutes", type=_positive(10, 43_200), default=60)
    once = a.add_mutually_exclusive_group()
    once.add_argument("--once", action="store_true", default=True, help="usable once (the default)")
    once.add_argument("--multi-use", action="store_true", help="usable until it expires")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_tap_issue")

    apps = sub.add_parser("apps", help="app registrations (Graph API clients, OpenID Connect clients)").add_subparsers(
        dest="action", required=True)
    a = apps.add_parser("add", help="register an app; prints its client id and secret (shown once)")
    a.add_argument("--name", required=True)
    a.add_argument("--permission", action="append", default=[], metavar="PERMISSION",
                   help="a Graph application permission, e.g. User.Read.All (repeat for more)")
    a.add_argument("--redirect-uri", action="append", default=[], metavar="URI",
                   help="an OpenID Connect redirect URI, exact (https, or http://localhost); repeat for more")
    a.add_argument("--post-logout-redirect-uri", action="append", default=[], metavar="URI",
                   help="where RP-initiated logout may return to (repeat for more)")
    a.add_argument("--public", action="store_true",
                   help="a public client (no secret; PKCE only), e.g. a native or single-page app")
    a.add_argument("--auth-method", choices=["client_secret_basic", "client_secret_post", "private_key_jwt"],
                   help="token endpoint client authentication (default client_secret_basic)")
    a.add_argument("--jwks", metavar="FILE", help="the client's public JWK set (JSON), for private_key_jwt")
    a.add_argument("--scope", action="append", default=[], metavar="SCOPE",
                   help="an allowed scope: openid, profile, email, offline_access (default: all of them)")
    a.add_argument("--id-token-alg", choices=["ES256", "RS256"], help="ID token signing algorithm (default ES256)")
    a.add_argument("--backchannel-logout-uri", metavar="URI",
                   help="where to POST an OpenID Back-Channel Logout token when a session the app signed in with ends")
    a.add_argument("--require-pkce", action="store_true",
                   help="a confidential client must use PKCE (S256) too; without, PKCE or a nonce (RFC 9700)")
    _api_arguments(a)
    a.add_argument("--allow-device-code", action="store_true",
                   help="the app may use the device authorization grant (RFC 8628: command-line tools, devices "
                        "without a browser)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_apps_add")
    a = apps.add_parser("update", help="rename an app, change the API it exposes or its OpenID Connect settings")
    a.add_argument("app", help="client id (appId) or object id")
    a.add_argument("--name", help="a new display name")
    _api_arguments(a)
    for verb in ("disable", "enable", "remove"):
        a.add_argument(f"--{verb}-api-scope", action="append", default=[], metavar="VALUE",
                       help=f"{verb} one of the API's scopes" + (" (disable it first)" if verb == "remove" else ""))
    a.add_argument("--app-role", action="append", default=[], metavar="VALUE",
                   help="a role the app defines (its value is what the tokens' roles claim carries)")
    for verb in ("disable", "enable", "remove"):
        a.add_argument(f"--{verb}-app-role", action="append", default=[], metavar="VALUE",
                       help=f"{verb} one of the app's roles" + (" (disable it first)" if verb == "remove" else ""))
    a.add_argument("--allow-device-code", action=argparse.BooleanOptionalAction, default=None,
                   help="allow (or, with --no-allow-device-code, refuse) the device authorization grant")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_apps_update")
    a = apps.add_parser("list")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_apps_list")
    a = apps.add_parser("show")
    a.add_argument("app", help="client id (appId) or object id")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_apps_show")
    a = apps.add_parser("remove")
    a.add_argument("app", help="client id (appId) or object id")
    a.set_defaults(func="cmd_apps_remove")
    a = apps.add_parser("roles", help="the app's roles and who holds them")
    a.add_argument("app", help="client id (appId) or object id")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_apps_roles")
    for verb, what in (("assign-role", "give a user or a group one of the app's roles"),
                       ("unassign-role", "take one of the app's roles back from a user or a group")):
        a = apps.add_parser(verb, help=what)
        a.add_argument("app", help="client id (appId) or object id")
        a.add_argument("role", help="the role's value, e.g. Survey.Admin")
        a.add_argument("--user", metavar="UPN", help="a user (userPrincipalName or object id)")
        a.add_argument("--group", metavar="NAME_OR_ID", help="a security group (name or object id)")
        a.set_defaults(func=f"cmd_apps_{verb.replace('-', '_')}")

    signing = sub.add_parser("keys", help="token-signing keys (ID tokens, access tokens)").add_subparsers(
        dest="action", required=True)
    a = signing.add_parser("rotate", help="make a new current key; the old one stays published until its tokens expire")
    a.add_argument("--alg", choices=["ES256", "RS256"], default="ES256")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_keys_rotate")
    a = signing.add_parser("list", help="every key: algorithm, kid, created, retired, published in the JWKS")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_keys_list")

    audit = sub.add_parser("audit", help="audit log").add_subparsers(dest="action", required=True)
    a = audit.add_parser("tail")
    a.add_argument("--limit", type=_positive(1, 10_000), default=20)
    a.add_argument("--category", choices=["signIn", "securityInfo", "directory", "policy", "system"])
    a.add_argument("--result", choices=["success", "failure"])
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_audit_tail")
    a = audit.add_parser("signins", help="sign-in logs: the latest sign-ins to apps, oldest of them first")
    a.add_argument("--user", metavar="UPN", help="only this user name (as typed or asserted; case-insensitive)")
    a.add_argument("--app", metavar="APPID", help="only this app (client id)")
    a.add_argument("--failures", action="store_true", help="only failed sign-ins")
    a.add_argument("--limit", type=_positive(1, 10_000), default=20)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_audit_signins")
    a = audit.add_parser("purge-signins", help="delete sign-in events older than N days (run it from cron)")
    a.add_argument("--older-than-days", type=_positive(1, 36_500), required=True, metavar="N")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_audit_purge_signins")

    o = sub.add_parser("oidc", help="the OpenID Connect provider's housekeeping").add_subparsers(dest="action",
                                                                                               required=True)
    a = o.add_parser("purge", help="delete expired codes, tokens and grants (run it daily from cron)")
    a.add_argument("--older-than-days", type=_positive(1, 36_500), default=1, metavar="N")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_oidc_purge")

    t = sub.add_parser("throttle", help="the back-off counters of wrong passes and codes").add_subparsers(
        dest="action", required=True)
    a = t.add_parser("purge", help="delete counters whose failures are forgotten (run it daily from cron)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_throttle_purge")

    add_device_parsers(sub, _positive)

    d = sub.add_parser("demo-app", help="run a small web app that signs in through this Passgate (OpenID Connect); "
                                        "registers it as a public client the first time")
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--port", type=_positive(1, 65535), default=8001)
    d.add_argument("--passgate", metavar="URL", help="Passgate's origin (default: PASSGATE_ORIGIN, as `serve` uses it)")
    d.set_defaults(func="cmd_demo_app")

    mds = sub.add_parser("mds", help="FIDO Metadata Service (MDS3)").add_subparsers(dest="action", required=True)
    a = mds.add_parser("import", help="verify and import a metadata BLOB file")
    a.add_argument("file")
    a.add_argument("--crl", action="append", default=[], help="a CRL (DER or PEM) to check the signing chain with")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_mds_import")
    a = mds.add_parser("refresh", help="download the current BLOB and import it")
    a.add_argument("--url", default="https://mds3.fidoalliance.org/")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_mds_refresh")
    a = mds.add_parser("flagged", help="passkeys whose model the metadata no longer trusts (the admin report)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_mds_flagged")
    a = mds.add_parser("status", help="the BLOB in force: serial number, next update, staleness, entries")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func="cmd_mds_status")
    return p


def _api_arguments(a: argparse.ArgumentParser) -> None:
    a.add_argument("--identifier-uri", action="append", default=[], metavar="URI",
                   help="a URI naming the API the app exposes, e.g. api://<appId> (repeat for more; on update the "
                        "list replaces the old one); default api://<appId> when scopes are given")
    a.add_argument("--api-scope", action="append", default=[], metavar="VALUE",
                   help="a scope the API offers, e.g. Files.Read (clients ask for <identifierUri>/<value>)")
    a.add_argument("--api-admin-scope", action="append", default=[], metavar="VALUE",
                   help="a scope the API offers, of type Admin")


def _check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage rules argparse can't express (exit status 2, like every usage error)."""
    if (args.command == "apps" and args.action == "add" and not args.permission and not args.redirect_uri
            and not args.identifier_uri and not args.api_scope and not args.api_admin_scope):
        parser.error("apps add: give --permission (a Graph API client), --redirect-uri (an OpenID Connect "
                     "client) or --identifier-uri/--api-scope (an API), or several")


def _check_text(args: argparse.Namespace) -> None:
    """Every argument is text Passgate can store (``core.text``): argv carries bytes that are not UTF-8 as lone
    surrogates (surrogateescape), which no database or terminal encodes."""
    from passgate.core.text import check_text

    for name, value in vars(args).items():
        for each in value if isinstance(value, list) else [value]:
            if isinstance(each, str):
                check_text(each, f"The argument {name.replace('_', '-')}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_usage(parser, args)
    from passgate.core.text import UnusableText

    try:
        _check_text(args)
    except UnusableText as exc:
        print(f"passgate: error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    if args.command == "check":  # reads the configuration itself, one line per problem (never migrates)
        from passgate.cli.check import run

        _metrics_dir(serving=False)
        return run()
    if args.command == "serve" and not os.environ.get("PASSGATE_ORIGIN"):
        # No public origin configured: people reach this server as localhost on the port it listens on.
        os.environ["PASSGATE_ORIGIN"] = f"http://localhost:{args.port}"
    try:
        _metrics_dir(serving=args.command == "serve")
        _setup_django()
        from passgate.audit.logs import events_enabled

        events_enabled(args.command == "serve")  # a command's audit rows are in the database; its output stays plain
        from django.db import DatabaseError

        from passgate.core.errors import PassgateError

        try:
            from passgate.cli import commands

            if args.command not in {"serve", "migrate", "backup", "restore"}:
                commands.migrate()
            from passgate.cli import app_api, app_roles, devices

            found = (getattr(module, args.func, None) for module in (commands, app_api, app_roles, devices))
            next(command for command in found if command is not None)(args)
        except PassgateError as exc:
            raise CliError(exc.message) from None
        except DatabaseError as exc:
            raise CliError(f"database: {exc}".splitlines()[0]) from None
    except CliError as exc:
        print(f"passgate: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
