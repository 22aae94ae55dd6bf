"""The CLI's commands. Imported only after Django is set up (see ``passgate.cli.main``)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count
from django.utils import timezone

from passgate.apps.keys import KeyInfo, signing_key_list, signing_key_rotate, signing_keys_ensure
from passgate.apps.models import AppRegistration
from passgate.apps.oidc.tokens import oidc_purge
from passgate.apps.selectors import app_as_dict, app_list, oidc_discovery_url, token_endpoint
from passgate.apps.services import OidcRegistration, app_create, app_get, app_remove
from passgate.audit.models import Category
from passgate.audit.selectors import audit_event_as_dict, audit_events
from passgate.audit.services import Actor, audit_record
from passgate.audit.signins import methods_used, signin_as_dict, signin_list, signin_purge
from passgate.cli import CliError
from passgate.cli.server import demo_server, serve, serve_until_stopped
from passgate.core.errors import InvalidInput
from passgate.core.graph.odata import Comparison
from passgate.core.roles import definitions as role_definitions
from passgate.core.roles import find_role
from passgate.core.text import UnusableText, strict_loads
from passgate.core.trust.mds import MetadataSnapshot
from passgate.credentials.metadata import flagged_passkeys, metadata_import
from passgate.credentials.services import tap_issue
from passgate.credentials.throttle import throttle_purge
from passgate.demo.app import DemoApp
from passgate.directory.models import DirectoryRole, SecurityGroup, User
from passgate.directory.selectors import role_member_counts, role_members
from passgate.directory.services import (
    group_add_member,
    group_create,
    group_get,
    group_remove_member,
    role_member_add,
    role_member_remove,
    user_create,
    user_get,
    user_revoke_sign_in_sessions,
    user_set_enabled,
    user_set_upn,
)
from passgate.trust_store.models import MetadataBlob
from passgate.trust_store.selectors import current_blob, model_name, snapshot_of
from passgate.trust_store.services import mds_download


def _emit(args: argparse.Namespace, data: Any, lines: Callable[[], Sequence[str]]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, default=str))
    else:
        for line in lines():
            print(line)


def _system_actor() -> Any:

    return Actor.system(f"cli:{getpass.getuser()}")


def _user_dict(user: Any) -> dict[str, Any]:
    return {
        "id": str(user.id), "userPrincipalName": user.user_principal_name, "displayName": user.display_name,
        "accountEnabled": user.account_enabled, "createdDateTime": user.created_at.isoformat(),
        "roles": [r.get_role_display() for r in user.role_assignments.all()],
        "passkeys": user.passkeys.count(),
    }


# --- serve ------------------------------------------------------------------------------------------

def bootstrap_first_admin(*, admin_upn: str | None = None) -> tuple[Any, str] | None:
    """On an empty directory, create a Global Administrator and a one-time TAP for them."""


    with transaction.atomic():
        if User.objects.exists():
            return None
        upn = admin_upn or os.environ.get("PASSGATE_ADMIN_UPN") or f"admin@{settings.PASSGATE.rp_id}"
        actor = Actor.system("passgate (first start)")
        user = user_create(upn=upn, display_name="Administrator", actor=actor,
                           roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
        _, plain = tap_issue(user=user, actor=actor, lifetime_minutes=60, usable_once=True)
    return user, plain


def tap_url(user: User) -> str:
    return f"{settings.PASSGATE.origin}/signin/tap?{urlencode({'upn': user.user_principal_name}, safe='@')}"


def pending_migrations() -> list[str]:
    """The migrations this version of Passgate needs that the database has not applied (``app.name``)."""
    executor = MigrationExecutor(connections["default"])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, backwards in plan if not backwards]


def cmd_serve(args: argparse.Namespace) -> None:
    if args.no_migrate:
        pending = pending_migrations()
        if pending:
            raise CliError(f"the database schema is behind this version of Passgate ({len(pending)} migration"
                           f"{'s' if len(pending) != 1 else ''} not applied, first {pending[0]}): run passgate "
                           "migrate once, then start the nodes")
    with one_node_at_a_time():  # several nodes starting together: one migrates and bootstraps, the others wait
        if not args.no_migrate:
            migrate()
        unusable = signing_keys_ensure()  # before the fork, so that every worker (and /readyz) finds them
        made = bootstrap_first_admin()
    for problem in unusable:  # this node serves, not ready (/readyz says why), until the secret key is right
        print(f"passgate: warning: {problem}", file=sys.stderr, flush=True)
    origin = settings.PASSGATE.origin
    if made:
        user, plain = made
        print("=" * 72)
        print("Passgate first start: a Global Administrator was created.")
        print(f"  User name:              {user.user_principal_name}")
        print(f"  Temporary Access Pass:  {plain}   (one-time, valid 60 minutes)")
        print(f"  Use it at:              {tap_url(user)}")
        print("Then add a passkey on the Security info page. This pass is not shown again;")
        print("issue another with: passgate tap issue --user " + user.user_principal_name)
        print("=" * 72, flush=True)
    print(f"Passgate listening on http://{args.host}:{args.port} (public origin {origin})", flush=True)
    serve(args.host, args.port, args.workers)


# pg_advisory_lock's key for "changing the schema or bootstrapping": any 64-bit number other code does not use
STARTUP_LOCK = int.from_bytes(hashlib.sha256(b"passgate: migrate and bootstrap").digest()[:8], "big", signed=True)


@contextlib.contextmanager
def one_node_at_a_time() -> Iterator[None]:
    """On PostgreSQL, hold a session advisory lock: of several processes migrating, making the first signing keys
    or the first administrator at the same moment (nodes booting together, a CLI command beside a starting node),
    one works and the others wait, then find the work done. Without it, two nodes on an empty database both create
    django_migrations and one dies. Re-entrant (``serve`` holds it around ``migrate``, which takes it too). On
    SQLite nothing is held: that database is for a single node."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [STARTUP_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [STARTUP_LOCK])


def migrate(verbose: bool = False) -> None:
    with one_node_at_a_time():
        call_command("migrate", interactive=False, verbosity=1 if verbose else 0)


def cmd_migrate(args: argparse.Namespace) -> None:
    migrate(verbose=True)


def cmd_backup(args: argparse.Namespace) -> None:
    from passgate.cli.backup import backup, describe  # noqa: PLC0415 - only this command needs pg_dump's wrapper

    manifest = backup(Path(args.file), force=args.force)
    print(f"Backed up the {describe(manifest)} to {args.file}. Keep it secret: it holds the secret key.")


def cmd_restore(args: argparse.Namespace) -> None:
    from passgate.cli.backup import describe, restore  # noqa: PLC0415 - as above

    manifest = restore(Path(args.file), force=args.force)
    print(f"Restored the {describe(manifest)}. Next: passgate migrate (if this release is newer), then serve.")


# --- users ------------------------------------------------------------------------------------------

def cmd_users_add(args: argparse.Namespace) -> None:

    roles = (DirectoryRole.GLOBAL_ADMINISTRATOR,) if args.global_admin else ()
    user = user_create(upn=args.upn, display_name=args.display_name or args.upn.split("@")[0],
                       actor=_system_actor(), roles=roles)
    _emit(args, _user_dict(user), lambda: [f"Added {user.user_principal_name} (id {user.id})"])


def cmd_users_list(args: argparse.Namespace) -> None:

    users = list(User.objects.prefetch_related("role_assignments").all())
    _emit(args, [_user_dict(u) for u in users], lambda: [
        f"{u.user_principal_name:<40} {u.display_name:<24} {'enabled' if u.account_enabled else 'DISABLED':<9} {u.id}"
        for u in users] or ["(no users)"])


def cmd_users_show(args: argparse.Namespace) -> None:

    user = user_get(upn_or_id=args.user)
    data = _user_dict(user)
    data["groups"] = [g.display_name for g in user.security_groups.all()]
    _emit(args, data, lambda: [f"{k}: {v}" for k, v in data.items()])


def _set_enabled(args: argparse.Namespace, enabled: bool) -> None:

    user = user_set_enabled(user=user_get(upn_or_id=args.user), enabled=enabled, actor=_system_actor())
    print(f"{user.user_principal_name} is now {'enabled' if enabled else 'disabled'}")


def cmd_users_disable(args: argparse.Namespace) -> None:
    _set_enabled(args, False)


def cmd_users_enable(args: argparse.Namespace) -> None:
    _set_enabled(args, True)


def cmd_users_set_upn(args: argparse.Namespace) -> None:

    user = user_get(upn_or_id=args.user)
    old = user.user_principal_name
    user_set_upn(user=user, upn=args.new_upn, actor=_system_actor())
    print(f"{old} is now {user.user_principal_name} (id {user.id} unchanged; passkeys keep working)")


def cmd_users_revoke_sessions(args: argparse.Namespace) -> None:
    user = user_get(upn_or_id=args.user)
    valid_from = user_revoke_sign_in_sessions(user=user, actor=_system_actor())
    print(f"{user.user_principal_name} is signed out everywhere: sessions and app refresh tokens from before "
          f"{valid_from.isoformat(timespec='seconds')} are revoked")


# --- groups -----------------------------------------------------------------------------------------

def cmd_groups_add(args: argparse.Namespace) -> None:

    group = group_create(display_name=args.name, description=args.description or "", actor=_system_actor())
    _emit(args, {"id": str(group.id), "displayName": group.display_name},
          lambda: [f"Added group {group.display_name} (id {group.id})"])


def cmd_groups_list(args: argparse.Namespace) -> None:


    groups = list(SecurityGroup.objects.annotate(n=Count("members")))
    _emit(args, [{"id": str(g.id), "displayName": g.display_name, "members": g.n} for g in groups],
          lambda: [f"{g.display_name:<32} {g.n:>5} members  {g.id}" for g in groups] or ["(no groups)"])


def _membership(args: argparse.Namespace, add: bool) -> None:

    group, user = group_get(name_or_id=args.group), user_get(upn_or_id=args.user)
    (group_add_member if add else group_remove_member)(group=group, user=user, actor=_system_actor())
    print(f"{user.user_principal_name} {'added to' if add else 'removed from'} {group.display_name}")


def cmd_groups_add_member(args: argparse.Namespace) -> None:
    _membership(args, True)


def cmd_groups_remove_member(args: argparse.Namespace) -> None:
    _membership(args, False)


def cmd_groups_members(args: argparse.Namespace) -> None:

    group = group_get(name_or_id=args.group)
    members = list(group.members.all())
    _emit(args, [{"id": str(u.id), "userPrincipalName": u.user_principal_name} for u in members],
          lambda: [u.user_principal_name for u in members] or ["(no members)"])


# --- roles ------------------------------------------------------------------------------------------

def cmd_roles_list(args: argparse.Namespace) -> None:
    counts = role_member_counts()
    rows = [{"id": r.id, "displayName": r.display_name, "members": counts.get(r.id, 0)} for r in role_definitions()]
    _emit(args, rows, lambda: [f"{r['displayName']:<38} {r['members']:>5} members  {r['id']}" for r in rows])


def _role_change(args: argparse.Namespace, assign: bool) -> None:
    role = find_role(args.role)
    if assign:
        user = role_member_add(role=role, upn_or_id=args.user, actor=_system_actor()).user
    else:
        user = role_member_remove(role=role, upn_or_id=args.user, actor=_system_actor())
    print(f"{user.user_principal_name} {'now holds' if assign else 'no longer holds'} {role.display_name}")


def cmd_roles_assign(args: argparse.Namespace) -> None:
    _role_change(args, True)


def cmd_roles_remove(args: argparse.Namespace) -> None:
    _role_change(args, False)


def cmd_roles_members(args: argparse.Namespace) -> None:
    role = find_role(args.role)
    members = role_members(role_id=role.id)
    _emit(args, [{"id": str(u.id), "userPrincipalName": u.user_principal_name, "displayName": u.display_name,
                  "accountEnabled": u.account_enabled} for u in members],
          lambda: [u.user_principal_name + ("" if u.account_enabled else "  (disabled)") for u in members]
          or [f"(nobody holds {role.display_name})"])


# --- tap, audit -------------------------------------------------------------------------------------

def cmd_tap_issue(args: argparse.Namespace) -> None:


    user = user_get(upn_or_id=args.user)
    row, plain = tap_issue(user=user, actor=_system_actor(), lifetime_minutes=args.lifetime_minutes,
                           usable_once=not args.multi_use)
    data = {"id": str(row.id), "user": user.user_principal_name, "temporaryAccessPass": plain,
            "lifetimeInMinutes": row.lifetime_minutes, "isUsableOnce": row.is_usable_once,
            "startDateTime": row.start_at.isoformat(),
            "url": tap_url(user)}
    _emit(args, data, lambda: [
        f"Temporary Access Pass for {user.user_principal_name}: {plain}",
        f"  {'one-time' if row.is_usable_once else 'multi-use'}, valid {row.lifetime_minutes} minutes; "
        f"shown once. Use it at {data['url']}",
    ])


def cmd_audit_tail(args: argparse.Namespace) -> None:

    events = list(audit_events(limit=args.limit, category=args.category, result=args.result))[::-1]
    _emit(args, [audit_event_as_dict(e) for e in events], lambda: [
        f"{e.occurred_at:%Y-%m-%d %H:%M:%S}Z {e.category:<12} {e.activity:<24} {e.result:<7} "
        f"{e.reason or '-':<28} actor={e.actor_name or '-'} target={e.target_name or e.target_id or '-'}"
        for e in events] or ["(no events)"])


def _signin_line(e: Any) -> str:
    method = ", ".join(methods_used(e)) or "-"
    if e.aaguid:
        method += f" ({model_name(e.aaguid)})"
    outcome = "success" if e.succeeded else f"failure {e.error_code} {e.reason_code or '-'}"
    return (f"{e.created_at:%Y-%m-%d %H:%M:%S}Z {e.user_principal_name or '-'} -> {e.app_display_name or e.app_id} "
            f"[{method}] ca={e.conditional_access_status} {outcome}")


def cmd_audit_signins(args: argparse.Namespace) -> None:
    where = []
    if args.user:
        where.append(Comparison("userPrincipalName", "eq", args.user.strip()))
    if args.app:
        where.append(Comparison("appId", "eq", args.app.strip()))
    events = signin_list(where=where, limit=args.limit, succeeded=False if args.failures else None)[::-1]
    _emit(args, [signin_as_dict(e) for e in events], lambda: [_signin_line(e) for e in events] or ["(no sign-ins)"])


def cmd_audit_purge_signins(args: argparse.Namespace) -> None:
    with transaction.atomic():
        deleted = signin_purge(older_than_days=args.older_than_days)
        audit_record(category=Category.SYSTEM, activity="signIns.purge", actor=_system_actor(),
                     details={"olderThanDays": args.older_than_days, "deleted": deleted})
    _emit(args, {"deleted": deleted, "olderThanDays": args.older_than_days},
          lambda: [f"Deleted {deleted} sign-in event{'s' if deleted != 1 else ''} older than "
                   f"{args.older_than_days} days."])



# --- apps ---------------------------------------------------------------------------------------------

def _read_jwks(path: str | None) -> object:
    if path is None:
        return None
    raw = _read_file(path, "JWKS file")
    try:
        return strict_loads(raw, what=f"JWKS file {path!r}")
    except UnusableText as exc:
        raise InvalidInput(f"JWKS file {path!r}: {exc.message}", code=exc.code) from None
    except InvalidInput as exc:
        raise InvalidInput(exc.message, code="invalid_jwks") from None


def _app_lines(app: Any, secret: str | None = None) -> list[str]:
    lines = [f"  Application (client) ID:  {app.app_id}"]
    if secret:
        lines += [f"  Client secret:            {secret}",
                  "                            (shown once: store it now; Passgate keeps only its hash)"]
    if app.permissions:
        lines += [f"  Permissions:              {', '.join(app.permissions)}",
                  f"  Token endpoint:           {token_endpoint()}",
                  "  Scope:                    https://graph.microsoft.com/.default"]
    if app.is_oidc_client:
        lines += [f"  OpenID Connect:           {app.client_type} client, token endpoint authentication "
                  f"{app.token_endpoint_auth_method}, ID tokens {app.id_token_signed_response_alg}",
                  "  PKCE:                     " + ("required (S256)" if app.require_pkce
                                                    else "S256, or a nonce (RFC 9700 section 2.1.1)"),
                  "  Device code grant:        " + ("allowed (RFC 8628)" if app.allow_device_code else "not allowed"),
                  *(f"  Redirect URI:             {uri}" for uri in app.redirect_uris),
                  *(f"  Post-logout redirect URI: {uri}" for uri in app.post_logout_redirect_uris),
                  f"  Scopes:                   {' '.join(app.allowed_scopes)}",
                  f"  Discovery:                {oidc_discovery_url()}"]
    lines += [f"  Identifier URI:           {uri}" for uri in app.identifier_uris]
    lines += [f"  API scope:                {s['value']} ({s['type']}, {'enabled' if s['isEnabled'] else 'disabled'})"
              for s in app.api_scopes]
    return lines


def cmd_apps_list(args: argparse.Namespace) -> None:
    apps = app_list()
    _emit(args, [app_as_dict(a) for a in apps], lambda: [
        f"{a.display_name:<32} {a.app_id}  {', '.join(a.permissions) or '(no permissions)'}"
        + (f"  OpenID Connect ({a.client_type})" if a.is_oidc_client else "")
        for a in apps] or ["(no apps)"])


def cmd_apps_show(args: argparse.Namespace) -> None:
    app = app_get(key=args.app)
    _emit(args, app_as_dict(app), lambda: [app.display_name, *_app_lines(app)])


def cmd_apps_remove(args: argparse.Namespace) -> None:
    app = app_get(key=args.app)
    app_remove(app=app, actor=_system_actor())
    print(f"Removed app {app.display_name} ({app.app_id}); its secret and tokens no longer work")


# --- signing keys -------------------------------------------------------------------------------------------

def _key_dict(info: KeyInfo) -> dict[str, Any]:
    return {"kid": info.kid, "alg": info.alg, "createdDateTime": info.created_at.isoformat(),
            "retiredDateTime": info.retired_at.isoformat() if info.retired_at else None,
            "current": info.retired_at is None, "published": info.published}


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    row = signing_key_rotate(alg=args.alg, actor=_system_actor())
    data = {"kid": row.kid, "alg": row.alg, "createdDateTime": row.created_at.isoformat()}
    _emit(args, data, lambda: [
        f"New current {row.alg} signing key {row.kid}",
        "  The previous one is retired: still published in the JWKS for an hour (until its tokens expire)."])


def cmd_keys_list(args: argparse.Namespace) -> None:
    infos = signing_key_list()
    _emit(args, [_key_dict(i) for i in infos], lambda: [
        f"{i.alg:<6} {i.kid:<44} created {i.created_at:%Y-%m-%d %H:%M}Z  "
        + ("current" if i.retired_at is None else f"retired {i.retired_at:%Y-%m-%d %H:%M}Z")
        + ("" if i.published else "  (no longer published)")
        for i in infos] or ["(no signing keys yet: one of each algorithm is made on first use)"])


# --- FIDO Metadata Service ------------------------------------------------------------------------------

def _read_file(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{what} {path!r}: {exc.strerror or exc}", code="unreadable_file") from None


def _mds_result(args: argparse.Namespace, row: MetadataBlob, snapshot: MetadataSnapshot,
                flagged: int | None = None) -> None:
    data = {"no": row.no, "nextUpdate": row.next_update.isoformat(), "stale": snapshot.stale,
            "entries": row.entries, "importedAt": row.imported_at.isoformat(), "sha256": row.sha256,
            "source": row.source, "passkeysFlagged": flagged}
    _emit(args, data, lambda: [
        f"MDS3 BLOB no={row.no} in force: {row.entries} authenticator models, next update {row.next_update}"
        + (" (STALE: past its nextUpdate; refresh it)" if snapshot.stale else ""),
        *([f"{flagged} registered passkey(s) of models it no longer trusts were flagged: passgate mds flagged"]
          if flagged else []),
    ])


def cmd_mds_import(args: argparse.Namespace) -> None:
    blob = _read_file(args.file, "BLOB file")
    crls = [_read_file(path, "CRL file") for path in args.crl]
    row, snapshot, flagged = metadata_import(blob=blob, source=args.file, crls=crls, actor=_system_actor())
    _mds_result(args, row, snapshot, flagged)


def cmd_mds_refresh(args: argparse.Namespace) -> None:
    blob = mds_download(args.url)
    row, snapshot, flagged = metadata_import(blob=blob, source=args.url, actor=_system_actor())
    _mds_result(args, row, snapshot, flagged)


def cmd_mds_flagged(args: argparse.Namespace) -> None:
    rows = list(flagged_passkeys())
    data = [{"id": str(p.pk), "user": p.user.user_principal_name, "displayName": p.display_name,
             "aaGuid": str(p.aaguid), "model": p.model_name, "status": p.metadata_status,
             "flaggedDateTime": p.metadata_revoked_at.isoformat() if p.metadata_revoked_at else None} for p in rows]
    _emit(args, data, lambda: [
        f"{d['user']:<32} {d['displayName']:<24} {d['status']:<28} {d['aaGuid']}" for d in data]
        or ["No passkey of an untrusted model."])


def cmd_mds_status(args: argparse.Namespace) -> None:
    row = current_blob()
    if row is None:
        _emit(args, None, lambda: ["No metadata BLOB imported yet: passgate mds import FILE (or mds refresh)"])
        return
    snapshot = snapshot_of(row)
    stale = timezone.now().date() > row.next_update
    _mds_result(args, row, replace(snapshot, stale=stale))


# --- OpenID Connect housekeeping ---------------------------------------------------------------------------

def cmd_oidc_purge(args: argparse.Namespace) -> None:
    deleted = oidc_purge(older_than=timedelta(days=args.older_than_days))
    audit_record(category=Category.SYSTEM, activity="oidc.purge", actor=_system_actor(),
                 details={"olderThanDays": args.older_than_days, "deleted": deleted})
    _emit(args, {"deleted": deleted}, lambda: [f"Deleted {deleted} expired authorization code(s), token(s) and "
                                               f"grant(s) older than {args.older_than_days} day(s)"])


# --- back-off counters ------------------------------------------------------------------------------------

def cmd_throttle_purge(args: argparse.Namespace) -> None:
    with transaction.atomic():
        deleted = throttle_purge()
        audit_record(category=Category.SYSTEM, activity="throttle.purge", actor=_system_actor(),
                     details={"deleted": deleted})
    _emit(args, {"deleted": deleted}, lambda: [f"Deleted {deleted} back-off counter{'s' if deleted != 1 else ''} "
                                               "with nothing left to remember."])


# --- demo relying party -------------------------------------------------------------------------------------

DEMO_APP_NAME = "Passgate demo app"


def demo_registration(base_url: str) -> Any:
    """The demo's app registration (a public client), made the first time; the same one on later runs."""
    callback = f"{base_url}/callback"
    for app in AppRegistration.objects.filter(display_name=DEMO_APP_NAME).order_by("created_at"):
        if callback in app.redirect_uris:
            return app
    app, _ = app_create(display_name=DEMO_APP_NAME, permissions=[], actor=_system_actor(),
                        oidc=OidcRegistration(redirect_uris=(callback,), post_logout_redirect_uris=(f"{base_url}/",),
                                              public=True))
    return app


def cmd_demo_app(args: argparse.Namespace) -> None:
    issuer = (args.passgate or settings.PASSGATE.origin).rstrip("/")
    if not issuer.startswith(("http://", "https://")):
        raise InvalidInput(f"--passgate: {issuer!r} is not an http(s) URL")
    base_url = f"http://localhost:{args.port}"
    app = demo_registration(base_url)
    print(f"Demo app registered with Passgate as a public client: {app.app_id}")
    print(f"Open {base_url}/ and choose 'Sign in with Passgate' (Passgate at {issuer} must be running).", flush=True)

    connections.close_all()  # the registration is made; the demo itself never reads Passgate's database
    try:
        server = demo_server(args.host, args.port, DemoApp(issuer=issuer, client_id=str(app.app_id),
                                                           base_url=base_url))
    except OSError as exc:
        raise InvalidInput(f"can't listen on {args.host}:{args.port}: {exc.strerror}") from None
    serve_until_stopped(server)
    print("demo-app: stopped", flush=True)
