"""The one base of every config model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Base of every config model: unknown keys rejected, no type coercion, values validated on
    assignment. Strict, because a coerced value hides a mistake ('realtime = "yes"' would
    read as true, 'port = "1883"' as a number); a TOML integer is still accepted where a
    float belongs, and a string where a file path belongs (TOML has no path type)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False, strict=True)
