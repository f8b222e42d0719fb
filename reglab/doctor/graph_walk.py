"""Read-only walks over a TF1 ``tf.Graph``: which tensors a tensor depends on, and with which
linear coefficient.

``coefficient(root, target)`` answers "by how much does ``root`` move when ``target`` moves by
one?" for graphs made of sums, differences and products with constants (what ``loss = data +
reg_constant * tf.add_n(penalties)`` builds).  Along each path from ``root`` back to ``target``
it multiplies the constant factors, and adds over paths:

* ``Identity``, ``Cast``: 1;  ``Add``, ``AddV2``, ``AddN``: the sum of the inputs' coefficients;
* ``Sub``: first minus second;  ``Neg``: minus;  ``Mul`` by a constant ``k``: ``k`` times;
  ``RealDiv`` by a constant ``k``: divided by ``k``;
* ``Sum`` / ``Mean`` of a scalar, or of ``tf.stack`` of scalars (``tf.reduce_sum(list)``);
* ``StopGradient``: 0 (the value passes, the gradient does not, and the gradient is what is
  optimized).

Anything else on a path (a product of two tensors that both vary, a nonlinearity) gives
``None``: the penalty reaches ``root`` but not linearly.

With ``count_paths=True`` a product with (or a division by) a constant counts 1: the result is
the number of times ``target`` is *added* into ``root`` (``d + R + R + R``: 3; ``d + 3 * R``: 1),
which tells a sum added several times from a constant multiplied in.  No op is ever added to the graph:
constants are read with ``tensor_util.constant_value``.
"""

from __future__ import annotations

from typing import Any

VARIABLE_OPS = {"VarHandleOp", "VariableV2", "Variable"}
_PASS = {"Identity", "Snapshot", "Cast", "ReadVariableOp", "Enter"}
_SUM = {"Add", "AddV2", "AddN"}


def constant(tensor: Any) -> float | None:
    """The scalar value of ``tensor`` if the graph fixes it (a ``Const``), else ``None``."""
    from tensorflow.python.framework import tensor_util

    try:
        value = tensor_util.constant_value(tensor)
    except (TypeError, ValueError):
        return None
    if value is None or getattr(value, "size", 1) != 1:
        return None
    return float(value.reshape(()) if hasattr(value, "reshape") else value)


def ancestors(tensor: Any) -> set[str]:
    """Names of every op that ``tensor`` depends on through data inputs (itself included)."""
    seen: set[str] = set()
    stack = [tensor.op]
    while stack:
        op = stack.pop()
        if op.name in seen:
            continue
        seen.add(op.name)
        stack.extend(t.op for t in op.inputs)
    return seen


def source_of(tensor: Any) -> Any:
    """Follow ``Identity`` / ``ReadVariableOp`` / ``Cast`` back to the op that made the value."""
    op = tensor.op
    while op.type in _PASS and op.inputs:
        op = op.inputs[0].op
    return op


def coefficient(root: Any, target: Any, *, count_paths: bool = False) -> float | None:
    """d root / d target along linear paths (module docstring); 0 if ``root`` ignores ``target``.
    ``count_paths``: constant factors count 1, so the result counts the additions (module docstring).

    A depth-first walk with an explicit stack (graphs thousands of ops deep need no recursion):
    a tensor's coefficient is combined from its inputs' once they are all known.  A tensor met
    again while its inputs are still being walked (a ``while_loop`` back edge) counts 0.
    """
    if root.name == target.name:
        return 1.0
    known: dict[str, float | None] = {target.name: 1.0}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        tensor, inputs_known = stack.pop()
        if inputs_known:
            parts = [known[t.name] for t in tensor.op.inputs]
            known[tensor.name] = _combine(tensor.op, tensor, parts, count_paths)
        elif tensor.name not in known:
            known[tensor.name] = 0.0  # until its inputs are known: a loop back to it counts 0
            stack.append((tensor, True))
            stack.extend((t, False) for t in tensor.op.inputs if t.name not in known)
    return known[root.name]


def _combine(op: Any, t: Any, parts: list[float | None], count_paths: bool = False) -> float | None:
    if all(p == 0.0 for p in parts):
        return 0.0
    kind = op.type
    if kind == "StopGradient":
        return 0.0
    if any(p is None for p in parts):
        return None
    if kind in _PASS or kind == "IdentityN":
        return parts[t.value_index if kind == "IdentityN" else 0]
    if kind in _SUM:
        return float(sum(parts))
    if kind == "Sub":
        return parts[0] - parts[1]
    if kind == "Neg":
        return -parts[0]
    if kind == "Mul":
        for mine, other in ((0, 1), (1, 0)):
            if parts[other] == 0.0 and parts[mine] != 0.0:
                k = constant(op.inputs[other])
                return None if k is None else (1.0 if count_paths else k) * parts[mine]
        return None
    if kind in ("RealDiv", "Div", "TrueDiv") and parts[1] == 0.0:
        k = constant(op.inputs[1])
        return None if not k else parts[0] / (1.0 if count_paths else k)
    if kind in ("Sum", "Mean"):
        x = op.inputs[0]
        if x.shape.rank == 0:
            return parts[0]
        if x.op.type == "Pack" and all(i.shape.rank == 0 for i in x.op.inputs):
            return parts[0] / (len(x.op.inputs) if kind == "Mean" else 1)
        return None
    if kind == "Pack":  # only meaningful under Sum/Mean, which divide by the count above
        return None if len(parts) == 0 else float(sum(parts))
    return None
