"""`gymcorner members ...` and `gymcorner history ...`: the database from the command line.

Every command works on the box's SQLite file (`[history] path`) or, with `--db
postgresql://...`, on a chain's server: the same Store either way. Mistakes (a duplicate
name, a strap paired twice, a locked or corrupt file, no such member) are `HistoryError`s:
one line on stderr, exit status 1 (`__main__`).
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
from pathlib import Path
from typing import Any

from gymcorner.commands.plan import add_plan_options
from gymcorner.errors import HistoryError
from gymcorner.history.store import strap_address

PROFILE_OPTIONS: tuple[tuple[str, str, type, str], ...] = (
    ("--birth-year", "birth_year", int, "year of birth (heart-rate zones derive the age from it)"),
    ("--weight-kg", "weight_kg", float, "body weight, kg"),
    ("--height-cm", "height_cm", float, "height, cm"),
    ("--goal", "goal", str, "strength, hypertrophy, endurance, general_fitness or weight_loss (what plans aim at)"),
    ("--level", "level", str, "beginner, intermediate or advanced"),
    ("--max-hr", "max_hr_bpm", int, "measured maximum heart rate, bpm (unset: derived from the age)"),
    ("--language", "language", str, "language of spoken cues (e.g. en, pt, de)"),
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", metavar="FILE", help="TOML config ([history] path, upload_url)")
    p.add_argument("--db", metavar="PATH|URL", help="a SQLite file or a postgresql:// URL (default: [history] path)")


def _profile(p: argparse.ArgumentParser) -> None:
    for flag, dest, kind, text in PROFILE_OPTIONS:
        p.add_argument(flag, dest=dest, type=kind, default=None, help=text)


def add_parsers(sub: Any) -> None:
    members = sub.add_parser(
        "members",
        help="add, list, edit, delete and export members",
        description="Members of the gym and their data in the history database.",
    )
    msub = members.add_subparsers(dest="members_command", metavar="ACTION", required=True)
    add = msub.add_parser("add", help="a new member (display names are unique, ignoring case)")
    add.add_argument("name", help="display name")
    _profile(add)
    _common(add)
    lst = msub.add_parser("list", help="every member, one line each")
    lst.add_argument("--json", action="store_true", help="as JSON")
    _common(lst)
    edit = msub.add_parser("edit", help="change a member's name or profile")
    edit.add_argument("member", help="display name or id")
    edit.add_argument("--name", help="new display name")
    _profile(edit)
    edit.add_argument("--clear", action="append", default=[], metavar="FIELD", help="unset a profile field")
    _common(edit)
    delete = msub.add_parser(
        "delete", help="delete a member and ALL of their data (sessions, sets, reps, events, notes)"
    )
    delete.add_argument("member", help="display name or id")
    delete.add_argument("--yes", action="store_true", help="required: yes, delete everything of theirs")
    _common(delete)
    export = msub.add_parser("export", help="everything stored about a member, as JSON and CSV files")
    export.add_argument("member", help="display name or id")
    export.add_argument(
        "--out", "-o", required=True, metavar="DIR", help="folder for member.json and one CSV per table"
    )
    _common(export)
    pair = msub.add_parser("pair", help="pair a heart-rate strap with a member (a strap has one member)")
    pair.add_argument("member", help="display name or id")
    pair.add_argument("address", help="the strap's Bluetooth address")
    _common(pair)
    plan = msub.add_parser("plan", help="the member's next sessions from their profile and history, with reasons")
    plan.add_argument("member", help="display name or id")
    add_plan_options(plan)
    _common(plan)
    unpair = msub.add_parser("unpair", help="forget a strap's member")
    unpair.add_argument("address", help="the strap's Bluetooth address")
    _common(unpair)
    members.set_defaults(func=cmd_members)

    history = sub.add_parser(
        "history",
        help="upload sessions to a chain's PostgreSQL server; list sessions",
        description="The box's workout history (docs/history.md).",
    )
    hsub = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    sync = hsub.add_parser("sync", help="upload this box's sessions (idempotent: re-running uploads nothing twice)")
    sync.add_argument("--to", metavar="URL", help="postgresql:// URL (default: [history] upload_url)")
    _common(sync)
    sessions = hsub.add_parser("sessions", help="the stored sessions, newest last")
    sessions.add_argument("--json", action="store_true", help="as JSON")
    _common(sessions)
    history.set_defaults(func=cmd_history)


def _where(args: argparse.Namespace) -> tuple[Any, str | Path]:
    from gymcorner.config import load_config
    from gymcorner.config.history import default_history_path

    config = load_config(args.config)
    return config, args.db or default_history_path(config.history.path)


def _open(args: argparse.Namespace) -> Any:
    from gymcorner.history import is_url, open_store

    config, where = _where(args)
    if not is_url(where) and not Path(where).exists() and args.members_command not in ("add",):
        raise HistoryError(f"no history database at {where} (the daemon or `gymcorner members add` creates it)")
    return open_store(where, config.history.lock_timeout_s)


def cmd_members(args: argparse.Namespace, _stop: Any) -> int:
    store = _open(args)
    try:
        return _members(store, args)
    finally:
        store.close()


def _given(args: argparse.Namespace) -> dict[str, Any]:
    return {dest: getattr(args, dest) for _, dest, _, _ in PROFILE_OPTIONS if getattr(args, dest) is not None}


def _members(store: Any, args: argparse.Namespace) -> int:
    action = args.members_command
    if action == "add":
        member = store.add_member(args.name, **_given(args))
        print(f"added member {member.id}: {member.display_name}")
    elif action == "list":
        found = store.list_members()
        if args.json:
            print(json.dumps([m.to_dict() for m in found], indent=2))
        for m in [] if args.json else found:
            hr = f"max HR {m.max_hr_bpm}" if m.max_hr_bpm else "max HR from age"
            born = f"born {m.birth_year}" if m.birth_year else "no year of birth"
            print(f"{m.id:>4}  {m.display_name:<24} {born}, {m.level or '-'}, {m.goal or '-'}, {hr}")
    elif action == "edit":
        member = store.find_member(args.member)
        fields = _given(args)
        known = {dest for _, dest, _, _ in PROFILE_OPTIONS}
        for name in args.clear:
            if name not in known:
                raise HistoryError(f"--clear {name}: not a member field (one of {', '.join(sorted(known))})")
            fields[name] = None
        member = store.edit_member(member.id, display_name=args.name, **fields)
        print(f"member {member.id}: {member.display_name} updated")
    elif action == "delete":
        member = store.find_member(args.member)
        if not args.yes:
            raise HistoryError(f"deleting {member.display_name!r} removes all of their data: add --yes")
        data = store.member_data(member.id)
        recorded = store.delete_member(member.id)
        chain = "; the chain's server and its other boxes delete them too after the next sync" if recorded else ""
        print(
            f"deleted {member.display_name!r}: {len(data['sessions'])} sessions, {len(data['reps'])} reps, "
            f"{len(data['events'])} events, {len(data['notes'])} notes, {len(data['straps'])} straps{chain}"
        )
    elif action == "export":
        member = store.find_member(args.member)
        from gymcorner.history.landmarks import member_landmarks

        data = {**store.member_data(member.id), "landmarks": member_landmarks(store, member.id)}
        out = export_member(data, Path(args.out))
        print(f"exported {member.display_name!r} to {out}")
    elif action == "pair":
        member = store.find_member(args.member)
        store.pair_strap(args.address, member.id)
        print(f"strap {strap_address(args.address)} paired with {member.display_name!r}")
    elif action == "plan":
        _plan(store, args)
    elif action == "unpair":
        store.unpair_strap(args.address)
        print(f"strap {strap_address(args.address)} unpaired")
    return 0


def _plan(store: Any, args: argparse.Namespace) -> None:
    from gymcorner.commands.plan import print_plan
    from gymcorner.plans.records import ProfileError, history_of, profile_of

    member = store.find_member(args.member)
    data = store.member_data(member.id, events=False)
    try:
        profile = profile_of(data["member"])
    except ProfileError as err:
        raise HistoryError(f"{member.display_name}: {err}") from err
    print_plan(profile, history_of(data), args)


def export_member(data: dict[str, Any], out: Path) -> Path:
    """member.json (everything, JSON columns decoded) and one CSV per table (as stored).

    Landmarks: member.json keeps each chunk as stored (base64 of landmark_codec v1);
    landmarks.csv holds the frames decoded, one a row (metres, visibility 0..1)."""
    out.mkdir(parents=True, exist_ok=True)
    chunks = data.get("landmarks", [])
    decoded = {
        table: [_decode(row) for row in rows]
        for table, rows in data.items()
        if isinstance(rows, list) and table != "landmarks"
    }
    decoded["landmarks"] = [{**c, "data": base64.b64encode(bytes(c["data"])).decode("ascii")} for c in chunks]
    (out / "member.json").write_text(json.dumps({"member": data["member"], **decoded}, indent=2), encoding="utf-8")
    tables: dict[str, list[dict[str, Any]]] = {
        "member": [data["member"]],
        **{k: v for k, v in data.items() if k not in ("member", "landmarks")},
        "landmarks": _landmark_rows(chunks),
    }
    for table, rows in tables.items():
        with (out / f"{table}.csv").open("w", newline="", encoding="utf-8") as fh:
            if not rows:
                continue
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return out


def _landmark_rows(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from gymcorner.history.landmark_codec import LANDMARKS, unpack

    rows = []
    for chunk in chunks:
        frames = unpack(bytes(chunk["data"]))
        for i in range(len(frames)):
            row: dict[str, Any] = {"session_id": chunk["session_id"], "t": round(float(frames.t_s[i]), 3)}
            for n in range(LANDMARKS):
                x, y, z = (round(float(v), 3) for v in frames.world_m[i, n])
                row.update({f"x{n}": x, f"y{n}": y, f"z{n}": z})
            row.update({f"v{n}": round(float(frames.visibility[i, n]), 3) for n in range(LANDMARKS)})
            rows.append(row)
    return rows


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("faults", "quality_deductions", "details"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out


def cmd_history(args: argparse.Namespace, _stop: Any) -> int:
    from gymcorner.history import is_url, open_store

    config, where = _where(args)
    if args.history_command == "sync":
        url = args.to or config.history.upload_url
        if not url or not is_url(url):
            raise HistoryError("history sync needs --to postgresql://... or [history] upload_url")
        if is_url(where):
            raise HistoryError("history sync uploads a box's SQLite file: --db must be a path")
        if not Path(where).exists():
            raise HistoryError(f"no history database at {where}: nothing to upload")
        from gymcorner.history.postgres import open_postgres, redact
        from gymcorner.history.sync import upload

        local = open_store(where, config.history.lock_timeout_s)
        try:
            remote = open_postgres(url)
            try:
                print(upload(local, remote).line(redact(url)))
            finally:
                remote.close()
        finally:
            local.close()
        return 0
    store = open_store(where, config.history.lock_timeout_s)
    try:
        sessions = store.sessions()
    finally:
        store.close()
    if args.json:
        print(json.dumps(sessions, indent=2))
        return 0
    for s in sessions:
        print(f"{s['device_id']}  {s['uuid']}  {s['state']:<11} {s['exercise'] or '-':<10} {s['reps']:>4} reps")
    return 0
