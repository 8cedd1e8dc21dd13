"""A model without the outputs nobody reads.

`pose_landmark_full.tflite` has five outputs: the landmarks, the pose flag, the heatmap,
the world landmarks and a 256x256 segmentation mask. The pose backend reads the first
four. The mask comes from a decoder head at the crop's full resolution (46 of the model's
332 operators, among them its largest tensor, 256x256x72) that takes about half the
network's time on CPU and about 14 MB, for an output that is thrown away.
`keep_outputs` rewrites the model in memory with only the operators and tensors the kept
outputs depend on; they compute exactly what they computed before (same operators, same
weights, same order), so the landmarks do not change by a bit (tests/test_blazepose_prune.py).

The file on disk stays the one verified by SHA-256 (`vision.models`); this is done on the
verified bytes at load time. It reads and writes the TFLite flatbuffer with the schema
module LiteRT ships (`ai_edge_litert.schema_py_generated`) and the `flatbuffers` package
(a LiteRT dependency); where that schema is missing (the `tflite_runtime` fallback) the
model runs whole. No library offers this, hence the few lines here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Shape = tuple[int, ...]

_cache: dict[tuple[str, int, int, frozenset[Shape]], bytes | None] = {}
_cache_lock = threading.Lock()


def _schema() -> Any:
    try:
        from ai_edge_litert import schema_py_generated
    except ImportError:
        return None
    return schema_py_generated


def keep_outputs(model: bytes, shapes: Collection[Shape]) -> bytes | None:
    """`model` with only the outputs of these shapes and what they need; None to use it as is.

    None when there is nothing to drop, when a wanted shape is not an output (the caller's
    own check then names the wrong file), when the model is not one this handles (several
    subgraphs) or when no schema module is available.
    """
    schema = _schema()
    if schema is None:
        return None
    import flatbuffers

    try:
        root = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    except Exception:  # not a TFLite flatbuffer: let the interpreter say so
        return None
    if len(root.subgraphs or []) != 1 or root.signatureDefs:
        return None  # not the shape of model this was written for (BlazePose's have neither)
    graph = root.subgraphs[0]
    wanted = {tuple(int(d) for d in s) for s in shapes}
    kept = [int(o) for o in graph.outputs if tuple(int(d) for d in graph.tensors[o].shape) in wanted]
    if len(kept) == len(graph.outputs) or {tuple(int(d) for d in graph.tensors[o].shape) for o in kept} != wanted:
        return None
    needed = set(kept)
    operators = []
    for op in reversed(graph.operators):  # TFLite stores operators in execution order
        if any(int(t) in needed for t in op.outputs):
            operators.append(op)
            needed.update(int(t) for t in op.inputs if t >= 0)
            needed.update(int(t) for t in (op.intermediates if op.intermediates is not None else ()))
    operators.reverse()
    used = sorted(needed | {int(t) for t in graph.inputs})
    new_index = {old: new for new, old in enumerate(used)}

    def renumber(indices: Any) -> list[int]:
        return [new_index[int(t)] if t >= 0 else int(t) for t in indices]

    graph.tensors = [graph.tensors[i] for i in used]
    for op in operators:
        op.inputs, op.outputs = renumber(op.inputs), renumber(op.outputs)
        if op.intermediates is not None:
            op.intermediates = renumber(op.intermediates)
    graph.operators = operators
    graph.inputs, graph.outputs = renumber(graph.inputs), renumber(kept)
    in_use = {int(t.buffer) for t in graph.tensors} | {int(m.buffer) for m in root.metadata or []}
    for i, buffer in enumerate(root.buffers or []):
        if i not in in_use:
            buffer.data = None  # the weights only the dropped operators read
    builder = flatbuffers.Builder(len(model))
    builder.Finish(root.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def pruned_model(path: Path, shapes: Collection[Shape]) -> bytes | None:
    """`keep_outputs` of the file at `path`, made once per file and set of shapes in a process
    (several landmark workers share the bytes)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, frozenset(tuple(s) for s in shapes))
    with _cache_lock:
        if key not in _cache:
            pruned = keep_outputs(path.read_bytes(), shapes)
            if pruned is None and _schema() is None:
                log.info("%s: runs whole (no TFLite schema module to drop its unread outputs)", path.name)
            _cache[key] = pruned
        return _cache[key]
