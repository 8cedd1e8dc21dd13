"""Field calibration on our own recordings of real clips (no model) and through the CLI on a clip.

The recordings in tests/fixtures/landmarks are BlazePose output for the labelled clips,
so the measuring and deriving run exactly as on the device, bit for bit, without a model.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from shared_data import LANDMARKS, clip_path

from gymcorner.calibration.derive import derive_thresholds, framing_checks
from gymcorner.calibration.measure import RepCounter, measure
from gymcorner.calibration.site import load_with_site
from gymcorner.commands.calibrate import calibrate
from gymcorner.config import SquatConfig, load_config
from gymcorner.errors import ConfigError
from gymcorner.motion.landmarks import PoseSample
from gymcorner.motion.view import View
from gymcorner.recording import load_recording

LATERAL = "navya_squat_form__correct__squat_correct_strongher_side.npz"  # side-on, 5 squats
FRONTAL = "kaiakol_exercises__squat__incorrect__squat_incorrect_004.npz"  # facing the camera, 1 squat
FRONTAL_KEYS = {"narrow_stance_delta_w", "knee_varus_delta_k", "knee_valgus_delta"}
LATERAL_KEYS = {"depth_min_knee_flexion_deg", "trunk_lean_over_shin_max_deg"}


def samples_of(name: str) -> list[PoseSample]:
    return list(load_recording(LANDMARKS / name).samples())


def run(tmp_path: Path, name: str, **kwargs):
    config = load_config(None)
    out, plot = tmp_path / "site.toml", tmp_path / "site.png"
    result = calibrate(samples_of(name), [], config, name, out, plot, stamp="test", **kwargs)
    return config, result, out, plot


def test_lateral_clip_counts_five_squats_and_derives_the_lateral_thresholds(tmp_path: Path) -> None:
    _config, result, _out, plot = run(tmp_path, LATERAL)
    m = result.measurements
    assert m.view is View.LATERAL
    assert len(m.reps) == 5
    assert all(c.ok for c in result.checks), result.checks
    derived = {t.key for t in result.thresholds if t.derived}
    assert derived == LATERAL_KEYS
    by_key = {t.key: t for t in result.thresholds}
    depths = sorted(r.deepest_flexion_deg for r in m.reps)
    # Shallow must sit below every calibration squat (they are good reps) and above a quarter squat.
    assert 45 < by_key["depth_min_knee_flexion_deg"].value < depths[0]
    leans = [r.max_lean_over_shin_deg for r in m.reps]
    assert by_key["trunk_lean_over_shin_max_deg"].value > max(leans)
    # The limbs of an adult, in metres.
    assert 0.3 < m.limbs_m["femur_m"] < 0.6 and 0.3 < m.limbs_m["shin_m"] < 0.6
    assert result.written and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_frontal_clip_derives_the_frontal_thresholds_only(tmp_path: Path) -> None:
    _config, result, _out, _plot = run(tmp_path, FRONTAL)
    m = result.measurements
    assert m.view is View.FRONTAL
    assert len(m.reps) >= 1
    assert m.natural_stance_sw is not None and 0.5 < m.natural_stance_sw < 2.5
    assert {t.key for t in result.thresholds if t.derived} == FRONTAL_KEYS
    unchanged = {t.key: t for t in result.thresholds if not t.derived}
    assert all(t.value == t.previous for t in unchanged.values())
    assert "lateral" in unchanged["depth_min_knee_flexion_deg"].why


@pytest.mark.parametrize("name", [LATERAL, FRONTAL])
def test_the_site_file_is_loaded_by_the_daemon_with_the_derived_values(tmp_path: Path, name: str) -> None:
    _config, result, out, _plot = run(tmp_path, name)
    loaded = load_with_site(None, out)
    for t in result.thresholds:
        assert getattr(loaded.coach.squat, t.key) == pytest.approx(t.value, abs=1e-3)
    # Everything else stays as in the main config.
    assert loaded.coach.squat.narrow_stance_hold_frames == SquatConfig().narrow_stance_hold_frames


def test_a_site_file_laid_over_a_main_config_keeps_the_main_keys(tmp_path: Path) -> None:
    _config, _result, out, _plot = run(tmp_path, LATERAL)
    main = tmp_path / "main.toml"
    main.write_text('[device]\nid = "corner-9"\n[coach.squat]\nknee_varus_delta_k = 0.7\n')
    loaded = load_with_site(main, out)
    assert loaded.device.id == "corner-9" and loaded.coach.squat.knee_varus_delta_k == 0.7
    assert loaded.coach.squat.depth_min_knee_flexion_deg != SquatConfig().depth_min_knee_flexion_deg


def test_missing_site_file_means_not_calibrated_yet(tmp_path: Path) -> None:
    assert load_with_site(None, tmp_path / "absent.toml") == load_config(None)


def test_a_bad_site_file_names_itself_and_the_key(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text("[coach.squat]\ndepth_min_knee_flexion_de = 80\n")
    with pytest.raises(ConfigError) as err:
        load_with_site(None, site)
    assert str(site) in str(err.value) and "depth_min_knee_flexion_deg" in str(err.value)


def test_gold_rep_keeps_the_deepest_squat(tmp_path: Path) -> None:
    gold = tmp_path / "gold.npz"
    _config, result, _out, _plot = run(tmp_path, LATERAL, gold=gold)
    deepest = max(result.measurements.reps, key=lambda r: r.deepest_flexion_deg)
    rec = load_recording(gold)
    assert len(rec) == deepest.end - deepest.start + 1
    assert rec.present.all()


def test_no_person_fails_the_framing_and_writes_nothing(tmp_path: Path) -> None:
    samples = [PoseSample(i / 30, 640, 480) for i in range(60)]
    config = load_config(None)
    result = calibrate(samples, [20.0] * 60, config, "empty", tmp_path / "site.toml", tmp_path / "site.png")
    assert not result.written and not (tmp_path / "site.toml").exists()
    assert [c.name for c in result.checks if not c.ok] == ["person"]


def test_dark_corner_fails_the_lighting_check_with_a_fix() -> None:
    config = load_config(None)
    m = measure(samples_of(LATERAL), [12.0] * 486, config)
    lighting = next(c for c in framing_checks(m) if c.name == "lighting")
    assert not lighting.ok and "light" in lighting.fix


def test_rep_counter_needs_a_full_descent_and_rise() -> None:
    counter = RepCounter(down_deg=35, up_deg=20)
    flexion = [5, 30, 10, 40, 90, 60, 25, 15, 50, None, 70, 19, 5]
    done = [counter.update(i, f) for i, f in enumerate(flexion)]
    assert [d for d in done if d is not None] == [(3, 7), (8, 11)]
    assert counter.count == 2


def test_derived_values_stay_inside_the_schema_bounds() -> None:
    config = load_config(None)
    for name in (LATERAL, FRONTAL):
        thresholds = derive_thresholds(measure(samples_of(name), [], config), config.coach.squat)
        SquatConfig(**{t.key: t.value for t in thresholds})  # raises if a value is out of bounds
        assert all(math.isfinite(t.value) for t in thresholds)


@pytest.mark.shared_data
@pytest.mark.model
def test_cli_on_a_real_clip_then_only_when_requested(tmp_path: Path) -> None:
    clip = clip_path("kaiakol_exercises/squat/incorrect/squat_incorrect_004.mp4")
    out = tmp_path / "site.toml"
    cmd = [sys.executable, "-m", "gymcorner", "calibrate", "--source", str(clip), "--out", str(out), "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "frontal view" in proc.stdout and "[pass] whole body" in proc.stdout
    assert out.is_file() and out.with_suffix(".png").is_file()
    check = subprocess.run(
        [sys.executable, "-m", "gymcorner", "run", "--validate-config", "--site", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr

    out.unlink()
    idle = subprocess.run([*cmd, "--if-requested"], capture_output=True, text=True, timeout=60)
    assert idle.returncode == 0 and "no calibration requested" in idle.stdout and not out.exists()
    (tmp_path / "calibrate.request").write_text("long press\n")
    asked = subprocess.run([*cmd, "--if-requested"], capture_output=True, text=True, timeout=300)
    assert asked.returncode == 0, asked.stderr
    assert out.is_file() and not (tmp_path / "calibrate.request").exists()


@pytest.mark.shared_data
@pytest.mark.model
def test_live_camera_is_guided_and_stops_after_the_wanted_squats(monkeypatch, capsys) -> None:
    """A camera stands in as the lateral clip played as a live source (is_live): prompts, progress, early stop."""
    import threading

    import gymcorner.vision.sources as sources
    from gymcorner.commands.calibrate import capture

    clip = clip_path("navya_squat_form/correct/squat_correct_strongher_side.mp4")
    real_open = sources.open_source

    def open_live(config, uri_override=None):
        source = real_open(config, str(clip))
        source.is_live = True  # the instance pretends to be a camera; the reading is the file's
        return source

    monkeypatch.setattr(sources, "open_source", open_live)
    config = load_config(None, {"source.uri": "0"})
    samples, _lumas, _desc = capture(config, threading.Event(), reps_wanted=2, max_s=60, quiet=False)
    printed = capsys.readouterr().out
    assert "Step 1/2: stand" in printed and "Step 2/2: now squat 2 times" in printed
    assert "squat 1 of 2 measured" in printed and "squat 2 of 2 measured" in printed
    assert "squat 3 of" not in printed
    assert 100 < len(samples) < 486  # stopped after the second squat, before the clip's end
    assert len(measure(samples, [], config).reps) == 2
