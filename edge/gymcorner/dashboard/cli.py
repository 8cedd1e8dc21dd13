"""`gymcorner dashboard` (serve it) and `gymcorner dashboard user add NAME --role R`.

The password of a new user is read from `--password-file` or standard input (a terminal
is asked twice, without echo), never from the command line, where `ps` and the shell's
history would show it. The installer pipes the first admin's password in this way.

Which database: `--data-dir D` (the box's file D/history.sqlite3), else `--database URL`
or `[dashboard] database` (a chain's PostgreSQL server), else `[history] path`. A server
that cannot be reached at start is one line and exit status 1 (`__main__`), before
anything listens.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gymcorner.errors import ConfigError, HistoryError


def add_parser(sub: Any) -> None:
    dash = sub.add_parser(
        "dashboard",
        help="the web dashboard: members, history charts, plans (login required)",
        description="Serve the dashboard (binds 127.0.0.1 unless [dashboard] host or --host says otherwise), "
        "or manage its users. See docs/dashboard.md.",
    )
    _where(dash)
    dash.add_argument("--host", help="address to listen on (default: [dashboard] host, 127.0.0.1)")
    dash.add_argument("--port", type=int, help="TCP port (default: [dashboard] port, 8090)")
    dsub = dash.add_subparsers(dest="dashboard_command", metavar="ACTION")
    user = dsub.add_parser("user", help="dashboard users (not members): add one, list them")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = usub.add_parser(
        "add", help="a new user; the password from --password-file or standard input", allow_abbrev=False
    )
    add.add_argument("name", help="login name")
    add.add_argument("--role", required=True, choices=("admin", "trainer", "member"))
    add.add_argument("--member", help="for --role member: the member (display name or id) this login sees")
    add.add_argument("--password-file", metavar="FILE", help="read the password from FILE (its first line)")
    add.add_argument("--if-absent", action="store_true", help="do nothing when the user exists (installers)")
    _where(add)
    lst = usub.add_parser("list", help="every dashboard user and role")
    _where(lst)
    dash.set_defaults(func=cmd_dashboard)


def _where(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", metavar="FILE", help="TOML config ([dashboard], [history] path)")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--data-dir", metavar="D", help="folder of the history file (D/history.sqlite3; default: [history] path)"
    )
    which.add_argument(
        "--database",
        metavar="URL",
        help="a chain's postgresql:// server: every box's members and sessions (default: [dashboard] database)",
    )


def _database(args: argparse.Namespace, config: Any) -> Path | str:
    """The box's history file (a Path) or a chain's server (a postgresql:// URL)."""
    from gymcorner.config.history import HISTORY_FILE, default_history_path
    from gymcorner.history import is_url

    if args.data_dir:
        return Path(args.data_dir) / HISTORY_FILE
    if args.database:
        if not is_url(args.database):
            raise ConfigError(f"--database {args.database}: must be a postgresql:// URL (a file: --data-dir)")
        return str(args.database)
    return config.dashboard.database or default_history_path(config.history.path)


def read_password(path: str | None) -> str:
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"{path}: cannot read the password file: {err.strerror}") from err
        return text.splitlines()[0] if text.strip() else ""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise HistoryError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_dashboard(args: argparse.Namespace, _stop: Any) -> int:
    from gymcorner.config import load_config

    config = load_config(args.config)
    db = _database(args, config)
    if args.dashboard_command == "user":
        return _users(args, db, config)
    cfg = config.dashboard
    host = args.host or cfg.host
    port = args.port or cfg.port
    import uvicorn

    from gymcorner.dashboard.app import build_app
    from gymcorner.dashboard.corner import CornerLink
    from gymcorner.history import is_url
    from gymcorner.history.postgres import redact

    on_box = not is_url(db)  # a chain's server has no corner of its own: [dashboard.chain_mqtt] reaches its boxes
    corner = (
        CornerLink(config.mqtt, config.device.id, cfg.command_timeout_s) if on_box and config.mqtt.enabled else None
    )
    app = build_app(db, cfg, corner=corner)  # a server out of reach: HistoryError, one line
    tls: dict[str, Any] = {}
    if cfg.tls_cert and cfg.tls_key:
        tls = {"ssl_certfile": str(cfg.tls_cert), "ssl_keyfile": str(cfg.tls_key)}
    what = f"history {db}" if on_box else f"the chain's server {redact(str(db))}"
    if not on_box and cfg.chain_mqtt.enabled:
        what += f"; sessions start on its boxes through {cfg.chain_mqtt.host}:{cfg.chain_mqtt.port}"
    print(f"dashboard: http{'s' if tls else ''}://{host}:{port}/ ({what})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, **tls)
    return 0


def _users(args: argparse.Namespace, db: Path | str, config: Any) -> int:
    from gymcorner.history import open_store
    from gymcorner.history.users import add_user, find_user, list_users

    store = open_store(db, config.history.lock_timeout_s)
    try:
        if args.user_command == "list":
            for u in list_users(store):
                print(f"{u.name:<24} {u.role}" + (f" (member {u.member_id})" if u.member_id else ""))
            return 0
        if args.if_absent and find_user(store, args.name) is not None:
            print(f"dashboard user {args.name!r} exists; unchanged")
            return 0
        member_id = store.find_member(args.member).id if args.member else None
        user = add_user(store, args.name, args.role, read_password(args.password_file), member_id)
        print(f"added dashboard user {user.name!r} ({user.role})")
        return 0
    finally:
        store.close()
