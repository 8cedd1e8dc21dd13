"""`gymcorner doctor`: one line per check, pass / FAIL / skip, and for a failure the fix.

What a person asks when the box in the corner misbehaves: does the camera deliver, are
the model files there and intact, can it reach and log in to the broker, is there a
Bluetooth adapter, does the ESP32 relay answer, does the LLM server answer, is the disk
full, is the Pi too hot or throttled. Checks are declared as data (name, function) and
each function returns a `Result`; none raises, and each has its own short timeout, so
one dead part never hides the others. Exit status 1 when any check fails.
"""

from __future__ import annotations

import argparse
import enum
import glob
import hashlib
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gymcorner.vision.models import MODELS, default_models_dir, model_path

if TYPE_CHECKING:
    from gymcorner.config import Config

MIN_FREE_BYTES = 1 << 30
MAX_CPU_TEMP_C = 80.0
TIMEOUT_S = 3.0


class Status(enum.Enum):
    PASS = "pass"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Result:
    status: Status
    detail: str
    fix: str = ""

    def line(self, name: str) -> str:
        tail = f"  -> fix: {self.fix}" if self.status is Status.FAIL and self.fix else ""
        return f"[{self.status.value}] {name:<11} {self.detail}{tail}"


def ok(detail: str) -> Result:
    return Result(Status.PASS, detail)


def fail(detail: str, fix: str) -> Result:
    return Result(Status.FAIL, detail, fix)


def skip(detail: str) -> Result:
    return Result(Status.SKIP, detail)


# ------------------------------------------------------------------------ checks


# Which source a board's camera needs: OpenCV cannot open the libcamera or Jetson CSI ones.
BOARD_SOURCES = (
    "Pi 5 / Pi 4 camera module: picamera2:0; Jetson CSI camera: "
    "'gst:nvarguscamerasrc ! nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! appsink'; "
    "USB webcam: 0 or /dev/video0"
)
# What to look at first, by source kind (gymcorner.vision.sources.source_kind).
CAMERA_FIXES: dict[str, str] = {
    "camera": "check the cable and `ls /dev/video*`; the service user needs the 'video' group",
    "gst": (
        "try the pipeline with `gst-launch-1.0` (fakesink in place of appsink); "
        "the service user needs the 'video' group"
    ),
    "picamera2": (
        "`rpicam-hello --list-cameras` must list the index; check the ribbon cable; "
        "the service user needs the 'video' group"
    ),
    "url": "check the stream's address, credentials and network (e.g. `ffprobe URL`)",
    "file": "check the video file's path",
}


def check_camera(config: Config) -> Result:
    from gymcorner.errors import GymcornerError, Reason
    from gymcorner.vision.sources import FrameTimeout, open_source, source_kind

    uri = config.source.uri
    try:
        kind = source_kind(uri.strip())
    except GymcornerError as err:
        return fail(f"{uri}: {err}", f"set [source] uri; {BOARD_SOURCES}")
    first = CAMERA_FIXES.get(kind, "check [source] uri")
    fix = f"{first}; set [source] uri (now {uri!r}) to the board's camera: {BOARD_SOURCES}"
    try:
        source = open_source(
            config.source.model_copy(
                update={"realtime": False, "loop": False, "open_timeout_s": min(config.source.open_timeout_s, 5.0)}
            )
        )
    except GymcornerError as err:
        if err.reason is Reason.DEPENDENCY_MISSING:  # the message says what to install
            return fail(str(err), f"install what it names, or use another source: {BOARD_SOURCES}")
        return fail(f"{uri}: {err}", fix)
    try:
        frame = source.read(timeout_s=5.0)
    except (FrameTimeout, GymcornerError) as err:
        return fail(f"{source.description}: no frame ({err})", fix)
    finally:
        source.close()
    if frame is None:
        return fail(f"{source.description}: opened but delivered no frame", fix)
    height, width = frame.image.shape[:2]
    return ok(f"{source.description} delivers {width}x{height} frames")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_pose_model(config: Config) -> Result:
    """The pose backend's networks: pinned files in the models folder, or the reference package."""
    if config.pose.backend == "mediapipe":
        try:
            from gymcorner.vision.mediapipe_pose import model_paths

            paths = model_paths(config.pose.model_complexity)
        except ImportError:
            return fail(
                "mediapipe not installed",
                "pip install --no-deps -r requirements/reference.txt, or pose.backend = 'litert'",
            )
        missing = [p for p in paths if not p.is_file()]
        if missing:
            return fail(
                f"missing {missing[0]}", "install mediapipe 0.10.21 (x86-64) / 0.10.18 (aarch64), which ship them"
            )
        sums = ", ".join(f"{p.name} {_sha256(p)[:12]}" for p in paths)
        return ok(f"BlazePose files of the mediapipe package: {sums}")
    result = _check_model_files(config, [n for n in MODELS if n.startswith("pose_")], "BlazePose", needed=True)
    if result.status is not Status.PASS:
        return result
    from gymcorner.vision.blazepose.runtime import underived_pose_models

    folder = default_models_dir(config.models.dir)
    underived = underived_pose_models(folder)
    if underived:  # it runs all the same: rewritten in memory at each start
        return ok(
            f"{result.detail}; no derived file for {', '.join(underived)}: rewritten in memory at each start "
            f"(about 20 MB more resident), `gymcorner models fetch --dir {folder}` writes them"
        )
    return ok(f"{result.detail}, derived files intact")


def check_models(config: Config) -> Result:
    names = [n for n in MODELS if not n.startswith("pose_")]
    return _check_model_files(config, names, "face/emotion", needed=config.motivation.emotion.enabled)


def _check_model_files(config: Config, names: list[str], what: str, needed: bool) -> Result:
    from gymcorner.errors import GymcornerError

    folder = default_models_dir(config.models.dir)
    try:
        for name in names:
            model_path(folder, name)
    except GymcornerError as err:
        problem = str(err).split(";")[0]
        if not needed:
            return skip(f"{problem} (not needed: emotion off)")
        return fail(problem, f"gymcorner models fetch --dir {folder}")
    return ok(f"{len(names)} {what} models in {folder}, SHA-256 verified")


def check_broker(config: Config) -> Result:
    mqtt = config.mqtt
    if not mqtt.enabled:
        return skip("MQTT disabled in config")
    from gymcorner.errors import GymcornerError
    from gymcorner.transport.paho_client import client_for

    where = f"{mqtt.host}:{mqtt.port}"
    try:
        client = client_for(mqtt, f"gymcorner-doctor-{config.device.id}")
    except GymcornerError as err:
        return fail(str(err), "check mqtt.password_file, mqtt.ca_file and mqtt.host in the config")
    answer: list[object] = []
    done = threading.Event()
    client.on_connect = lambda _c, _u, _f, reason, _p: (answer.append(reason), done.set())
    try:
        client.connect(mqtt.host, mqtt.port, keepalive=10)
    except OSError as err:
        return fail(f"{where}: {err}", "start the broker (systemctl status mosquitto) or fix mqtt.host/port")
    client.loop_start()
    try:
        done.wait(TIMEOUT_S)
    finally:
        client.disconnect()
        client.loop_stop()
    if not answer:
        return fail(f"{where}: no CONNACK within {TIMEOUT_S:g} s", "check the broker's listener and firewall")
    reason = answer[0]
    if getattr(reason, "is_failure", False):
        return fail(
            f"{where}: refused ({reason})",
            "check mqtt.username and the password in /etc/gymcorner/mqtt-password and the broker's passwd file",
        )
    who = f" as {mqtt.username}" if mqtt.username else " (anonymous)"
    return ok(f"{where} accepted the connection{who}")


def check_bluetooth(config: Config) -> Result:
    adapters = sorted(Path(p).name for p in glob.glob("/sys/class/bluetooth/hci*"))
    needed = config.wearables.source == "ble"
    if adapters:
        return ok(f"adapter {', '.join(adapters)}")
    if not needed:
        return skip("no Bluetooth adapter (not needed: wearables.source is not 'ble')")
    return fail("no Bluetooth adapter", "apt install bluez; check `rfkill list` and that the adapter is enabled")


def check_relay(config: Config) -> Result:
    if config.wearables.source != "serial":
        return skip("ESP32 relay not configured (wearables.source is not 'serial')")
    try:
        import serial

        from gymcorner.wearables.relay_codec import Decoder
        from gymcorner.wearables.serial_source import find_relay_port
    except ImportError as err:
        return fail(f"serial support missing ({err.name})", "pip install pyserial")
    serial_cfg = config.wearables.serial
    port = serial_cfg.port or find_relay_port(serial_cfg.usb_ids)
    if port is None:
        return fail("no ESP32 relay found by USB id", "plug the relay in; set wearables.serial.port")
    decoder = Decoder()
    try:
        with serial.Serial(port, serial_cfg.baudrate, timeout=0.2) as link:
            deadline = time.monotonic() + serial_cfg.heartbeat_timeout_s
            while time.monotonic() < deadline and not decoder.frames:
                decoder.feed(link.read(256))
    except (OSError, serial.SerialException) as err:
        return fail(f"{port}: {err}", "the service user needs the 'dialout' group; check the cable")
    if not decoder.frames:
        return fail(
            f"{port}: no frame within {serial_cfg.heartbeat_timeout_s:g} s",
            "flash the relay firmware (firmware/esp32) and check the baud rate",
        )
    return ok(f"{port}: relay answering ({decoder.frames} frames)")


def check_llm(config: Config) -> Result:
    llm = config.motivation.llm
    if not llm.enabled:
        return skip("LLM coaching off (motivation.llm.enabled = false)")
    import urllib.error
    import urllib.request

    url = llm.base_url.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as reply:
            return ok(f"{llm.base_url} answers (HTTP {reply.status})")
    except (urllib.error.URLError, OSError) as err:
        return fail(
            f"{url}: {getattr(err, 'reason', err)}",
            "start the LLM server (e.g. `ollama serve`) or fix motivation.llm.base_url; "
            "coaching falls back to templates",
        )


def check_disk(config: Config) -> Result:
    folder = Path("/var/lib/gymcorner")
    folder = folder if folder.is_dir() else Path.cwd()
    usage = shutil.disk_usage(folder)
    free = f"{usage.free / 2**30:.1f} GiB free of {usage.total / 2**30:.1f} GiB on {folder}"
    if usage.free < MIN_FREE_BYTES:
        return fail(free, "delete old recordings or logs (journalctl --vacuum-size=100M)")
    return ok(free)


def check_cpu(config: Config, thermal: Path = Path("/sys/class/thermal/thermal_zone0/temp")) -> Result:
    parts = []
    if thermal.is_file():
        temp_c = int(thermal.read_text().strip()) / 1000.0
        parts.append(f"CPU {temp_c:.0f} °C")
        if temp_c >= MAX_CPU_TEMP_C:
            return fail(", ".join(parts), "add a heatsink or fan; keep the box out of direct sun")
    vcgencmd = shutil.which("vcgencmd")
    if vcgencmd:
        out = subprocess.run([vcgencmd, "get_throttled"], capture_output=True, text=True, timeout=TIMEOUT_S).stdout
        flags = int(out.strip().split("=")[-1], 16) if "=" in out else 0
        parts.append(f"throttled={flags:#x}")
        if flags & 0xF:
            return fail(", ".join(parts), "use the official 27 W supply (under-voltage) and cool the Pi")
    if not parts:
        return skip("no CPU temperature sensor or vcgencmd (not a Pi)")
    return ok(", ".join(parts))


CHECKS: tuple[tuple[str, Callable[[Config], Result]], ...] = (
    ("camera", check_camera),
    ("pose model", check_pose_model),
    ("models", check_models),
    ("broker", check_broker),
    ("bluetooth", check_bluetooth),
    ("relay", check_relay),
    ("llm", check_llm),
    ("disk", check_disk),
    ("cpu", check_cpu),
)


def run_checks(config: Config, only: list[str] | None = None) -> list[tuple[str, Result]]:
    results = []
    for name, check in CHECKS:
        if only and name not in only:
            continue
        try:
            result = check(config)
        except Exception as err:  # a check must never take the others down
            result = fail(f"check crashed: {type(err).__name__}: {err}", "report this as a bug")
        results.append((name, result))
    return results


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p = sub.add_parser(
        "doctor",
        help="check camera, models, broker, Bluetooth, relay, LLM, disk, CPU",
        description="One line per check: pass, FAIL (with the fix) or skip. Exit 1 when any check fails.",
    )
    p.add_argument("--config", "-c", metavar="FILE", help="TOML config (e.g. /etc/gymcorner/gymcorner.toml)")
    p.add_argument("--source", "-s", metavar="S", help="camera or video to check instead of source.uri")
    p.add_argument("--only", action="append", choices=[name for name, _ in CHECKS], help="run only these checks")
    return p


def cmd_doctor(args: argparse.Namespace, stop: threading.Event) -> int:
    from gymcorner.config import load_config

    config = load_config(args.config) if args.config else load_config(None)
    if args.source:
        config.source.uri = args.source
    results = run_checks(config, args.only)
    for name, result in results:
        print(result.line(name), flush=True)
    return 1 if any(r.status is Status.FAIL for _, r in results) else 0
