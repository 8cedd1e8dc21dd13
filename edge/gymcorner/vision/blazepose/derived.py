"""The pose model files as the networks run them: derived once, kept on disk, mapped.

`prune.py` rewrites the verified models to compute the same outputs with less (the landmark
network without its segmentation head, the detector with its weights stored dense). The
result is kept as a file of its own in `derived/` beside the verified files, made by
`gymcorner models fetch` (or on the first start that finds it missing, where the folder is
writable), named after the verified file's SHA-256 and the rewrite, with the SHA-256 of its
own bytes beside it: a derived file that does not match is made again, never run.

Why a file and not bytes in memory: TFLite maps a model it opens by path, but keeps a model
given as bytes on the heap for as long as the interpreter lives. XNNPACK packs the weights
into its own buffers when a network first runs; after that the file's pages are hardly read.
`release_pages` tells the kernel so (`madvise(MADV_DONTNEED)` on this process's read-only
mappings of the file): they leave the resident set, stay in the page cache, and are read
back from it if a kernel ever touches them again. Heap bytes cannot be given back like that.
About 22 MB of a 1080p run's peak (docs/litert_parity.md).

Where no derived file can be written (a read-only models folder and no `models fetch` run
since) the rewrite runs from memory, as before, and one line says so. Where the rewrite is
not available (no schema module: the `tflite_runtime` fallback) the verified file runs as
it is, mapped and released the same way.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import mmap
import os
import threading
from collections.abc import Callable, Collection
from pathlib import Path

from gymcorner.vision.blazepose import prune
from gymcorner.vision.models import MODELS, sha256_of, sha256_of_file

log = logging.getLogger(__name__)

Shape = tuple[int, ...]
RECIPE = 1  # bump when a rewrite changes what it writes: older derived files are then not used
DERIVED_DIR = "derived"

_memory: dict[tuple[str, str], bytes] = {}  # the fallback's bytes, shared by the networks of one file
_lock = threading.Lock()
_said: set[str] = set()


def _recipe(read: Collection[Shape] | None) -> str:
    """A short name for the rewrite: which outputs are kept (none named: all of them)."""
    outputs = ",".join("x".join(str(d) for d in s) for s in sorted(tuple(s) for s in read)) if read else "all"
    return f"r{RECIPE}-" + hashlib.sha256(outputs.encode()).hexdigest()[:8]


def _source_prefix(path: Path) -> str:
    """What every derived file of the verified file at `path` is named from: the model and its SHA-256."""
    spec = MODELS.get(path.name)
    source = spec.sha256 if spec is not None else sha256_of_file(path)
    return f"{path.stem}-{source[:16]}-"


def derived_path(path: Path, read: Collection[Shape] | None) -> Path:
    """Where the derived form of the verified file at `path` lives."""
    return path.parent / DERIVED_DIR / f"{_source_prefix(path)}{_recipe(read)}{path.suffix}"


def rewrite(model: bytes, read: Collection[Shape] | None) -> bytes | None:
    """Every rewrite that applies, in turn; None when none does."""
    out = prune.keep_outputs(model, read) if read else None
    dense = prune.dense_weights(out if out is not None else model)
    return dense if dense is not None else out


def intact(derived: Path) -> bool:
    """Whether the derived file is there and matches the SHA-256 written beside it."""
    digest = derived.with_name(derived.name + ".sha256")
    try:
        return digest.read_text().strip() == sha256_of_file(derived)
    except OSError:
        return False


def _write(path: Path, derived: Path, data: bytes) -> None:
    """Atomically: a half-written file is never taken for a model, nor its checksum for its own.
    Derived files of the same model from another verified file or an older rewrite go."""
    derived.parent.mkdir(parents=True, exist_ok=True)
    for target, content in ((derived, data), (derived.with_name(derived.name + ".sha256"), sha256_of(data).encode())):
        part = target.with_name(target.name + f".part{os.getpid()}")
        part.write_bytes(content)
        part.replace(target)
    current = f"{_source_prefix(path)}r{RECIPE}-"
    for old in derived.parent.glob(f"{path.stem}-*"):
        if not old.name.startswith(current) and ".part" not in old.name:
            old.unlink(missing_ok=True)  # a process still running it keeps its mapping


def _make(path: Path, read: Collection[Shape] | None, derived: Path) -> Path | None:
    """Write the derived file (the caller found it missing or not intact); None when no rewrite
    applies here. OSError when it cannot be written."""
    data = rewrite(path.read_bytes(), read)
    if data is None:
        return None
    _write(path, derived, data)
    return derived


def make_derived(path: Path, read: Collection[Shape] | None) -> Path | None:
    """The derived file of the verified `path`, made if missing or not intact; None when no
    rewrite applies here. OSError when it cannot be written."""
    derived = derived_path(path, read)
    return derived if intact(derived) else _make(path, read, derived)


def model_to_run(path: Path, read: Collection[Shape] | None) -> Path | bytes:
    """What a network opens: a file to map (derived, else the verified one) or, where no
    derived file can be written, the rewritten bytes."""
    with _lock:
        derived = derived_path(path, read)
        if intact(derived):
            return derived  # without importing the schema module (about 5 MB that would stay)
        if not prune.available():
            _say(path.name, f"{path.name}: runs as it is (no TFLite schema module to rewrite it)")
            return path
        try:
            made = _make(path, read, derived)
        except OSError as err:
            key = (str(path.resolve()), _recipe(read))
            if key not in _memory:
                data = rewrite(path.read_bytes(), read)
                if data is None:
                    return path
                _memory[key] = data
            _say(
                path.name,
                f"{path.name}: its derived file cannot be written ({err}); rewritten in memory, "
                f"{len(_memory[key]) / 1e6:.0f} MB that stay resident; `gymcorner models fetch` writes it",
                logging.WARNING,  # it runs, with about 20 MB more than it needs
            )
            return _memory[key]
        return made if made is not None else path


def _say(name: str, line: str, level: int = logging.INFO) -> None:
    if name not in _said:
        _said.add(name)
        log.log(level, line)


def missing(models_dir: Path, models: Collection[tuple[str, Collection[Shape] | None]]) -> list[str]:
    """Which of these verified models have no intact derived file (for `gymcorner doctor`)."""
    return [name for name, read in models if not intact(derived_path(Path(models_dir) / name, read))]


def prepare(
    models_dir: Path, models: Collection[tuple[str, Collection[Shape] | None]], say: Callable[[str], None]
) -> None:
    """Make the derived files of these (verified) models, for `gymcorner models fetch`."""
    if not prune.available():
        say("derived  none: no TFLite schema module here, the pose models run as they are")
        return
    for name, read in models:
        path = Path(models_dir) / name
        derived = derived_path(path, read)
        if intact(derived):
            say(f"ok       {derived}")
            continue
        made = _make(path, read, derived)
        say(f"derived  {made} (from {name})" if made else f"derived  none for {name}: it runs as it is")


def release_pages(path: Path) -> int:
    """Drop this process's resident pages of its read-only mappings of the file at `path`;
    how many bytes were mapped there. 0 where this cannot be done (not Linux)."""
    libc = _libc()
    if libc is None:
        return 0
    target = os.path.realpath(path)
    released = 0
    try:
        with open("/proc/self/maps") as maps:
            lines = maps.readlines()
    except OSError:
        return 0
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or fields[5].rstrip("\n") != target or "w" in fields[1]:
            continue  # a writable mapping would lose what was written: never released
        start, end = (int(v, 16) for v in fields[0].split("-"))
        if libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), mmap.MADV_DONTNEED) == 0:
            released += end - start
    return released


def _libc() -> ctypes.CDLL | None:
    if not hasattr(mmap, "MADV_DONTNEED") or not os.path.exists("/proc/self/maps"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    except OSError:
        return None
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.madvise.restype = ctypes.c_int
    return libc
