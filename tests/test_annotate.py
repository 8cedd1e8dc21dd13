"""The annotated video's messages fit the frame, also on a narrow portrait clip."""

from __future__ import annotations

import numpy as np

from gymcorner.commands.annotate import _text, wrap

MESSAGE = "Posture incorrect: your knees travel far past your toes; sit back into your hips."


def test_wrap_keeps_every_word_in_order_and_each_line_within_the_width() -> None:
    lines = wrap(MESSAGE, 20, len)
    assert " ".join(lines) == " ".join(MESSAGE.split())
    assert all(len(line) <= 20 for line in lines)
    assert len(lines) > 1
    assert wrap(MESSAGE, 1000, len) == [MESSAGE]
    assert wrap("squat  reps: 3  view: lateral", 1000, len) == ["squat  reps: 3  view: lateral"]  # spacing kept


def test_a_word_wider_than_the_line_gets_a_line_of_its_own() -> None:
    assert wrap("a verylongword b", 5, len) == ["a", "verylongword", "b"]
    assert wrap("", 5, len) == []


def test_a_long_message_on_a_portrait_frame_stays_inside_it() -> None:
    canvas = np.zeros((640, 360, 3), np.uint8)
    bottom = _text(canvas, MESSAGE, 10, (40, 40, 230))
    drawn_columns = np.flatnonzero(canvas.any(axis=(0, 2)))
    assert drawn_columns.max() < 360 - 5  # nothing runs off the right edge
    drawn_rows = np.flatnonzero(canvas.any(axis=(1, 2)))
    assert drawn_rows.max() <= bottom + 2  # the returned y is below what was drawn
    one_line = _text(np.zeros_like(canvas), "Rep 1", 10, (40, 40, 230)) - 10
    assert bottom - 10 >= 2 * one_line  # it took more than one line


def test_a_short_message_takes_one_line() -> None:
    wide = np.zeros((360, 640, 3), np.uint8)
    one = _text(wide, "Rep 1", 10, (255, 255, 255))
    two = _text(wide, MESSAGE + " " + MESSAGE, one, (255, 255, 255))
    assert two - one > one - 10  # the long one wrapped, the short one did not
