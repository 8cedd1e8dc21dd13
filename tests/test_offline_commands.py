"""`analyze`, `record`, `replay` and `bench` as a user runs them (through the CLI)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from shared_data import clip_path

from gymcorner.cli import main as cli_main

CLIP = "kaiakol_exercises/squat/incorrect/squat_incorrect_003.mp4"  # 38 frames, lateral, forward lean
pytestmark = pytest.mark.model


def no_broker_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "offline.toml"
    cfg.write_text("[mqtt]\nenabled = false\n")
    return cfg


@pytest.mark.shared_data
def test_analyze_writes_json_csv_and_annotated_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = clip_path(CLIP)
    out_json, out_csv, out_mp4 = tmp_path / "a.json", tmp_path / "a.csv", tmp_path / "a.mp4"
    # 1.3 s is shorter than the recogniser takes to be sure, so the exercise is given.
    config = tmp_path / "squat.toml"
    config.write_text('[mqtt]\nenabled = false\n[coach]\nexercise = "squat"\n')
    rc = cli_main(
        [
            "analyze",
            str(video),
            "--config",
            str(config),
            "--json",
            str(out_json),
            "--frames",
            str(out_csv),
            "--annotate",
            str(out_mp4),
            "-q",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "view: lateral" in printed and "posture_incorrect" in printed

    summary = json.loads(out_json.read_text())
    assert {"clip", "frames", "duration_s", "processing_fps", "view", "events"} <= summary.keys()
    assert summary["frames"] == 38 and summary["view"] == "lateral"
    assert summary["duration_s"] == pytest.approx(38 / 30, abs=0.05)
    assert summary["processing_fps"] > 0
    form = [e for e in summary["events"] if e["kind"] == "form"]
    assert [(e["code"], e["reason"]) for e in form] == [("posture_incorrect", "forward_lean")]
    assert [e["code"] for e in summary["events"] if e["kind"] == "rep"] == ["rep"]
    assert all({"t", "code", "text", "kind"} <= e.keys() for e in summary["events"])
    assert summary["reps"] == 1 and summary["exercise"] == "squat"

    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == 38
    assert {r["view"] for r in rows} <= {"unknown", "lateral"}
    assert any("posture_incorrect:forward_lean" in r["faults"] for r in rows)

    cap = cv2.VideoCapture(str(out_mp4))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 38
    ok, first = cap.read()
    cap.release()
    original = cv2.VideoCapture(str(video))
    ok0, raw = original.read()
    original.release()
    assert ok and ok0 and first.shape == raw.shape
    assert float(np.abs(first.astype(int) - raw.astype(int)).mean()) > 0.5  # something was drawn


@pytest.mark.shared_data
def test_record_then_replay_gives_the_same_report(tmp_path: Path) -> None:
    video = clip_path(CLIP)
    rec = tmp_path / "r.npz"
    assert cli_main(["record", str(video), "--out", str(rec), "-q"]) == 0
    assert cli_main(["analyze", str(video), "--json", str(tmp_path / "a.json"), "-q"]) == 0
    assert cli_main(["replay", str(rec), "--json", str(tmp_path / "r.json")]) == 0
    analyzed = json.loads((tmp_path / "a.json").read_text())
    replayed = json.loads((tmp_path / "r.json").read_text())
    for key in ("frames", "view", "facing", "view_frames", "events"):
        assert analyzed[key] == replayed[key], key


def test_no_person_in_frame(tmp_path: Path) -> None:
    video = tmp_path / "empty_room.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (320, 240))
    rng = np.random.default_rng(0)
    for _ in range(25):
        writer.write((rng.random((240, 320, 3)) * 40 + 100).astype(np.uint8))
    writer.release()
    assert cli_main(["analyze", str(video), "--json", str(tmp_path / "e.json"), "-q"]) == 0
    summary = json.loads((tmp_path / "e.json").read_text())
    assert summary["frames"] == 25 and summary["frames_with_person"] == 0
    assert summary["view"] == "unknown" and summary["events"] == []


def test_replay_of_a_bad_file_is_one_clear_error(tmp_path: Path) -> None:
    from gymcorner.errors import RecordingError

    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(RecordingError, match=r"not a readable \.npz recording"):
        cli_main(["replay", str(bad)])
    with pytest.raises(RecordingError, match="recording not found"):
        cli_main(["replay", str(tmp_path / "missing.npz")])


@pytest.mark.shared_data
def test_bench_reports_every_stage(tmp_path: Path) -> None:
    video = clip_path(CLIP)
    out = tmp_path / "b.json"
    rc = cli_main(["bench", str(video), "--config", str(no_broker_config(tmp_path)), "--json", str(out), "-q"])
    assert rc == 0
    result = json.loads(out.read_text())
    assert {"backend", "processing_fps", "stages_ms", "peak_rss_mb", "avatar_bytes_per_frame"} <= result.keys()
    assert result["backend"] == "litert" and result["frames"] == 38
    # the landmark network's own invoke is timed inside pose_model, on every frame
    assert result["model_stages_ms"]["landmark_invoke"]["p50"] > 0
    assert 0 < result["outside_landmark_share"] < 1
    for stage in ("decode", "pose_model", "smooth", "coach", "encode", "publish"):
        assert {"p50", "p95"} <= result["stages_ms"][stage].keys()
        assert result["stages_ms"][stage]["p95"] >= result["stages_ms"][stage]["p50"] >= 0
    sizes = result["avatar_bytes_per_frame"]
    assert 0 < sizes["binary"] <= 300 < sizes["json"]


def test_bench_compare_runs_each_backend_the_peer_loop_and_the_network_alone(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe", reason="the reference backend (requirements/reference.txt, Python < 3.13)")
    video = clip_path(CLIP)
    out = tmp_path / "c.json"
    rc = cli_main(
        [
            "bench",
            str(video),
            "--config",
            str(no_broker_config(tmp_path)),
            "--json",
            str(out),
            "-q",
            "--compare",
            "--max-frames",
            "20",
            "--rounds",
            "2",
        ]
    )
    assert rc == 0
    result = json.loads(out.read_text())
    assert set(result["variants"]) == {"litert", "mediapipe", "peer_loop"}
    assert result["rounds"] == 2
    for name, ratios in result["speedup_per_round"].items():  # each round's run against that round's peer
        fps, peer = result["variants"][name]["fps_per_round"], result["variants"]["peer_loop"]["fps_per_round"]
        assert ratios == [round(a / b, 2) for a, b in zip(fps, peer, strict=True)]
        assert result["speedup_vs_peer"][name] == round(sum(ratios) / 2, 2)  # the median of two
    for name, variant in result["variants"].items():
        assert "error" not in variant, (name, variant)
        assert variant["frames"] == 20 and variant["fps"] > 0 and variant["peak_rss_mb"] > 0
    assert set(result["variants"]["peer_loop"]["stages_ms"]) == {"decode", "convert", "process"}
    assert result["speedup_vs_peer"]["peer_loop"] == 1.0
    assert result["landmark_invoke_ms"]["p95"] >= result["landmark_invoke_ms"]["p50"] > 0
    assert result["venv"]["size_mb"] > 0


def test_bench_rounds_must_be_a_whole_number_of_at_least_one(capsys) -> None:
    for bad in ("0", "two"):
        with pytest.raises(SystemExit) as exit_info:
            cli_main(["bench", "clip.mp4", "--compare", "--rounds", bad])
        assert exit_info.value.code == 2
        assert "--rounds" in capsys.readouterr().err


def test_a_short_file_in_auto_mode_is_coached_as_the_exercise_of_the_whole_clip(tmp_path: Path) -> None:
    """1.3 s ends before the live recogniser settles; a file is classified whole first."""
    from shared_data import LANDMARKS

    from gymcorner.commands.offline import replay_recording
    from gymcorner.config import load_config

    recording = LANDMARKS / "kaiakol_exercises__squat__incorrect__squat_incorrect_003.npz"
    summary = replay_recording(load_config(None), str(recording))  # coach.exercise = "auto"
    codes = [e["code"] for e in summary["events"]]
    assert summary["exercise"] == "squat"
    assert "posture_incorrect" in codes and codes.count("rep") == 1
