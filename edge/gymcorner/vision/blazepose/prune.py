"""Rewrites of a pose model that compute the same outputs with less memory.

`keep_outputs`: `pose_landmark_full.tflite` has five outputs: the landmarks, the pose flag,
the heatmap, the world landmarks and a 256x256 segmentation mask. The pose backend reads
the first four. The mask comes from a decoder head at the crop's full resolution (46 of the
model's 332 operators, among them its largest tensor, 256x256x72) that takes about half the
network's time on CPU and about 14 MB, for an output that is thrown away. The rewrite keeps
only the operators and tensors the kept outputs depend on; they compute exactly what they
computed before (same operators, same weights, same order), so the landmarks do not change
by a bit (tests/test_blazepose_prune.py).

`dense_weights`: `pose_detection.tflite` stores 38 of its weight tensors sparse, each
expanded by a DENSIFY operator. XNNPACK cannot run DENSIFY, so the interpreter expands them
itself and keeps the expanded copies for its lifetime, beside XNNPACK's own packed copy of
the same weights (about 4 MB). The rewrite stores them expanded in the file instead, the
values DENSIFY computes (read off LiteRT's reference kernels), so the file can be mapped and
its pages given back once the weights are packed (`derived.py`).

Both work on bytes already verified by SHA-256 (`vision.models`); `derived.py` keeps the
result as a file of its own beside them. They read and write the TFLite flatbuffer with the
schema module LiteRT ships (`ai_edge_litert.schema_py_generated`) and the `flatbuffers`
package (a LiteRT dependency); where that schema is missing (the `tflite_runtime` fallback)
the model runs as it is. No library offers this, hence the few lines here.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

Shape = tuple[int, ...]


def _schema() -> Any:
    try:
        from ai_edge_litert import schema_py_generated
    except ImportError:
        return None
    return schema_py_generated


def available() -> bool:
    """Whether the models can be rewritten here (LiteRT's schema module is importable)."""
    return _schema() is not None


def _read(model: bytes) -> tuple[Any, Any] | None:
    """The schema module and the model as its objects; None when there is no schema module or
    the model is not the kind handled here."""
    schema = _schema()
    if schema is None:
        return None
    try:
        root = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(model, 0))
    except Exception:  # not a TFLite flatbuffer: let the interpreter say so
        return None
    if len(root.subgraphs or []) != 1 or root.signatureDefs:
        return None  # not the shape of model this was written for (BlazePose's have neither)
    return schema, root


def _rebuilt(root: Any, operators: list[Any], outputs: list[int], size_hint: int) -> bytes:
    """The model with only `operators` (in order) and `outputs`, and only the tensors and
    weights those still use; the indices renumbered."""
    import flatbuffers

    graph = root.subgraphs[0]
    needed = set(outputs) | {int(t) for t in graph.inputs}
    for op in operators:
        needed.update(int(t) for t in op.inputs if t >= 0)
        needed.update(int(t) for t in op.outputs)
        needed.update(int(t) for t in (op.intermediates if op.intermediates is not None else ()))
    used = sorted(needed)
    new_index = {old: new for new, old in enumerate(used)}

    def renumber(indices: Any) -> list[int]:
        return [new_index[int(t)] if t >= 0 else int(t) for t in indices]

    graph.tensors = [graph.tensors[i] for i in used]
    for op in operators:
        op.inputs, op.outputs = renumber(op.inputs), renumber(op.outputs)
        if op.intermediates is not None:
            op.intermediates = renumber(op.intermediates)
    graph.operators = operators
    graph.inputs, graph.outputs = renumber(graph.inputs), renumber(outputs)
    in_use = {int(t.buffer) for t in graph.tensors} | {int(m.buffer) for m in root.metadata or []}
    for i, buffer in enumerate(root.buffers or []):
        if i not in in_use:
            buffer.data = None  # weights no kept operator reads
    builder = flatbuffers.Builder(size_hint)
    builder.Finish(root.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def keep_outputs(model: bytes, shapes: Collection[Shape]) -> bytes | None:
    """`model` with only the outputs of these shapes and what they need; None to use it as is.

    None when there is nothing to drop, when a wanted shape is not an output (the caller's
    own check then names the wrong file), when the model is not one this handles (several
    subgraphs) or when no schema module is available.
    """
    read = _read(model)
    if read is None:
        return None
    root = read[1]
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
    return _rebuilt(root, operators, kept, len(model))


def dense_weights(model: bytes) -> bytes | None:
    """`model` with every DENSIFY of a constant replaced by its result; None when it has none
    (or cannot be rewritten here)."""
    read = _read(model)
    if read is None:
        return None
    schema, root = read
    graph = root.subgraphs[0]
    densify = schema.BuiltinOperator.DENSIFY
    codes = [max(int(c.builtinCode), int(c.deprecatedBuiltinCode)) for c in root.operatorCodes]

    def constant(t: int) -> bool:
        data = root.buffers[graph.tensors[t].buffer].data
        return data is not None and len(data) > 0

    folds = [
        op for op in graph.operators if codes[op.opcodeIndex] == densify and all(constant(int(t)) for t in op.inputs)
    ]
    if not folds:
        return None
    values = _densified(model, [int(op.outputs[0]) for op in folds])
    for op in folds:
        out = int(op.outputs[0])
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(values[out].tobytes(), dtype=np.uint8)
        root.buffers.append(buffer)
        graph.tensors[out].buffer = len(root.buffers) - 1
    operators = [op for op in graph.operators if not any(op is f for f in folds)]
    return _rebuilt(root, operators, [int(t) for t in graph.outputs], 2 * len(model))


def _densified(model: bytes, tensors: list[int]) -> dict[int, np.ndarray]:
    """The values DENSIFY gives these tensors, computed by LiteRT's reference kernels."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_content=model,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], dtype=detail["dtype"]))
    interpreter.invoke()
    return {t: interpreter.get_tensor(t).copy() for t in tensors}
