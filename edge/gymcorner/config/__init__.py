"""Typed configuration: one pydantic model per concern, loaded from TOML.

Every model forbids unknown keys, so a misspelt key is an error rather than a silently
ignored setting. `load_config` turns pydantic's errors into `ConfigError`, whose message
names the file, the key path, the bad value, what was expected and, for unknown keys,
the closest known key ("did you mean ...?").
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from gymcorner.config.base import Section
from gymcorner.config.coach import (
    AvatarConfig,
    CoachConfig,
    CurlConfig,
    PlankConfig,
    PushupConfig,
    QualityConfig,
    RepsConfig,
    SetsConfig,
    SquatConfig,
    ViewConfig,
)
from gymcorner.config.dashboard import DashboardConfig
from gymcorner.config.device import DeviceConfig, GpioConfig, LoggingConfig
from gymcorner.config.history import HistoryConfig
from gymcorner.config.links import HomeAssistantConfig, LinksConfig, MqttConfig, TcpLinkConfig, VmcConfig
from gymcorner.config.lunge import LungeConfig
from gymcorner.config.motivation import EmotionConfig, LlmConfig, MotivationConfig
from gymcorner.config.ranges import DipConfig, JumpingJackConfig, PullupConfig
from gymcorner.config.vision import ModelsConfig, PoseConfig, SmoothingConfig, SourceConfig
from gymcorner.config.wearables import WearablesConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib
from gymcorner.errors import ConfigError

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[3] / "configs" / "default.toml"


class Config(Section):
    device: DeviceConfig = Field(default_factory=DeviceConfig)
    source: SourceConfig = Field(default_factory=SourceConfig)
    pose: PoseConfig = Field(default_factory=PoseConfig)
    smoothing: SmoothingConfig = Field(default_factory=SmoothingConfig)
    coach: CoachConfig = Field(default_factory=CoachConfig)
    avatar: AvatarConfig = Field(default_factory=AvatarConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)
    wearables: WearablesConfig = Field(default_factory=WearablesConfig)
    links: LinksConfig = Field(default_factory=LinksConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    gpio: GpioConfig = Field(default_factory=GpioConfig)
    motivation: MotivationConfig = Field(default_factory=MotivationConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)


def _known_keys(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking `path` (the parent of the bad key)."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None or not isinstance(part, str) or part not in current.model_fields:
            return []
        annotation = current.model_fields[part].annotation
        current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return list(current.model_fields) if current is not None else []


def _describe(err: dict[str, Any], source: str) -> str:
    loc = tuple(err.get("loc", ()))
    key_path = ".".join(str(p) for p in loc) or "(top level)"
    value = err.get("input")
    if err.get("type") == "extra_forbidden":
        known = _known_keys(Config, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        tail = f"; did you mean '{'.'.join(str(p) for p in (*loc[:-1], hint[0]))}'?" if hint else ""
        return f"{source}: {key_path}: unknown key{tail} (known here: {', '.join(known)})"
    shown = "******" if "password" in key_path else repr(value)
    return f"{source}: {key_path} = {shown}: {err.get('msg', 'invalid value')}"


def parse_config(data: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a mapping (parsed TOML) into a Config, or raise ConfigError naming every problem."""
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        lines = [_describe(e, source) for e in err.errors(include_url=False)]
        raise ConfigError("\n".join(lines)) from err


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Load the TOML file at `path` (defaults only when None), then apply dotted `overrides`."""
    data: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        p = Path(path)
        source = str(p)
        data = read_toml(p, "config file")
    for dotted, value in (overrides or {}).items():
        _set_dotted(data, dotted, value, source)
    return parse_config(data, source)


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Parse one TOML file; every way it can be unreadable is one ConfigError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: {what} not found") from err
    except OSError as err:
        raise ConfigError(f"{path}: cannot read {what}: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path}: {what} is not UTF-8 text (bad byte at offset {err.start}); TOML files are UTF-8"
        ) from err
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err


def _set_dotted(data: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    """Set `a.b.c` in nested tables; a scalar where a table must be is a ConfigError."""
    node = data
    *parents, leaf = dotted.split(".")
    for depth, part in enumerate(parents, start=1):
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            table = ".".join(parents[:depth])
            raise ConfigError(
                f"{source}: {table} = {node!r}: expected a table ([{table}]), so {dotted} cannot be applied to it"
            )
    node[leaf] = value


__all__ = [
    "DEFAULT_CONFIG_PATH",
    "AvatarConfig",
    "CoachConfig",
    "Config",
    "CurlConfig",
    "DashboardConfig",
    "DeviceConfig",
    "DipConfig",
    "EmotionConfig",
    "GpioConfig",
    "HistoryConfig",
    "HomeAssistantConfig",
    "JumpingJackConfig",
    "LinksConfig",
    "LlmConfig",
    "LoggingConfig",
    "LungeConfig",
    "ModelsConfig",
    "MotivationConfig",
    "MqttConfig",
    "PlankConfig",
    "PoseConfig",
    "PullupConfig",
    "PushupConfig",
    "QualityConfig",
    "RepsConfig",
    "Section",
    "SetsConfig",
    "SmoothingConfig",
    "SourceConfig",
    "SquatConfig",
    "TcpLinkConfig",
    "ViewConfig",
    "VmcConfig",
    "WearablesConfig",
    "load_config",
    "parse_config",
    "read_toml",
]
