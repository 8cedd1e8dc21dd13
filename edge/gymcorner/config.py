"""Typed configuration: one pydantic model per concern, loaded from TOML.

Every model forbids unknown keys, so a misspelt key is an error rather than a silently
ignored setting. `load_config` turns pydantic's errors into `ConfigError`, whose message
names the file, the key path, the bad value, what was expected and, for unknown keys,
the closest known key ("did you mean ...?").
"""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from gymcorner.coach.exercises import AUTO, ExerciseSetting
from gymcorner.coach.exercises import setting as exercise_setting
from gymcorner.errors import ConfigError
from gymcorner.wearables.settings import WearablesConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "configs" / "default.toml"


class Section(BaseModel):
    """Base of every config model: unknown keys rejected, no type coercion, values validated on
    assignment. Strict, because a coerced value hides a mistake ('realtime = "yes"' would
    read as true, 'port = "1883"' as a number); a TOML integer is still accepted where a
    float belongs, and a string where a file path belongs (TOML has no path type)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False, strict=True)


class DeviceConfig(Section):
    id: str = Field(
        "corner-1",
        title="Device id",
        description="Unique per device; every MQTT topic carries it.",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
    )


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
    min_detection_confidence: float = Field(0.5, ge=0, le=1)
    min_tracking_confidence: float = Field(0.5, ge=0, le=1)
    max_input_side_px: int = Field(
        1280,
        ge=128,
        le=4096,
        description="Frames larger than this are downscaled before inference (litert: its crops are "
        "sampled at 2x and area-averaged instead, the frame is never resized).",
    )
    num_threads: int = Field(
        2, ge=1, le=64, description="CPU threads of the LiteRT interpreters (litert backend; XNNPACK runs on them)."
    )

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
    beta: float = Field(20.0, ge=0, le=1000, description="One Euro: speed coefficient (per body size per second, image plane).")
    d_cutoff_hz: float = Field(1.0, gt=0, le=30, description="One Euro: cutoff of the speed estimate.")


class ViewConfig(Section):
    """Frontal vs lateral camera view, with hysteresis.

    The body's yaw to the camera (shoulder and hip lines, world landmarks) decides: a
    person square to the camera (or with their back to it) is seen frontally, one turned
    side-on laterally. An image test (the hip between the feet) must also hold
    before a frontal view is taken.
    """

    frontal_max_yaw_deg: float = Field(
        35.0, ge=0, le=90, description="Frontal when the body is within this many degrees of square-on."
    )
    lateral_min_yaw_deg: float = Field(
        42.0, ge=0, le=90, description="Lateral when the body is turned at least this far from square-on."
    )
    square_on_width_ratio: float = Field(
        1.1,
        gt=0,
        le=5,
        description="(shoulder span + hip span) / torso length of a person square to the camera.",
    )
    hip_between_feet_margin: float = Field(
        0.25, ge=0, le=2, description="Frontal needs the hip midpoint within the ankles, ± this × ankle span."
    )
    hold_frames: int = Field(8, ge=1, le=300, description="Frames a new view must persist before it is taken.")
    min_visibility: float = Field(0.5, ge=0, le=1, description="Shoulders and hips need this visibility to judge.")

    @model_validator(mode="after")
    def _ordered(self) -> "ViewConfig":
        if self.lateral_min_yaw_deg <= self.frontal_max_yaw_deg:
            raise ValueError("lateral_min_yaw_deg must be greater than frontal_max_yaw_deg (the hysteresis band)")
        return self


class SquatConfig(Section):
    """Squat form thresholds. Spans are in shoulder widths (frontal) or femur lengths
    (lateral), so they scale with the person and their distance to the camera."""

    narrow_stance_delta_w: float = Field(
        0.25, ge=0, le=2, description="Narrow stance when ankle span < shoulder width × (1 - Δw)."
    )
    narrow_stance_hold_frames: int = Field(3, ge=1, le=300, description="Narrow stance: consecutive observations.")
    knee_varus_delta_k: float = Field(
        0.55, ge=0, le=2, description="Knee varus when knee span > ankle span + Δk × shoulder width."
    )
    knee_varus_hold_frames: int = Field(10, ge=1, le=300, description="Knee varus: consecutive frames.")
    knee_valgus_delta: float = Field(
        0.35, ge=0, le=1, description="Valgus when knee span < ankle span × (1 - Δ): the knees cave in."
    )
    knee_valgus_hold_frames: int = Field(10, ge=1, le=300)
    knee_valgus_min_flexion_deg: float = Field(
        45.0, ge=0, le=150, description="Knee cave is judged only once the knees bend this far."
    )
    squat_min_knee_flexion_deg: float = Field(
        35.0, ge=0, le=150, description="Knee flexion from which the person counts as squatting (descent begins)."
    )
    rep_top_knee_flexion_deg: float = Field(
        20.0, ge=0, le=90, description="Back below this flexion, the descent is over and its depth is judged."
    )
    trunk_lean_over_shin_max_deg: float = Field(
        34.0,
        ge=0,
        le=90,
        description="Lateral: 'forward lean' when the trunk leans this much further from vertical than the shins.",
    )
    trunk_lean_hold_frames: int = Field(5, ge=1, le=300)
    depth_min_knee_flexion_deg: float = Field(
        75.0, ge=0, le=180, description="Lateral: a descent whose deepest knee flexion stays below this is 'shallow'."
    )
    knees_over_toes_femur: float = Field(
        0.75, ge=0, le=3, description="Lateral: knee ahead of the toes by more than this × femur length."
    )
    knees_over_toes_hold_frames: int = Field(5, ge=1, le=300)


class PushupConfig(Section):
    """Push-up form: body line judged during each rep, depth at its bottom."""

    hips_sag_line: float = Field(
        0.05, gt=0, le=1, description="Hips sag when the hip hangs this far below the shoulder-ankle line (× its length)."
    )
    hips_pike_line: float = Field(
        0.12, gt=0, le=1, description="Hips pike when the hip rises this far above the line (× its length)."
    )
    hold_frames: int = Field(5, ge=1, le=300, description="Consecutive frames a body-line fault must hold.")
    depth_tolerance_upper_arm: float = Field(
        0.6, ge=0, le=2, description="Shoulders may stop this far (× upper-arm length) above elbow height."
    )
    side_on_max_ratio: float = Field(
        0.25, gt=0, le=1, description="Body line judged only when shoulder span / body length is below this (side view)."
    )


class RepsConfig(Section):
    """Repetition counting: the live phase state machine and the offline peak counter."""

    min_excursion: float = Field(
        0.35, gt=0, le=2, description="A rep must move the phase this far from the start level (1 = nominal range)."
    )
    return_fraction: float = Field(
        0.35, gt=0, lt=1, description="A rep ends when the phase is back within this fraction of its excursion."
    )
    min_depth: float = Field(
        0.6, ge=0, le=2, description="A movement that never reaches this phase is a partial rep, not counted."
    )
    max_start_phase: float = Field(
        0.5, ge=0, le=2, description="A rep may only begin from a start level this close to the nominal start position."
    )
    start_window_s: float = Field(4.0, gt=0, le=60, description="The start level is the lowest phase in this window.")
    ready_s: float = Field(0.3, ge=0, le=10, description="Be tracked this long before reps count (walking in).")
    max_gap_s: float = Field(1.0, gt=0, le=30, description="Landmarks hidden longer than this abandon the rep in progress.")
    min_visibility: float = Field(0.5, ge=0, le=1, description="Joints below this visibility do not feed the phase.")
    offline_sigma_s: float = Field(0.12, gt=0, le=2, description="Offline counter: Gaussian smoothing of the distance signal.")
    offline_min_prominence: float = Field(
        0.6, gt=0, le=10, description="Offline counter: a rep rises this far (torso lengths) from the start pose and back."
    )


class CoachConfig(Section):
    # The validator below turns TOML's string into the enum first, so the field also
    # accepts its strings when the models are made strict.
    exercise: ExerciseSetting = Field(
        AUTO,
        description="Exercise analysed; 'auto' follows the exercise recogniser (no form rules until it is sure).",
    )

    @field_validator("exercise", mode="before")
    @classmethod
    def _known_exercise(cls, value: object) -> ExerciseSetting:
        return exercise_setting(value)

    min_visibility: float = Field(
        0.6, ge=0, le=1, description="Landmarks below this visibility never take part in a rule."
    )
    cooldown_s: float = Field(4.0, ge=0, le=600, description="Minimum time between two events of one code.")
    view: ViewConfig = Field(default_factory=ViewConfig)
    squat: SquatConfig = Field(default_factory=SquatConfig)
    pushup: PushupConfig = Field(default_factory=PushupConfig)
    reps: RepsConfig = Field(default_factory=RepsConfig)
    reference_file: Path | None = Field(
        None,
        strict=False,
        description="Gold reference rep (gymcorner reference record); each rep is compared with it."
    )
    reference_min_tolerance: float = Field(
        0.6,
        gt=0,
        le=10,
        description="A rep differs from the reference beyond this L2 distance (torso lengths), or 1.5× the "
        "spread of the reference video's own reps if larger.",
    )
    messages: dict[str, str] = Field(
        default_factory=dict, description="Override the text of an event code, e.g. knee_valgus = '...'."
    )


class AvatarConfig(Section):
    format: Literal["binary", "json"] = Field("binary", description="Payload of the avatar topic.")
    head_x_min: float = Field(-0.44, ge=-2, le=0, description="Head yaw: x at 90° to the left.")
    head_x_max: float = Field(0.44, ge=0, le=2, description="Head yaw: x at 90° to the right.")
    head_intervals: int = Field(18, ge=2, le=360, description="Head yaw: number of intervals.")
    head_step_deg: float = Field(10.0, gt=0, le=90, description="Head yaw: rotation per interval.")
    slerp_k: float = Field(1.0, gt=0, le=1, description="Limb rotations: slerp factor (1 = follow at once).")
    every_n_frames: int = Field(1, ge=1, le=30, description="Publish one avatar frame in this many.")


class MqttConfig(Section):
    enabled: bool = Field(True, description="Publish to an MQTT broker.")
    host: str = Field("localhost", min_length=1)
    port: int = Field(1883, ge=1, le=65535)
    base_topic: str = Field("gymcorner", pattern=r"^[A-Za-z0-9_/-]+$", description="Topics are <base>/<device id>/...")
    client_id: str | None = Field(None, description="Defaults to gymcorner-<device id>.")
    keepalive_s: int = Field(30, ge=5, le=3600)
    tls: bool = Field(False)
    ca_file: Path | None = Field(None, strict=False, description="CA bundle for TLS (system store when unset).")
    username: str | None = None
    password: SecretStr | None = Field(None, description="Prefer password_file or password_env.")
    password_file: Path | None = Field(
        None, strict=False, description="File holding the password (systemd credential)."
    )
    password_env: str | None = Field("GYMCORNER_MQTT_PASSWORD", description="Environment variable with the password.")
    avatar_queue_frames: int = Field(8, ge=1, le=1000, description="Avatar frames buffered before the oldest drop.")
    feedback_queue_events: int = Field(10000, ge=10, le=1_000_000, description="Feedback kept while offline.")
    reconnect_min_delay_s: float = Field(1.0, gt=0, le=60)
    reconnect_max_delay_s: float = Field(30.0, gt=0, le=3600)

    def resolve_password(self) -> str | None:
        """Password from file, then environment, then inline; never logged."""
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").strip()
            except OSError as err:
                raise ConfigError(f"mqtt.password_file: cannot read {self.password_file}: {err.strerror}") from err
        if self.password_env and os.environ.get(self.password_env):
            return os.environ[self.password_env]
        return self.password.get_secret_value() if self.password is not None else None


class TcpLinkConfig(Section):
    """The TCP JSON-lines link (a plain socket to Unity); see docs/protocol.md."""

    enabled: bool = Field(
        False,
        description="Serve the MQTT payloads as JSON lines on a TCP port. Off by default: the socket has "
        "no authentication or TLS, so opening it on a gym LAN is a deliberate choice.",
    )
    bind_host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="Address to listen on. The default, loopback, serves apps on this host only. "
        "'0.0.0.0' (every interface) or a LAN address is an explicit choice: the link has no "
        "authentication or TLS, so anyone on that network can read every pose and event.",
    )
    port: int = Field(9870, ge=0, le=65535, description="TCP port (0: any free port, for tests).")
    max_clients: int = Field(8, ge=1, le=256, description="Connections beyond this are refused.")
    avatar_backlog_frames: int = Field(
        4, ge=1, le=1000, description="A client with this many avatar lines unsent skips new frames."
    )
    client_buffer_bytes: int = Field(
        262144, ge=4096, le=64 * 1024 * 1024, description="A client with this much unsent data is dropped."
    )
    drop_after_skipped_frames: int = Field(
        150, ge=1, le=100_000, description="A client that skipped this many avatar frames in a row is dropped."
    )


class VmcConfig(Section):
    """VMC (Virtual Motion Capture protocol, OSC over UDP) output of the avatar's bones."""

    enabled: bool = Field(False, description="Send bones to a VMC receiver (EVMC4U, VSeeFace...).")
    host: str = Field("127.0.0.1", min_length=1, description="Receiver address.")
    port: int = Field(39539, ge=1, le=65535, description="Receiver UDP port (39539 is VMC's default).")


class HomeAssistantConfig(Section):
    """Home Assistant MQTT discovery of the device's sensors."""

    enabled: bool = Field(False, description="Publish MQTT discovery configs (retained) on every connect.")
    discovery_prefix: str = Field(
        "homeassistant", pattern=r"^[A-Za-z0-9_/-]+$", description="Home Assistant's discovery prefix."
    )
    heart_rate_topic: str | None = Field(
        None,
        description="Topic of the heart-rate JSON (field 'bpm'); default <base>/<device>/wearables/heart_rate.",
    )


class LinksConfig(Section):
    """Links to host apps besides the MQTT topics: TCP JSON lines, VMC, Home Assistant."""

    tcp: TcpLinkConfig = Field(default_factory=TcpLinkConfig)
    vmc: VmcConfig = Field(default_factory=VmcConfig)
    homeassistant: HomeAssistantConfig = Field(default_factory=HomeAssistantConfig)


class EmotionConfig(Section):
    """Facial emotion, once a second off the frame path: face -> 64x64 -> 7 FER classes."""

    enabled: bool = Field(False, description="Run the emotion recogniser (needs `gymcorner models fetch`).")
    interval_s: float = Field(1.0, ge=0.1, le=60, description="Frame time between two recognitions (seed: 1 s).")
    min_face_score: float = Field(0.5, ge=0, le=1, description="Face detector score below which no face is taken.")
    crop_scale: float = Field(
        1.15, ge=0.5, le=3, description="Face crop side / detected face box side (chosen on FER2013 PublicTest)."
    )
    crop_offset_y: float = Field(
        -0.05, ge=-0.5, le=0.5, description="Crop centre shift in face box heights (negative: up, towards the brows)."
    )
    flip_average: bool = Field(True, description="Average the classifier over the crop and its mirror image.")
    hold_intervals: int = Field(4, ge=1, le=600, description="Consecutive intervals of one emotion that make an event.")
    messages: dict[str, str] = Field(
        default_factory=lambda: {"fear": "Keep going!"},
        description="Emotion (FER class) -> what the coach says when it holds for hold_intervals.",
    )
    debug_crops_dir: Path | None = Field(
        None,
        strict=False,
        description="Debug only: write every face crop here. Off by default; crops never leave the device."
    )


class LlmConfig(Section):
    """LLM coach on a LAN server (Ollama, llama.cpp server): OpenAI-compatible /v1/chat/completions."""

    enabled: bool = Field(False, description="Ask the LLM for coaching (template text when it cannot answer).")
    base_url: str = Field("http://gymcorner-llm.local:11434/v1", description="API root (Ollama's port is 11434).")
    model: str = Field("llama3.2:3b", min_length=1, description="Model name the server knows.")
    api_key_env: str | None = Field("GYMCORNER_LLM_API_KEY", description="Environment variable with a bearer key.")
    timeout_s: float = Field(4.0, gt=0, le=60, description="Hard limit for a whole reply; then the template is used.")
    min_interval_s: float = Field(10.0, ge=0, le=3600, description="Minimum time between two coach messages.")
    max_tokens: int = Field(60, ge=8, le=1024, description="Reply length limit (a cue, not an essay).")
    temperature: float = Field(0.6, ge=0, le=2)


class MotivationConfig(Section):
    """Emotion recognition and natural-language coaching."""

    emotion: EmotionConfig = Field(default_factory=EmotionConfig)
    llm: LlmConfig = Field(default_factory=LlmConfig)
    speak: bool = Field(False, description="Speak feedback with espeak-ng on the device's speaker (form first).")
    speak_voice: str = Field("en", min_length=1, max_length=32, description="espeak-ng voice (`espeak-ng --voices`).")
    speak_words_per_minute: int = Field(165, ge=80, le=400, description="espeak-ng speaking rate.")


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


class GpioConfig(Section):
    """The box's status LED, button and optional buzzer (BCM pin numbers; gpiozero).

    Where no GPIO exists (a laptop, a container) the daemon logs one line and runs without."""

    enabled: bool = Field(True, description="Drive the LED/button/buzzer when this machine has GPIO.")
    pin_factory: str | None = Field(
        None,
        description="gpiozero pin factory ('lgpio', 'rpigpio', 'pigpio', 'native', 'mock'); gpiozero picks when unset.",
    )
    led_pin: int | None = Field(17, ge=0, le=53, description="Status LED (BCM); unset for none.")
    button_pin: int | None = Field(
        27, ge=0, le=53, description="Button to ground (BCM, internal pull-up); unset for none."
    )
    buzzer_pin: int | None = Field(None, ge=0, le=53, description="Active buzzer pulsed on a form fault (BCM).")
    long_press_s: float = Field(2.0, gt=0, le=30, description="Hold this long for a long press (calibration).")
    buzz_s: float = Field(0.15, gt=0, le=5, description="Length of the buzzer pulse on a form fault.")


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


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
        tail = f"; did you mean '{'.'.join(str(p) for p in loc[:-1] + (hint[0],))}'?" if hint else ""
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
        raise ConfigError(f"{path}: {what} is not UTF-8 text (bad byte at offset {err.start}); "
                          "TOML files are UTF-8") from err
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
            raise ConfigError(f"{source}: {table} = {node!r}: expected a table ([{table}]), "
                              f"so {dotted} cannot be applied to it")
    node[leaf] = value
