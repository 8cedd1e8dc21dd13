"""Files the pure core needs, loaded at the edge.

`coach/` parses and renders plain dicts (`RecognizerModel.from_json`, `ReferenceRep.to_json`)
and never touches a file, so that it can be replayed and tested without a disk. This module
is where those dicts come from and go to: the recogniser model shipped as package data
(found with `importlib.resources`, so it works from an installed wheel as well as from the
checkout) and the trainer's gold reference files.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

from gymcorner.coach.recognition import ExerciseRecognizer, RecognizerModel
from gymcorner.coach.reference import ReferenceRep
from gymcorner.errors import RecordingError

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:
    from importlib.abc import Traversable

#: The recogniser model shipped with the package (package data `coach/models/*.json`).
DEFAULT_MODEL_PATH: Traversable = resources.files("gymcorner.coach").joinpath("models").joinpath("recognizer_v1.json")


def load_recognizer_model(path: str | Path | None = None) -> RecognizerModel:
    """Read a recogniser model JSON; without a path, the one shipped with the package."""
    source: Traversable | Path = DEFAULT_MODEL_PATH if path is None else Path(path)
    return RecognizerModel.from_json(json.loads(source.read_text(encoding="utf-8")))


def make_recognizer(
    path: str | Path | None = None, stable_s: float = 1.5, interval_s: float = 0.1
) -> ExerciseRecognizer:
    """A live recogniser over the model at `path` (default: the shipped one)."""
    return ExerciseRecognizer(load_recognizer_model(path), stable_s, interval_s)


def load_reference(path: str | Path) -> ReferenceRep:
    """Read a gold reference rep; every failure is a RecordingError naming the file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise RecordingError(f"reference not found: {path}") from err
    except ValueError as err:
        raise RecordingError(f"{path}: not a gymcorner reference rep: {err}") from err
    try:
        return ReferenceRep.from_json(doc)
    except ValueError as err:
        raise RecordingError(f"{path}: {err}") from err


def save_reference(reference: ReferenceRep, path: str | Path) -> None:
    """Write a gold reference rep as indented JSON (small, and diffable in a review)."""
    Path(path).write_text(json.dumps(reference.to_json(), indent=1) + "\n", encoding="utf-8")


__all__ = ["DEFAULT_MODEL_PATH", "load_recognizer_model", "load_reference", "make_recognizer", "save_reference"]
