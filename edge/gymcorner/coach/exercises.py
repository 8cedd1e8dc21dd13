"""The exercise vocabulary: one enum that config, commands, recognition, the coach, the
evaluation and the avatar codec all speak.

The value is the wire and config spelling ("push_up"), so an `Exercise` compares equal
to the string it came from and serialises as that string. Two members are not exercises
a person can be told to do: `UNKNOWN`, the coach's state until the recogniser has made
up its mind (no form rules run), and `OTHER`, the recogniser's verdict for a person who
moves but does none of the exercises it knows.
"""

from __future__ import annotations

import enum
from typing import Final, Literal


class Exercise(str, enum.Enum):
    UNKNOWN = "unknown"
    SQUAT = "squat"
    PUSH_UP = "push_up"
    PULL_UP = "pull_up"
    DIP = "dip"
    PLANK = "plank"
    LUNGE = "lunge"
    JUMPING_JACK = "jumping_jack"
    BICEP_CURL = "bicep_curl"
    RUSSIAN_TWIST = "russian_twist"
    BENCH_PRESS = "bench_press"
    FRONT_RAISE = "front_raise"
    SIT_UP = "sit_up"
    CABLE_PUSHDOWN = "cable_pushdown"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


# The exercises a person can do, be told to do (`set_exercise`) or fix in config.
SELECTABLE: tuple[Exercise, ...] = tuple(e for e in Exercise if e not in (Exercise.UNKNOWN, Exercise.OTHER))

AUTO: Final = "auto"  # config: follow the exercise recogniser
ExerciseSetting = Literal["auto"] | Exercise


def selectable(value: object) -> Exercise:
    """`value` as one of the SELECTABLE exercises, or ValueError naming the choices."""
    try:
        exercise = Exercise(value)
    except ValueError:
        exercise = None
    if exercise is None or exercise not in SELECTABLE:
        choices = ", ".join(repr(e.value) for e in SELECTABLE)
        raise ValueError(f"unknown exercise {value!r}; expected one of {choices}")
    return exercise


def setting(value: object) -> ExerciseSetting:
    """A config value: 'auto' or a SELECTABLE exercise (ValueError otherwise)."""
    if value == AUTO:
        return AUTO
    try:
        return selectable(value)
    except ValueError:
        choices = ", ".join(repr(e.value) for e in SELECTABLE)
        raise ValueError(f"expected 'auto' or one of {choices}") from None
