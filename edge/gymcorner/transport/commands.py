"""Incoming commands on `<base>/<device>/cmd`: the v1 schema and its validation.

Why a strict schema: the cmd topic is writable by any client of the gym's broker, so every
payload is untrusted input. It is bounded in size, parsed as JSON, checked against a pydantic
model that rejects unknown keys and coercions, and only then turned into a frozen `Command`
for the frame loop. Anything else becomes one `InvalidCommand` with a one-line reason that
the publisher sends back on `cmd/reply`; the daemon itself never sees it.

Wire format (see docs/protocol.md): `{"v": 1, "id": "<caller's id>", "cmd": "<name>",
"args": {...}}` with `args` optional when a command takes none.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gymcorner.coach.exercises import Exercise, selectable
from gymcorner.errors import CommandError

PROTOCOL_VERSION = 1
MAX_COMMAND_BYTES = 16 * 1024
MAX_ID_CHARS = 128
MAX_REASON_CHARS = 200
MAX_MEMBER_KEY_CHARS = 200  # a name key can outgrow its display name (casefold: "ß" -> "ss")


class CommandName(str, enum.Enum):
    """Commands a device accepts; the value is the wire name."""

    PING = "ping"
    STATUS = "status"
    RESET_SESSION = "reset_session"
    SET_EXERCISE = "set_exercise"
    STOP_SESSION = "stop_session"
    START_SESSION = "start_session"


class _Strict(BaseModel):
    """No unknown keys, no type coercion ("1" is not 1), immutable once parsed."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoArgs(_Strict):
    """Commands without arguments still reject stray keys, so typos are reported."""


class SetExerciseArgs(_Strict):
    exercise: Exercise = Field(description="Exercise the coach analyses from now on.")

    @field_validator("exercise", mode="before")
    @classmethod
    def _selectable(cls, value: object) -> Exercise:
        if not isinstance(value, str):  # strict: no coercion of numbers or lists
            raise ValueError(f"must be a string, got {type(value).__name__}")
        return selectable(value)


class StartSessionArgs(_Strict):
    """Who trains next: `member` (a display name, else an id: what the box's own dashboard
    and apps send) or `member_key` (a name only, never an id: what a chain's dashboard sends,
    whose member ids are not the box's), or neither (a guest)."""

    member: str | None = Field(
        None, min_length=1, max_length=64, description="Member's display name or id; absent: a guest session."
    )
    member_key: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_MEMBER_KEY_CHARS,
        description="Member by name only (case and spaces ignored: the name key a chain's server keys members by); "
        "a name of digits is never read as an id.",
    )

    @field_validator("member_key")
    @classmethod
    def _a_name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must name a member, not only spaces")
        return value

    @model_validator(mode="after")
    def _one_member(self) -> StartSessionArgs:
        if self.member is not None and self.member_key is not None:
            raise ValueError("give member or member_key, not both")
        return self


ARGS_MODELS: dict[CommandName, type[_Strict]] = {
    CommandName.PING: NoArgs,
    CommandName.STATUS: NoArgs,
    CommandName.RESET_SESSION: NoArgs,
    CommandName.SET_EXERCISE: SetExerciseArgs,
    CommandName.STOP_SESSION: NoArgs,
    CommandName.START_SESSION: StartSessionArgs,
}


class _Envelope(_Strict):
    v: int
    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    cmd: str = Field(min_length=1, max_length=64)
    args: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Command:
    """A validated command, queued for the frame loop (`MqttPublisher.poll_commands`).

    `args` holds the validated arguments as plain values (e.g. {"exercise": "squat"}).
    The frame loop acts on it and answers with `MqttPublisher.reply(command, ok, ...)`.
    """

    id: str
    name: CommandName
    args: dict[str, Any] = field(default_factory=dict)


class InvalidCommand(CommandError):
    """A rejected payload; `command_id` is the sender's id when one could be read, so the
    error reply can still be matched to its request."""

    def __init__(self, message: str, command_id: str | None = None) -> None:
        super().__init__(_one_line(message))
        self.command_id = command_id


def parse_command(payload: bytes) -> Command:
    """Validate one raw MQTT payload into a `Command`, or raise `InvalidCommand`."""
    if len(payload) > MAX_COMMAND_BYTES:
        raise InvalidCommand(f"payload too large ({len(payload)} bytes > {MAX_COMMAND_BYTES})")
    data = _decode_json(payload)
    if not isinstance(data, dict):
        raise InvalidCommand(f"payload must be a JSON object, got {type(data).__name__}")
    raw_id = data.get("id")
    command_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_ID_CHARS else None
    version = data.get("v")
    if "v" not in data:
        raise InvalidCommand("missing key 'v' (protocol version)", command_id)
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise InvalidCommand(
            f"unsupported protocol version {_short(version)} (this device speaks v{PROTOCOL_VERSION})",
            command_id,
        )
    try:
        envelope = _Envelope.model_validate(data)
    except ValidationError as err:
        raise InvalidCommand(_first_error(err), command_id) from err
    try:
        name = CommandName(envelope.cmd)
    except ValueError as err:
        known = ", ".join(n.value for n in CommandName)
        raise InvalidCommand(f"unknown command {_short(envelope.cmd)} (known: {known})", command_id) from err
    try:
        args = ARGS_MODELS[name].model_validate(envelope.args)
    except ValidationError as err:
        raise InvalidCommand(f"{name.value}: {_first_error(err, prefix='args')}", command_id) from err
    return Command(id=envelope.id, name=name, args=args.model_dump())


def _decode_json(payload: bytes) -> Any:
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidCommand(f"payload is not UTF-8 text (bad byte at offset {err.start})") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidCommand(f"payload is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}") from err
    except (ValueError, RecursionError) as err:  # e.g. 5,000-digit integers, nesting too deep
        raise InvalidCommand(f"payload is not usable JSON: {type(err).__name__}") from err


def _first_error(err: ValidationError, prefix: str = "") -> str:
    """One pydantic error as 'key.path: message' (further errors summarised by a count)."""
    errors = err.errors(include_url=False, include_input=False)
    first = errors[0]
    path = ".".join(str(p) for p in ((prefix,) if prefix else ()) + tuple(first.get("loc", ())))
    message = "unknown key" if first.get("type") == "extra_forbidden" else first.get("msg", "invalid")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{path or '(payload)'}: {message}{more}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_REASON_CHARS else flat[: MAX_REASON_CHARS - 3] + "..."
