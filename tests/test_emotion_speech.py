"""Spoken feedback with the real espeak-ng (writing WAV files instead of using a speaker)."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from gymcorner.coach.events import FeedbackEvent
from gymcorner.motivation.speech import MAX_WAITING, Speaker


def speaker_to_files(tmp_path: Path) -> Speaker:
    binary = shutil.which("espeak-ng")
    if binary is None:
        pytest.skip("espeak-ng not installed (Debian: apt install espeak-ng)")
    # `--stdout` would interleave; one WAV per message, named by a counter in a tiny shell wrapper
    script = tmp_path / "say.sh"
    script.write_text(
        f'#!/bin/sh\nn=$(ls {tmp_path}/*.wav 2>/dev/null | wc -l)\nexec {binary} -w {tmp_path}/$n.wav "$1"\n'
    )
    script.chmod(0o755)
    return Speaker(command=[str(script)], start=False)


def test_form_corrections_are_spoken_before_motivation_one_at_a_time(tmp_path: Path) -> None:
    speaker = speaker_to_files(tmp_path)
    speaker.say(FeedbackEvent(t=1.0, code="coach_emotion", text="Keep going!", kind="coach"))
    speaker.say(FeedbackEvent(t=1.1, code="knee_valgus", text="Push your knees out.", kind="form"))
    speaker.say(FeedbackEvent(t=1.2, code="coach_set_end", text="Set done.", kind="coach"))
    speaker.start()
    speaker.close()
    assert speaker.spoken == ["Push your knees out.", "Keep going!", "Set done."]
    wavs = sorted(tmp_path.glob("*.wav"))
    assert len(wavs) == 3
    for path in wavs:
        with wave.open(str(path)) as w:
            assert w.getnframes() > 0


def test_a_backlog_drops_the_least_urgent(tmp_path: Path) -> None:
    speaker = speaker_to_files(tmp_path)
    for i in range(MAX_WAITING + 2):
        speaker.say(FeedbackEvent(t=float(i), code="coach_emotion", text=f"motivation {i}", kind="coach"))
    speaker.say(FeedbackEvent(t=9.0, code="knee_valgus", text="Knees out.", kind="form"))
    speaker.start()
    speaker.close()
    assert speaker.spoken[0] == "Knees out." and len(speaker.spoken) == MAX_WAITING
    assert speaker.dropped == 3
