#!/usr/bin/env python3
"""Bytes per frame and kB/s at 30 fps of every avatar stream the device can send, next to
a 720p H.264 video of the same clip: seed 000's "minimal bandwidth" claim, quantified.

Streams measured on the payloads our own encoders produce for the clip's landmarks:
binary MQTT avatar frame, JSON MQTT avatar frame, TCP JSON line, VMC OSC bundle (UDP).
MQTT adds its fixed header and topic to every publish (counted here as the PUBLISH packet
size at QoS 0); UDP/IP and TCP/IP headers are left out for all, as for the video.

    .venv/bin/python tools/bandwidth.py ../shared/data/navya_squat_form/correct/squat_correct_strongher_side.mp4
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "edge"))

from gymcorner.avatar.codec import encode_binary  # noqa: E402
from gymcorner.avatar.codec_json import encode_json  # noqa: E402
from gymcorner.commands.offline import record_clip  # noqa: E402
from gymcorner.config import Config  # noqa: E402
from gymcorner.pipeline import Pipeline  # noqa: E402
from gymcorner.transport.tcp import encode_line  # noqa: E402
from gymcorner.transport.vmc import build_bundle, vmc_messages  # noqa: E402

FPS = 30.0


def mqtt_publish_size(topic: str, payload_len: int) -> int:
    """Size of an MQTT 3.1.1 PUBLISH packet at QoS 0: fixed header + topic + payload."""
    remaining = 2 + len(topic.encode()) + payload_len
    length_bytes = 1 if remaining < 128 else 2 if remaining < 16384 else 3
    return 1 + length_bytes + remaining


def h264_kbps(video: Path, live: bool = False) -> tuple[float, float] | None:
    """(kB/s, seconds) of the clip encoded at 720p H.264 (libx264, crf 23, preset veryfast);
    `live` adds `-tune zerolatency`, what a live stream would use (no B-frames, no look-ahead)."""
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "720p.mp4"
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", str(video), "-an", "-vf",
             "scale=-2:720", "-r", str(FPS), "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
             *(["-tune", "zerolatency"] if live else []), str(out)],
            check=True,
        )  # fmt: skip
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(out)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        seconds = float(json.loads(probe.stdout)["format"]["duration"])
        return out.stat().st_size / seconds / 1000.0, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", help="a clip (its landmarks are estimated first)")
    parser.add_argument("--json", help="write the table as JSON")
    args = parser.parse_args()
    video = Path(args.video)
    config = Config()
    recording = record_clip(config, str(video), None, quiet=True)
    pipeline = Pipeline(config)
    topic = f"{config.mqtt.base_topic}/{config.device.id}/avatar"
    sizes: dict[str, list[int]] = {"MQTT binary": [], "MQTT JSON": [], "TCP JSON line": [], "VMC (OSC bundle)": []}
    for sample in recording.samples():
        frame = pipeline.process(sample).avatar
        if not frame.present:
            continue
        binary, as_json = encode_binary(frame), encode_json(frame)
        sizes["MQTT binary"].append(mqtt_publish_size(topic, len(binary)))
        sizes["MQTT JSON"].append(mqtt_publish_size(topic, len(as_json)))
        sizes["TCP JSON line"].append(len(encode_line("avatar", as_json)))
        sizes["VMC (OSC bundle)"].append(len(build_bundle(vmc_messages(frame))))
    rows = []
    for name, values in sizes.items():
        per_frame = float(np.mean(values))
        rows.append(
            {
                "stream": name,
                "bytes_per_frame": round(per_frame, 1),
                "kB_per_s_at_30fps": round(per_frame * FPS / 1000, 2),
            }
        )
    for live, label in (
        (False, "720p H.264 video (crf 23, file)"),
        (True, "720p H.264 video (crf 23, live: zerolatency)"),
    ):
        rate = h264_kbps(video, live)
        if rate is not None:
            rows.append(
                {
                    "stream": label,
                    "bytes_per_frame": round(rate[0] * 1000 / FPS, 1),
                    "kB_per_s_at_30fps": round(rate[0], 2),
                }
            )
    print(f"clip {video.name}, {sum(1 for s in recording.samples() if s.present)} frames with a person\n")
    print("| stream | bytes per frame | kB/s at 30 fps |\n|---|---|---|")
    for r in rows:
        print(f"| {r['stream']} | {r['bytes_per_frame']:.0f} | {r['kB_per_s_at_30fps']:.1f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
