"""One exception hierarchy for the product.

Library exceptions (OpenCV, MediaPipe, paho, pydantic) are caught at the boundary and
re-raised as one of these `from err`. Callers branch on `reason`, never on message text;
the CLI prints `str(err)` as one line and exits non-zero.
"""

from __future__ import annotations

import enum


class Reason(enum.Enum):
    CONFIG_INVALID = "config_invalid"
    SOURCE_NOT_FOUND = "source_not_found"
    SOURCE_UNREADABLE = "source_unreadable"
    SOURCE_LOST = "source_lost"
    DEPENDENCY_MISSING = "dependency_missing"  # an optional package a configured part needs
    MODEL_MISSING = "model_missing"
    FRAME_INVALID = "frame_invalid"
    BACKEND_UNKNOWN = "backend_unknown"
    RECORDING_INVALID = "recording_invalid"
    BROKER_UNREACHABLE = "broker_unreachable"
    COMMAND_INVALID = "command_invalid"
    LLM_UNREACHABLE = "llm_unreachable"
    LLM_TIMEOUT = "llm_timeout"
    LLM_BAD_REPLY = "llm_bad_reply"
    HISTORY_UNAVAILABLE = "history_unavailable"  # the database is locked, corrupt, unreachable or full
    HISTORY_CONFLICT = "history_conflict"  # a duplicate member name, a strap already paired
    HISTORY_NOT_FOUND = "history_not_found"  # no such member or session


class GymcornerError(Exception):
    """Base of every error the product raises on purpose."""

    reason: Reason = Reason.CONFIG_INVALID

    def __init__(self, message: str, reason: Reason | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class ConfigError(GymcornerError):
    reason = Reason.CONFIG_INVALID


class SourceError(GymcornerError):
    reason = Reason.SOURCE_UNREADABLE


class ModelError(GymcornerError):
    reason = Reason.MODEL_MISSING


class FrameError(GymcornerError, ValueError):
    """An image the pose backend cannot take (wrong dtype or shape): a caller's bug, not a model failure."""

    reason = Reason.FRAME_INVALID


class RecordingError(GymcornerError):
    reason = Reason.RECORDING_INVALID


class CommandError(GymcornerError):
    reason = Reason.COMMAND_INVALID


class LlmError(GymcornerError):
    """The LLM server could not give a usable reply in time (the coach falls back to templates)."""

    reason = Reason.LLM_BAD_REPLY


class HistoryError(GymcornerError):
    """The history database refused or could not do something (gymcorner.history)."""

    reason = Reason.HISTORY_UNAVAILABLE
