"""What the LLM coach is asked, and what it says when the LLM cannot answer.

Pure: a `CoachMoment` (structured state at one moment worth a word) becomes a short,
bounded chat prompt, or a deterministic template sentence. The template is the floor of
the product: whatever the LAN server does, the person hears something useful.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_PROMPT_CHARS = 600
MAX_REPLY_CHARS = 240

SYSTEM_PROMPT = (
    "You are a friendly strength coach standing next to the athlete. Answer with ONE short "
    "spoken sentence (at most 20 words): a concrete cue or encouragement. No lists, no emojis."
)


@dataclass(frozen=True)
class CoachMoment:
    """A moment worth a word: after a faulty rep, an emotion event, a set's end, a heart-rate zone change."""

    t: float  # frame time, seconds
    trigger: str  # "rep_fault" | "emotion" | "set_end" | "hr_zone"
    exercise: str = "squat"
    rep: int | None = None
    faults: tuple[str, ...] = ()  # fault codes, e.g. ("knee_valgus",)
    cue: str | None = None  # the rule's own correction text, when there is one
    tempo_s: float | None = None  # duration of the last rep
    emotion: str | None = None
    emotion_message: str | None = None  # the configured message for the emotion event
    heart_rate_bpm: int | None = None
    hr_zone: int | None = None
    profile: dict[str, Any] = field(default_factory=dict)  # e.g. {"name": "Sam", "goal": "strength"}


def _facts(m: CoachMoment) -> list[str]:
    facts = [f"exercise: {m.exercise}", f"moment: {m.trigger.replace('_', ' ')}"]
    if m.rep is not None:
        facts.append(f"rep number: {m.rep}")
    if m.faults:
        facts.append("form faults: " + ", ".join(f.replace("_", " ") for f in m.faults[:4]))
    if m.cue:
        facts.append(f"correction: {m.cue}")
    if m.tempo_s is not None:
        facts.append(f"rep duration: {m.tempo_s:.1f} s")
    if m.emotion:
        facts.append(f"facial expression: {m.emotion}")
    if m.heart_rate_bpm is not None:
        facts.append(f"heart rate: {m.heart_rate_bpm} bpm" + (f" (zone {m.hr_zone})" if m.hr_zone is not None else ""))
    for key in ("name", "goal", "level"):
        if m.profile.get(key):
            facts.append(f"athlete {key}: {str(m.profile[key])[:40]}")
    return facts


def build_messages(m: CoachMoment) -> list[dict[str, str]]:
    """Chat messages for /v1/chat/completions; the user part is at most MAX_PROMPT_CHARS."""
    user = ("; ".join(_facts(m)))[:MAX_PROMPT_CHARS]
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def template_reply(m: CoachMoment) -> str:
    """The deterministic sentence for a moment (same moment, same words)."""
    if m.trigger == "emotion":
        return m.emotion_message or "Keep going!"
    if m.trigger == "rep_fault":
        head = f"Rep {m.rep}: " if m.rep is not None else ""
        if m.cue:
            return head + m.cue
        if m.faults:
            return head + f"watch your {m.faults[0].replace('_', ' ')}."
        return head + "steady and controlled."
    if m.trigger == "set_end":
        reps = f"{m.rep} reps" if m.rep is not None else "that set"
        return f"Set done: {reps}. Good work, breathe and rest."
    if m.trigger == "hr_zone":
        zone = m.hr_zone if m.hr_zone is not None else 0
        if zone >= 5:
            return "Heart rate is very high: slow down and recover."
        if zone >= 4:
            return "Heart rate is high: keep the pace controlled."
        return "Heart rate is in a good zone: keep it up."
    return "Keep going!"


def clean_reply(text: str) -> str:
    """One line, trimmed, bounded; empty when the model said nothing usable."""
    line = " ".join(text.split()).strip().strip('"')
    if len(line) > MAX_REPLY_CHARS:
        cut = line[:MAX_REPLY_CHARS]
        line = cut[: cut.rfind(" ")] + "..." if " " in cut else cut
    return line
