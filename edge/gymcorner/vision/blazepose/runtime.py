"""The two pose model files and a small wrapper over one TFLite interpreter.

The interpreter comes from `vision.face.open_interpreter` (LiteRT, else `tflite_runtime`,
else a ModelError saying what to install), shared with the face and emotion models.
XNNPACK is LiteRT's default CPU delegate for float models; it runs on `num_threads`.
A network runs its model's derived file (`derived.py`): only the outputs it reads
(`prune.py`), mapped, its pages given back once XNNPACK has packed the weights.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gymcorner.errors import ModelError
from gymcorner.vision.blazepose.derived import missing, model_to_run, prepare, release_pages
from gymcorner.vision.face import open_interpreter
from gymcorner.vision.models import default_models_dir, model_path

DETECTOR_MODEL = "pose_detection.tflite"
LANDMARK_MODEL = "pose_landmark_full.tflite"


def pose_model_paths(models_dir: Path | None = None) -> tuple[Path, Path]:
    """(detector, landmark) model paths, verified by SHA-256, or ModelError saying to fetch them.

    `models_dir` is `[models] dir`; unset, the default folder of `default_models_dir`.
    """
    folder = default_models_dir(models_dir)
    return model_path(folder, DETECTOR_MODEL), model_path(folder, LANDMARK_MODEL)


def _derived_models() -> list[tuple[str, tuple[tuple[int, ...], ...] | None]]:
    from gymcorner.vision.blazepose.landmarks import READ_OUTPUTS  # landmarks imports this module

    return [(DETECTOR_MODEL, None), (LANDMARK_MODEL, READ_OUTPUTS)]


def derive_pose_models(models_dir: Path, say: Callable[[str], None]) -> None:
    """Make the derived files the two networks run (`derived.py`), for `gymcorner models fetch`."""
    prepare(models_dir, _derived_models(), say)


def underived_pose_models(models_dir: Path) -> list[str]:
    """The pose models without an intact derived file in `models_dir` (for `gymcorner doctor`)."""
    return missing(models_dir, _derived_models())


class Network:
    """One TFLite model with a single float input; outputs are looked up by shape, not by index.

    Output order is not part of a model's contract (converters reorder them), shapes are.
    `read`: the output shapes the caller reads; the others are not computed (`prune.py`).
    """

    def __init__(self, path: Path, num_threads: int, read: tuple[tuple[int, ...], ...] | None = None) -> None:
        model = model_to_run(path, read)
        if isinstance(model, bytes):
            self._interpreter = open_interpreter(path, num_threads, model)
            self.mapped: Path | None = None
        else:
            self._interpreter = open_interpreter(model, num_threads)
            self.mapped = model  # the file TFLite maps: its pages go back after the first invoke
        (inp,) = self._interpreter.get_input_details()
        self._input_index = int(inp["index"])
        self.input_shape = tuple(int(d) for d in inp["shape"])
        self._outputs = {
            tuple(int(d) for d in o["shape"]): int(o["index"]) for o in self._interpreter.get_output_details()
        }
        self.invocations = 0
        self.last_invoke_ms = 0.0  # for `gymcorner bench`: the network's own share of a frame

    def output_index(self, shape: tuple[int, ...], path: Path) -> int:
        if shape not in self._outputs:
            raise ModelError(
                f"{path.name}: no output of shape {shape} (outputs: {sorted(self._outputs)}); wrong model file?"
            )
        return self._outputs[shape]

    def run(self, tensor: np.ndarray, indices: tuple[int, ...]) -> list[np.ndarray]:
        """Invoke on one (1, H, W, 3) float32 tensor and return the outputs at `indices`."""
        self._interpreter.set_tensor(self._input_index, tensor)
        started = time.perf_counter()
        self._interpreter.invoke()
        self.last_invoke_ms = (time.perf_counter() - started) * 1000.0
        self.invocations += 1
        if self.invocations == 1 and self.mapped is not None:
            release_pages(self.mapped)  # XNNPACK has packed the weights into its own buffers
        return [self._interpreter.get_tensor(i) for i in indices]
