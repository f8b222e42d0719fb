"""Which kernels only a batch normalization reads, so that their scale does not change the function.

An L2 penalty on such a kernel does not constrain what the network computes; it only changes the
effective learning rate (van Laarhoven 2017, "L2 Regularization versus Batch and Weight
Normalization").  That holds when the kernel's layer has a linear activation (with or without a
bias, which the batch mean removes), or a positively homogeneous one, ``a(c z) = c a(z)`` for
``c > 0`` (ReLU, LeakyReLU, PReLU), and no bias; up to the normalization's epsilon.  Used by
``reglab.doctor.keras_model`` for ``L2_BEFORE_BATCHNORM``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: layers that normalize with the batch's statistics, whatever scale their input has
_NORMALIZERS = ("BatchNormalization", "SyncBatchNormalization")
#: activations that leave the kernel's scale and the bias for BatchNormalization to divide out
#: and subtract: ``a(z) = z`` (a bias is a shift, removed with the batch mean)
_LINEAR = (None, "linear")
#: positively homogeneous activations, ``a(c z) = c a(z)`` for ``c > 0``: the scale still passes
#: through, but only without a bias (``relu(c z + b)`` is not ``c relu(z + b')``)
_HOMOGENEOUS = ("relu", "leaky_relu")
#: activation layers that may stand between a kernel's layer and the normalization
_ACTIVATION_LAYERS = ("Activation", "ReLU", "LeakyReLU", "PReLU")



def _activation_kind(layer: Any) -> str:
    """``linear``, ``homogeneous`` (positively homogeneous) or ``other``, for a layer's activation."""
    name = type(layer).__name__
    if name in ("LeakyReLU", "PReLU"):
        return "homogeneous"
    if name == "ReLU":
        plain = getattr(layer, "max_value", None) is None and not getattr(layer, "threshold", 0.0)
        return "homogeneous" if plain else "other"
    activation = getattr(layer, "activation", None)
    activation = getattr(activation, "__name__", activation)
    return "linear" if activation in _LINEAR else "homogeneous" if activation in _HOMOGENEOUS else "other"


def _consumers(layer: Any) -> list[Any]:
    return [getattr(node, "operation", None) or getattr(node, "outbound_layer", None)
            for node in getattr(layer, "_outbound_nodes", [])]


def _flat(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flat(v)]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flat(v)]
    return [value]


def output_layers(models: list[Any]) -> set[int]:
    """``id`` of each layer whose output is an output of one of ``models``: the model's caller reads
    it, whatever its scale, so a normalization inside is not its only reader."""
    found: set[int] = set()
    for model in models:
        try:
            outputs = getattr(model, "outputs", None) or []
        except (AttributeError, ValueError, TypeError):  # a subclassed model has no symbolic outputs
            outputs = []
        for tensor in _flat(outputs):
            history = getattr(tensor, "_keras_history", None)
            if history is None:
                continue
            producer = getattr(history, "operation", None) or getattr(history, "layer", None)
            if producer is None and isinstance(history, tuple) and history:
                producer = history[0]
            found.add(id(producer))
    return found


def _only_normalizers_read(layer: Any, has_bias: bool, outputs: set[int], seen: int = 0) -> bool:
    """Whether every path from ``layer``'s output reaches BatchNormalization through activation
    layers that keep the kernel's scale (``_LINEAR``; ``_HOMOGENEOUS`` only without a bias); a
    model output (``outputs``: ``output_layers``) is a reader that is not a normalization."""
    consumers = _consumers(layer)
    if not consumers or id(layer) in outputs or seen > 8:
        return False
    for consumer in consumers:
        name = type(consumer).__name__
        if name in _NORMALIZERS:
            continue
        kind = _activation_kind(consumer) if name in _ACTIVATION_LAYERS else "other"
        if kind == "other" or (kind == "homogeneous" and has_bias):
            return False
        if not _only_normalizers_read(consumer, has_bias, outputs, seen + 1):
            return False
    return True


def feeding_normalization(layers: list[Any], own_variable: Callable[[Any, str], Any]) -> set[int]:
    """``id`` of each kernel that only BatchNormalization reads, so that its scale does not change
    the function (up to the normalization's epsilon): through a linear activation (with or without
    a bias, which the batch mean removes), or through ReLU / LeakyReLU / PReLU (as the layer's own
    activation or as separate layers) when the layer has no bias.  Read from the layer graph of
    functional and ``Sequential`` models (a nested model's outputs are not followed).  ``layers`` are
    the model and every layer in it; ``own_variable(layer, name)`` is the layer's own variable or
    None.  A kernel whose output (or an activation's of it) is also a model output is not reported:
    the model's caller reads its scale."""
    outputs = output_layers([layer for layer in layers if hasattr(layer, "outputs")])
    found: set[int] = set()
    for layer in layers:
        kernel = own_variable(layer, "kernel")
        if kernel is None or type(layer).__name__ in _ACTIVATION_LAYERS:
            continue
        has_bias = own_variable(layer, "bias") is not None
        kind = _activation_kind(layer)
        if kind == "other" or (kind == "homogeneous" and has_bias):
            continue
        if _only_normalizers_read(layer, has_bias, outputs):
            found.add(id(kernel))
    return found
