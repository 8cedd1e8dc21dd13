"""Emotion recognition and the LLM coach."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from gymcorner.config.base import Section


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
        description="Debug only: write every face crop here. Off by default; crops never leave the device.",
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
    temperature: float = Field(0.6, ge=0, le=2, description="Sampling temperature: lower is plainer.")


class MotivationConfig(Section):
    """Emotion recognition and natural-language coaching."""

    emotion: EmotionConfig = Field(default_factory=EmotionConfig)
    llm: LlmConfig = Field(default_factory=LlmConfig)
    speak: bool = Field(False, description="Speak feedback with espeak-ng on the device's speaker (form first).")
    speak_voice: str = Field("en", min_length=1, max_length=32, description="espeak-ng voice (`espeak-ng --voices`).")
    speak_words_per_minute: int = Field(165, ge=80, le=400, description="espeak-ng speaking rate.")
