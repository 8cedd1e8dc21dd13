"""Calibration output: the site config file, the printed summary and the PNG plot.

The site file is plain TOML that `gymcorner run --site FILE` loads on top of the main
config; each derived key carries a comment saying what it was derived from, and the
measurements are recorded as comments (the config schema rejects unknown keys, and a
person reading the file wants to know where a number came from).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gymcorner.calibration.derive import Check, Threshold
from gymcorner.calibration.measure import Measurements
from gymcorner.motion.view import View


def _fmt(value: float) -> str:
    return repr(round(float(value), 3))


def site_toml(m: Measurements, thresholds: list[Threshold], source: str, stamp: str) -> str:
    lines = [
        f"# Site calibration written by `gymcorner calibrate` from {source} ({stamp}).",
        "# Loaded by `gymcorner run --site FILE` on top of the main config; re-run calibrate to renew it.",
        f"# view: {m.view.value}; person on {m.frames_with_person}/{m.frames} frames; squats: {len(m.reps)}",
    ]
    if m.shoulder_width_m is not None:
        lines.append(f"# shoulder width: {m.shoulder_width_m:.3f} m ({m.shoulder_width_px or 0:.0f} px)")
    if m.natural_stance_sw is not None and m.view is View.FRONTAL:
        lines.append(f"# natural stance: {m.natural_stance_sw:.2f} shoulder widths (ankle span, image)")
    if m.limbs_m:
        lines.append("# limbs (m): " + ", ".join(f"{k[:-2]} {v:.3f}" for k, v in sorted(m.limbs_m.items())))
    if m.head_x_range is not None and m.face_yaw_range_deg is not None:
        lines.append(
            f"# head turn: yaw {m.face_yaw_range_deg[0]:+.0f}..{m.face_yaw_range_deg[1]:+.0f} deg, "
            f"head x {m.head_x_range[0]:+.3f}..{m.head_x_range[1]:+.3f}"
        )
    lines += ["", "[coach.squat]"]
    for t in thresholds:
        if t.derived:
            lines.append(f"{t.key} = {_fmt(t.value)}  # {t.why} (was {_fmt(t.previous)})")
        else:
            lines.append(f"# {t.key}: unchanged ({t.why})")
    return "\n".join(lines) + "\n"


def format_summary(m: Measurements, checks: list[Check], thresholds: list[Threshold], out: str, plot: str) -> str:
    rows = [f"calibration: {m.frames} frames, person on {m.frames_with_person}, {m.view.value} view"]
    for c in checks:
        rows.append(f"  [{'pass' if c.ok else 'FAIL'}] {c.name:<11} {c.detail}" + ("" if c.ok else f"  -> {c.fix}"))
    if m.shoulder_width_m is not None:
        rows.append(
            f"  standing: shoulder width {m.shoulder_width_m:.2f} m"
            + (
                f", natural stance {m.natural_stance_sw:.2f} shoulder widths"
                if m.natural_stance_sw and m.view is View.FRONTAL
                else ""
            )
        )
    if m.limbs_m:
        rows.append("  limbs: " + ", ".join(f"{k[:-2]} {v:.2f} m" for k, v in sorted(m.limbs_m.items())))
    for i, r in enumerate(m.reps, 1):
        extra = []  # only what this view can see: lean side-on, knee tracking from the front
        if r.max_lean_over_shin_deg is not None and m.view is View.LATERAL:
            extra.append(f"lean over shins {r.max_lean_over_shin_deg:.0f}°")
        if r.max_knee_out_sw is not None and m.view is View.FRONTAL:
            extra.append(f"knees out {r.max_knee_out_sw:+.2f} shoulder widths")
        if r.min_knee_over_ankle is not None and m.view is View.FRONTAL:
            extra.append(f"knee/ankle span {r.min_knee_over_ankle:.2f}")
        rows.append(f"  squat {i}: depth {r.deepest_flexion_deg:.0f}°" + (", " + ", ".join(extra) if extra else ""))
    if m.head_x_range is not None:
        rows.append(f"  head turn: head x {m.head_x_range[0]:+.2f}..{m.head_x_range[1]:+.2f}")
    rows.append("thresholds:")
    for t in thresholds:
        mark = f"{t.previous:g} -> {t.value:g}" if t.derived else f"{t.value:g} (unchanged: {t.why})"
        rows.append(f"  {t.key:<30} {mark}")
    rows.append(f"site config: {out}")
    rows.append(f"plot: {plot}")
    return "\n".join(rows)


PLOT_HINT = "not drawn: matplotlib is not installed (pip install 'gymcorner[plot]')"


def save_plot(m: Measurements, thresholds: list[Threshold], path: str | Path, title: str) -> bool:
    """Three panels over time: knee flexion with reps and depth, lean over shins, stance.

    matplotlib is an optional extra (it would be a fifth of the device's venv): without it
    the calibration is written all the same and this returns False."""
    try:
        import matplotlib
    except ImportError:
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = m.t_s - (m.t_s[0] if len(m.t_s) else 0.0)
    by_key = {th.key: th for th in thresholds}
    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    ax = axes[0]
    ax.plot(t, m.flexion_deg, color="tab:blue", lw=1.2, label="knee flexion (image)")
    for i, r in enumerate(m.reps, 1):
        ax.axvspan(t[r.start], t[r.end], color="tab:green", alpha=0.12)
        ax.annotate(
            f"{i}: {r.deepest_flexion_deg:.0f}°", (t[r.start], r.deepest_flexion_deg), fontsize=8, color="tab:green"
        )
    depth = by_key["depth_min_knee_flexion_deg"]
    ax.axhline(
        depth.value,
        color="tab:red",
        ls="--",
        lw=1,
        label=f"shallow below {depth.value:.0f}°" + ("" if depth.derived else " (default)"),
    )
    if np.isfinite(m.flexion_deg).any():
        ax.set_ylim(bottom=min(0.0, float(np.nanmin(m.flexion_deg))), top=float(np.nanmax(m.flexion_deg)) + 25)
    ax.set_ylabel("degrees")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", fontsize=8)

    ax = axes[1]
    if m.view is View.FRONTAL:  # from the front: knee tracking (valgus below the line)
        ax.plot(t, m.knee_over_ankle, color="tab:purple", lw=1.2, label="knee span / ankle span")
        valgus = by_key["knee_valgus_delta"]
        ax.axhline(
            1 - valgus.value,
            color="tab:red",
            ls="--",
            lw=1,
            label=f"knees caving in below {1 - valgus.value:.2f}, once bent" + ("" if valgus.derived else " (default)"),
        )
        ax.set_ylabel("ratio")
    else:  # side-on: forward lean
        ax.plot(t, m.lean_over_shin_deg, color="tab:purple", lw=1.2, label="trunk lean over shins")
        lean = by_key["trunk_lean_over_shin_max_deg"]
        ax.axhline(
            lean.value,
            color="tab:red",
            ls="--",
            lw=1,
            label=f"forward lean above {lean.value:.0f}°" + ("" if lean.derived else " (default)"),
        )
        ax.set_ylabel("degrees")
    ax.legend(loc="upper left", fontsize=8)

    ax = axes[2]
    ax.plot(t, m.stance_sw, color="tab:orange", lw=1.2, label="ankle span / shoulder width")
    narrow = by_key["narrow_stance_delta_w"]
    ax.axhline(
        1 - narrow.value,
        color="tab:red",
        ls="--",
        lw=1,
        label=f"narrow below {1 - narrow.value:.2f}" + ("" if narrow.derived else " (default)"),
    )
    if m.natural_stance_sw is not None and m.view is View.FRONTAL:
        ax.axhline(m.natural_stance_sw, color="grey", ls=":", lw=1, label=f"natural stance {m.natural_stance_sw:.2f}")
    ax.set_ylim(0, 3)  # side-on the shoulder span nears zero and the ratio shoots up: not judged there
    ax.set_ylabel("shoulder widths")
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper left", fontsize=8)
    if m.view is not View.FRONTAL:
        ax.text(0.5, 0.5, "stance is judged in a frontal view only", transform=ax.transAxes, ha="center", color="grey")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
