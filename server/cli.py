"""The ``ibasho`` command: serve, migrate, createuser, demo, backup, restore, export-group, forget-person,
grants (import, export, check)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path


def _use_data_dir(data_dir: str | None) -> None:
    """Must run before any server module reads the settings."""
    if data_dir:
        os.environ["IBASHO_DATA_DIR"] = str(Path(data_dir).resolve())


def cmd_migrate(args: argparse.Namespace) -> int:
    from server import db

    if args.backwards:
        asyncio.run(db.migrate_backwards(args.backwards))
    else:
        asyncio.run(db.migrate_forwards())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server import db
    from server.config import get_settings
    from server.web.secret_urls import uvicorn_log_config

    asyncio.run(db.migrate_forwards())
    if args.demo:
        from server.ops.demo import load_demo_if_empty

        asyncio.run(load_demo_if_empty())
    settings = get_settings()
    where = "SQLite " + str(settings.sqlite_path) if settings.is_sqlite else "PostgreSQL"
    print(f"ibasho: serving http://{args.host}:{args.port}/ ({where})", flush=True)
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        log_level=args.log_level,
        log_config=uvicorn_log_config(),  # secret tokens in URLs never reach the logs
    )
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    from getpass import getpass

    from server import db
    from server.auth.accounts import CreateUserError, create_user

    password = getpass() if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    asyncio.run(db.migrate_forwards())
    try:
        asyncio.run(
            create_user(
                login=args.login,
                password=password,
                role=args.role,
                display_name=args.name or args.login,
                areas=args.area,
                groups=args.group,
                create_missing=args.create_missing,
            )
        )
    except CreateUserError as error:
        print(f"ibasho createuser: {error}", file=sys.stderr)
        return 2
    print(f"created {args.role} {args.login}")
    return 0


def cmd_set_password(args: argparse.Namespace) -> int:
    from getpass import getpass

    from server import db
    from server.auth.credentials import set_password_of
    from server.auth.passwords import password_problem

    password = getpass() if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if (problem := password_problem(password)) is not None:
        print(f"ibasho set-password: {problem}", file=sys.stderr)
        return 2
    asyncio.run(db.migrate_forwards())
    if asyncio.run(set_password_of(args.login, password)) is None:
        print(f"ibasho set-password: no account {args.login!r}", file=sys.stderr)
        return 2
    print(f"new password set for {args.login}; its logins have ended")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server import db
    from server.ops.demo import load_demo

    asyncio.run(db.migrate_forwards())
    asyncio.run(load_demo(force=args.force))
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from server.ops.backup import BackupError, backup

    try:
        target = backup(Path(args.output) if args.output else None)
    except BackupError as error:
        print(f"ibasho backup: {error}", file=sys.stderr)
        return 2
    print(f"backup written to {target}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from server.ops.backup import BackupError, restore

    try:
        restored = restore(Path(args.file))
    except BackupError as error:
        print(f"ibasho restore: {error}", file=sys.stderr)
        return 2
    print(f"restored {args.file} into {restored or 'the PostgreSQL database in DATABASE_URL'}")
    return 0


async def _group_id(name_or_id: str):
    from uuid import UUID

    from server.tables import Group

    try:
        return UUID(name_or_id)
    except ValueError:
        row = await Group.select(Group.id).where(Group.name == name_or_id).first()
        return row["id"] if row else None


def cmd_export_group(args: argparse.Namespace) -> int:
    from server.data_rights.records import NotFound, export_group

    async def run() -> bytes | None:
        group_id = await _group_id(args.group)
        try:
            return await export_group(group_id) if group_id else None
        except NotFound:
            return None

    data = asyncio.run(run())
    if data is None:
        print(f"ibasho export-group: no group {args.group!r}", file=sys.stderr)
        return 2
    Path(args.output).write_bytes(data)
    print(f"group export written to {args.output}")
    return 0


def cmd_forget_person(args: argparse.Namespace) -> int:
    from uuid import UUID

    from server.data_rights.records import NotFound, forget_person

    try:
        summary = asyncio.run(forget_person(UUID(args.person_id)))
    except (ValueError, NotFound):
        print(f"ibasho forget-person: no person {args.person_id}", file=sys.stderr)
        return 2
    print(
        f"erased the personal data of person {args.person_id}: "
        + ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in summary.items())
    )
    return 0


def cmd_grants(args: argparse.Namespace) -> int:
    from server import db
    from server.grants import commands

    async def run() -> int:
        with contextlib.redirect_stdout(sys.stderr):  # stdout is for the programme's JSON
            await db.migrate_forwards()
        if args.action == "import":
            return await commands.import_file(args.file)
        if args.action == "export":
            return await commands.export_programme(args.name, args.output)
        return await commands.check(args.programme, args.group, args.year)

    return asyncio.run(run())


def cmd_vapid(args: argparse.Namespace) -> int:
    from server.reminders.vapid import ensure_key, load_vapid

    path, created = ensure_key()
    print(f"VAPID key {'created' if created else 'already exists'}: {path}")
    print(f"public key (applicationServerKey): {load_vapid().application_server_key}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ibasho", description="ibasho server and tools")
    parser.add_argument("--data-dir", help="where the SQLite database and keys live (default ./data)")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply migrations, then serve the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (use PostgreSQL for more than one)")
    serve.add_argument("--demo", action="store_true", help="load the demo council if the database is empty")
    serve.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-* from --forwarded-allow-ips")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply all migrations (or undo them)")
    migrate.add_argument("--backwards", metavar="MIGRATION_ID", help="undo down to this migration id, or 'all'")
    migrate.set_defaults(func=cmd_migrate)

    createuser = commands.add_parser("createuser", help="create an account; the password is read from stdin")
    createuser.add_argument("login")
    createuser.add_argument("--role", required=True, choices=["admin", "staff", "organiser"])
    createuser.add_argument("--name", help="display name (default: the login)")
    createuser.add_argument(
        "--area",
        action="append",
        default=[],
        help="area name (staff; repeatable), or the area of a group --create-missing makes",
    )
    createuser.add_argument("--group", action="append", default=[], help="group name (organiser); repeatable")
    createuser.add_argument("--create-missing", action="store_true", help="create named areas/groups that do not exist")
    createuser.set_defaults(func=cmd_createuser)

    set_password = commands.add_parser(
        "set-password", help="give an account a new password (read from stdin); its logins end"
    )
    set_password.add_argument("login")
    set_password.set_defaults(func=cmd_set_password)

    demo = commands.add_parser("demo", help="load the demo council and print its logins")
    demo.add_argument("--force", action="store_true", help="load even if the database already has data")
    demo.set_defaults(func=cmd_demo)

    backup = commands.add_parser("backup", help="write a consistent copy of the database (PostgreSQL: pg_dump)")
    backup.add_argument("--output", help="file to write (default: data/backups/ibasho-<time>.sqlite or .dump)")
    backup.set_defaults(func=cmd_backup)

    restore = commands.add_parser("restore", help="load a backup into a new, empty database (server stopped)")
    restore.add_argument("file")
    restore.set_defaults(func=cmd_restore)

    export = commands.add_parser("export-group", help="write one group's records as a zip (JSON and CSV)")
    export.add_argument("group", help="the group's id or exact name")
    export.add_argument("--output", required=True, help="the zip file to write")
    export.set_defaults(func=cmd_export_group)

    forget = commands.add_parser("forget-person", help="erase a participant's personal data, keeping the tallies")
    forget.add_argument("person_id")
    forget.set_defaults(func=cmd_forget_person)

    grants = commands.add_parser("grants", help="grant programmes: import, export, check a group's year")
    actions = grants.add_subparsers(dest="action", required=True)
    grants_import = actions.add_parser("import", help="add a programme from its JSON file, or replace one of its name")
    grants_import.add_argument("file")
    grants_export = actions.add_parser("export", help="print a programme's JSON (docs/grants.md)")
    grants_export.add_argument("name", help="the programme's exact name or id")
    grants_export.add_argument("--output", help="write it to this file instead")
    grants_check = actions.add_parser(
        "check", help="print a group's computation for a fiscal year; exit 1 if a requirement is not met"
    )
    grants_check.add_argument("--programme", required=True, help="the programme's exact name or id")
    grants_check.add_argument("--group", required=True, help="the group's exact name or id")
    grants_check.add_argument("--year", required=True, type=int, help="the fiscal year, e.g. 2025 for 令和7年度")
    grants.set_defaults(func=cmd_grants)

    vapid = commands.add_parser("vapid", help="make the Web Push (VAPID) key pair once and print its public key")
    vapid.set_defaults(func=cmd_vapid)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _use_data_dir(args.data_dir)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
