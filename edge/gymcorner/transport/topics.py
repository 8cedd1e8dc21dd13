"""The MQTT contract shared by the daemon's client and its stand-in in a child process:
the topics of one device and the checks of what a caller may publish.

`MqttPublisher` (`transport/mqtt.py`) and `MqttProcess` (`transport/mqtt_process.py`) both
run these checks in the caller, so a bad value raises where it was made, whichever of the
two carries the message. docs/protocol.md documents the topics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gymcorner.transport.commands import MAX_ID_CHARS
from gymcorner.transport.intake import dumps

StatusState = Literal["online", "offline"]
_RESERVED_STATUS = frozenset({"v", "state", "device", "boot"})
_RESERVED_REPLY = frozenset({"v", "id", "cmd", "ok", "device"})


@dataclass(frozen=True)
class Topics:
    """Every topic of one device; the device id is in each so many devices share a broker."""

    status: str
    avatar: str
    feedback: str
    session: str
    cmd: str
    cmd_reply: str

    @classmethod
    def for_device(cls, base_topic: str, device_id: str) -> Topics:
        root = f"{base_topic.rstrip('/')}/{device_id}"
        return cls(
            status=f"{root}/status",
            avatar=f"{root}/avatar",
            feedback=f"{root}/feedback",
            session=f"{root}/session",
            cmd=f"{root}/cmd",
            cmd_reply=f"{root}/cmd/reply",
        )



def check_status(state: str, fields: Mapping[str, Any]) -> None:
    """ValueError unless `state` and `fields` make a valid status (the caller's mistake)."""
    if state not in ("online", "offline"):
        raise ValueError(f"status state must be 'online' or 'offline', not {state!r}")
    if _RESERVED_STATUS & fields.keys():
        raise ValueError(f"status fields may not set {sorted(_RESERVED_STATUS & fields.keys())}")
    dumps(fields)  # not JSON: raise here


def check_feedback_id(event_id: Any) -> None:
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_ID_CHARS:
        raise ValueError(f"feedback id must be a non-empty string of at most {MAX_ID_CHARS} characters")


def check_subtopic(subtopic: str) -> None:
    if not subtopic or subtopic.startswith("/") or any(c in subtopic for c in "+#\0"):
        raise ValueError(f"not a sub-topic: {subtopic!r}")


def check_reply_fields(fields: Mapping[str, Any]) -> None:
    if _RESERVED_REPLY & fields.keys():
        raise ValueError(f"reply fields may not set {sorted(_RESERVED_REPLY & fields.keys())}")
    dumps(fields)
