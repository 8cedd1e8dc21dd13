"""The PoseEstimator interface and its backend registry.

A backend is registered under a key with `@register_backend("key")`; its module is
imported lazily by `create_estimator`, so a missing optional dependency only matters
for the backend that needs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from gymcorner.config import PoseConfig
from gymcorner.errors import ConfigError, Reason
from gymcorner.motion.landmarks import PoseSample


class PoseEstimator(Protocol):
    name: str

    def estimate(self, image_bgr: np.ndarray, t_s: float) -> PoseSample:
        """Landmarks of the one person in the frame, or a sample with no person."""

    def close(self) -> None: ...


# A factory gets the pose settings and `[models] dir` (None: the default models folder).
BackendFactory = Callable[[PoseConfig, "Path | None"], PoseEstimator]

_REGISTRY: dict[str, BackendFactory] = {}
# Backends that live in their own module, imported on first use.
_LAZY_MODULES: dict[str, str] = {
    "mediapipe": "gymcorner.vision.mediapipe_pose",
    "litert": "gymcorner.vision.blazepose.backend",
}


def register_backend(key: str) -> Callable[[BackendFactory], BackendFactory]:
    def wrap(factory: BackendFactory) -> BackendFactory:
        _REGISTRY[key] = factory
        return factory

    return wrap


def available_backends() -> list[str]:
    return sorted(set(_REGISTRY) | set(_LAZY_MODULES))


def create_estimator(config: PoseConfig, models_dir: Path | None = None) -> PoseEstimator:
    key = config.backend
    if key not in _REGISTRY and key in _LAZY_MODULES:
        importlib.import_module(_LAZY_MODULES[key])
    if key not in _REGISTRY:
        raise ConfigError(
            f"pose.backend = {key!r}: unknown pose backend (available: {', '.join(available_backends())})",
            Reason.BACKEND_UNKNOWN,
        )
    return _REGISTRY[key](config, models_dir)
