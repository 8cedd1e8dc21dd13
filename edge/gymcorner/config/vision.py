"""Frames and pose: the camera or file, the pose backend, smoothing, model files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from gymcorner.config.base import Section


class SourceConfig(Section):
    uri: str = Field(
        "0",
        title="Frame source",
        description=(
            "Camera index ('0'), device path ('/dev/video0'), video file, rtsp/http URL, "
            "'picamera2:0' (Raspberry Pi camera module) or 'gst:<pipeline ending in appsink>' (Jetson CSI)."
        ),
    )
    width: int | None = Field(None, ge=16, le=7680, description="Requested capture width (live sources).")
    height: int | None = Field(None, ge=16, le=4320, description="Requested capture height (live sources).")
    fps: float | None = Field(None, gt=0, le=240, description="Requested capture rate (live sources).")
    realtime: bool = Field(
        False,
        description="Pace video files at their own frame rate (as a camera would deliver them).",
    )
    loop: bool = Field(False, description="Restart a video file at its end (demos, soak tests).")
    open_timeout_s: float = Field(10.0, gt=0, le=120, description="How long to wait for the first frame.")
    reconnect_delay_s: float = Field(2.0, gt=0, le=60, description="Wait before reopening a lost live source.")


def auto_threads() -> int:
    """Half the CPU cores this process may run on (its affinity, so a cpuset or taskset counts), 1 to 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(4, cores // 2))


class PoseConfig(Section):
    backend: str = Field(
        "litert",
        description=(
            "Pose backend: 'litert' (BlazePose's networks on LiteRT, the default) or 'mediapipe' "
            "(the mediapipe package's graph, the reference for parity tests; Python < 3.13)."
        ),
    )
    model_complexity: Literal[0, 1, 2] = Field(
        1, description="BlazePose model: 0 lite, 1 full, 2 heavy (the litert backend runs the full model only)."
    )
    min_detection_confidence: float = Field(
        0.5, ge=0, le=1, description="Person-detector score a detection needs to start tracking."
    )
    min_tracking_confidence: float = Field(
        0.5, ge=0, le=1, description="Pose presence below this drops the track; the next frame runs the detector."
    )
    max_input_side_px: int = Field(
        1280,
        ge=128,
        le=4096,
        description="Frames larger than this are downscaled before inference (litert: its crops are "
        "sampled at 2x and area-averaged instead, the frame is never resized).",
    )
    num_threads: int = Field(
        0,
        ge=0,
        le=64,
        description="CPU threads of the LiteRT interpreters (litert backend; XNNPACK runs on them). 0: half the "
        "cores this process may use, 1 to 4 (a Pi's 4 cores: 2; on 2 cores the network takes one and decoding, the "
        "coach and the dashboard share the other).",
    )
    landmark_workers: int = Field(
        1,
        ge=1,
        le=4,
        description="litert: landmark networks that run side by side on consecutive frames (with `ahead`), "
        "each on num_threads threads and ~40 MB. Frame n's crop then comes from the track of frame n - N, which "
        "costs landmark accuracy in fast moves and, since the network lost its mask head, no longer buys fps on "
        "2 cores. 1: one network, frame after frame (docs/litert_parity.md has the figures).",
    )
    ahead: bool = Field(
        True,
        description="Estimate the next frame's pose on a thread of its own while the frame loop coaches "
        "this one (frames keep their order; a camera frame is at most one frame older). Off: one frame at a time.",
    )

    @property
    def threads(self) -> int:
        """`num_threads`, with 0 resolved for this machine."""
        return self.num_threads or auto_threads()

    @field_validator("model_complexity", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        """`true` equals 1 in Python, so even a strict Literal[0, 1, 2] would take it."""
        if isinstance(value, bool):
            raise ValueError("expected 0, 1 or 2, not a boolean")
        return value


class SmoothingConfig(Section):
    filter: Literal["one_euro", "moving_average", "none"] = Field(
        "one_euro", description="Landmark filter (see docs/smoothing.md for the measurements)."
    )
    window_frames: int = Field(7, ge=1, le=60, description="Moving-average window, frames.")
    min_cutoff_hz: float = Field(0.7, gt=0, le=30, description="One Euro: cutoff at rest.")
    beta: float = Field(
        20.0, ge=0, le=1000, description="One Euro: speed coefficient (per body size per second, image plane)."
    )
    d_cutoff_hz: float = Field(1.0, gt=0, le=30, description="One Euro: cutoff of the speed estimate.")


class ModelsConfig(Section):
    """Where the network files live (BlazePose, face, emotion): `gymcorner models fetch` fills it."""

    dir: Path | None = Field(
        None,
        strict=False,
        description=(
            "Model folder. Unset: $GYMCORNER_MODELS_DIR, else models/ beside the virtual environment "
            "(the checkout's models/, or /opt/gymcorner/models on a device)."
        ),
    )
