"""The regularization doctor: is my penalty applied, and how strong is it?

    import reglab.doctor
    report = reglab.doctor.diagnose(model)                       # Keras 3 or tf-keras model
    report = reglab.doctor.diagnose(model, loss=my_loss, batch=(x, y))   # custom loop's loss
    report = reglab.doctor.diagnose(graph, loss=loss_tensor, session=sess)  # TF1 graph
    report                     # a table in a notebook; str(report) in a terminal
    report.codes()             # ["REG_NOT_IN_LOSS", ...]: see reglab.doctor.findings.CATALOGUE
    report.to_dict()           # the same as JSON-ready data

Every penalty is given in the API's own convention and converted to the others (Keras
``l2(c)`` = ``c * sum(w**2)`` = slim ``l2_regularizer(2c)`` = ``2c * tf.nn.l2_loss(w)``).  The
doctor never changes the model, its weights, its optimizer or the graph.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from reglab._validate import check_scale
from reglab.doctor.advice import add_advice
from reglab.doctor.findings import CATALOGUE, Finding, finding
from reglab.doctor.report import ActivityRow, Report, WeightRow

__all__ = ["CATALOGUE", "ActivityRow", "Finding", "Report", "WeightRow", "diagnose", "model_kind"]

#: what ``diagnose`` accepts, in words (for messages)
ACCEPTED = "a Keras 3 model (keras.Model), a tf-keras 2 model (tf_keras.Model) or a TF1 tf.Graph"


def model_kind(obj: Any) -> str:
    """``keras``, ``tf_keras``, ``tf1_graph`` or ``unknown``; imports nothing new."""
    for module, kind in (("keras", "keras"), ("tf_keras", "tf_keras")):
        mod = sys.modules.get(module)
        if mod is not None and isinstance(obj, mod.Model):
            return kind
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        if isinstance(obj, tf.Graph):
            return "tf1_graph"
        legacy = getattr(getattr(tf, "keras", None), "Model", None) if "tf_keras" in sys.modules else None
        if legacy is not None and isinstance(obj, legacy):
            return "tf_keras"
    return "unknown"


def _check_batch(batch: Any) -> tuple[Any, Any] | None:
    if batch is None:
        return None
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"batch must be a pair (x, y) of arrays, got {type(batch).__name__}")
    return batch[0], batch[1]


def diagnose(
    obj: Any,
    *,
    loss: Any = None,
    train_step: Callable[[Any, Any], Any] | None = None,
    batch: Any = None,
    data_loss: Callable[[Any, Any], Any] | None = None,
    optimizer: Any = None,
    session: Any = None,
    feed_dict: Mapping[Any, Any] | None = None,
    intended_slim_l2: float | None = None,
) -> Report:
    """Diagnose ``obj``'s regularization and return a ``Report``.

    Parameters
    ----------
    obj : a Keras 3 model, a tf-keras 2 model or a TF1 ``tf.Graph``.  Anything else gives a
        report with the finding ``UNKNOWN_MODEL`` (the doctor does not guess).
    loss : Keras: the student's loss as a callable ``loss(x, y) -> scalar`` (what the custom
        loop computes under its ``GradientTape``; needs ``batch``); without it the doctor
        assumes ``fit``, which adds ``model.losses``.  Graph: the loss tensor that is minimized.
    train_step : Keras 3: a whole custom train step ``train_step(x, y)`` that applies its
        gradients with the model's (built) optimizer and returns its loss.  The doctor runs it
        once under a ``GradientTape`` and puts every weight and optimizer variable back.
    batch : ``(x, y)``: measures activity penalties and feeds ``loss`` or ``train_step``.
    data_loss : ``data_loss(y_true, y_pred)``, the data term of ``loss`` (default: the loss the
        model was compiled with).
    optimizer : Keras optimizer whose weight decay to report (default: ``model.optimizer``).
    session : graph only: a ``tf.compat.v1.Session`` to evaluate penalties now.
    feed_dict : graph only: feeds for activity penalties that depend on placeholders.
    intended_slim_l2 : the thread's (slim) constant you meant; a Keras ``l2`` with exactly this
        constant, not half of it, is reported as ``SLIM_CONSTANT_NOT_HALVED``.
    """
    if intended_slim_l2 is not None:
        intended_slim_l2 = check_scale("intended_slim_l2", intended_slim_l2, allow_zero=False)
    batch = _check_batch(batch)
    kind = model_kind(obj)
    if kind == "unknown":
        if obj is None:
            raise TypeError(f"obj must be {ACCEPTED}, got None")
        report = Report(source="unknown", model=type(obj).__name__)
        report.findings.append(finding(
            "UNKNOWN_MODEL", f"a {type(obj).__module__}.{type(obj).__qualname__} is not {ACCEPTED}: "
            "the doctor does not guess."))
        return report
    if kind == "tf1_graph":
        if train_step is not None:
            raise TypeError("train_step is for Keras models; for a tf.Graph pass loss= (the loss tensor)")
        report = _graph(obj, loss, session, feed_dict)
    else:
        report = _keras(obj, kind, loss, train_step, batch, data_loss, optimizer)
    add_advice(report, intended_slim_l2)
    return report


def _graph(graph: Any, loss: Any, session: Any, feed_dict: Any) -> Report:
    import tensorflow as tf

    from reglab.doctor.graph import inspect_graph

    if loss is not None and (not isinstance(loss, tf.Tensor) or loss.graph is not graph):
        raise TypeError(f"loss must be a tensor of the graph being diagnosed, got {type(loss).__name__}")
    if session is not None and (not isinstance(session, tf.compat.v1.Session) or session.graph is not graph):
        raise TypeError("session must be a tf.compat.v1.Session on the graph being diagnosed")
    return inspect_graph(graph, loss=loss, session=session, feed_dict=feed_dict)


def _keras(model: Any, kind: str, loss: Any, train_step: Any, batch: Any, data_loss: Any,
           optimizer: Any) -> Report:
    from reglab.doctor.decay import inspect_decay
    from reglab.doctor.keras_model import inspect_keras

    optimizer = optimizer if optimizer is not None else getattr(model, "optimizer", None)
    step_optimizer = None
    if train_step is not None:
        if loss is not None:
            raise ValueError("pass loss= or train_step=, not both")
        if not callable(train_step):
            raise TypeError(f"train_step must be a callable (x, y) -> loss, got {type(train_step).__name__}")
        step_optimizer = _step_optimizer(kind, optimizer)
        loss, what = train_step, "train_step"
    else:
        what = "loss"
    if loss is not None:
        if not callable(loss):
            raise TypeError(
                f"{what} must be a callable {what}(x, y) for a Keras model, got {type(loss).__name__}")
        if batch is None:
            raise ValueError(f"batch=(x, y) is needed to check {what}")
        data_loss = _data_loss(model, data_loss)
    report = inspect_keras(model, kind, batch)
    if report.codes() == ["MODEL_NOT_BUILT"]:
        return report
    if loss is not None:
        from reglab.doctor.gradient import check_loss

        regs = [_regularizer_object(model, v, kind) for v in model.trainable_variables]
        check_loss(model, loss, batch, data_loss, report, regs, step_optimizer=step_optimizer)
    if kind == "keras":
        inspect_decay(optimizer, list(model.trainable_variables), report)
    return report


def _step_optimizer(kind: str, optimizer: Any) -> Any:
    """The built Keras 3 optimizer that a ``train_step`` uses (so the doctor can put it back)."""
    if kind != "keras":
        raise ValueError("train_step is supported for Keras 3 models; for tf-keras pass loss=")
    if optimizer is None:
        raise ValueError("train_step needs the optimizer it applies: pass optimizer= or compile the model")
    if not getattr(optimizer, "built", False):
        raise ValueError("train_step: build the optimizer first (optimizer.build(model.trainable_variables)) "
                         "so that the doctor can put its variables back")
    return optimizer


def _data_loss(model: Any, data_loss: Any) -> Any:
    if data_loss is not None:
        if not callable(data_loss):
            raise TypeError(
                f"data_loss must be a callable data_loss(y_true, y_pred), got {type(data_loss).__name__}")
        return data_loss
    compiled = getattr(model, "loss", None)
    if compiled is None:
        raise ValueError("data_loss is needed: the model was not compiled with a loss "
                         "(pass data_loss=keras.losses.SparseCategoricalCrossentropy(...), for example)")
    if isinstance(compiled, str):
        import keras

        compiled = keras.losses.get(compiled)
    return compiled


def _regularizer_object(model: Any, var: Any, kind: str) -> Any:
    """The regularizer that ``model.losses`` applies to ``var`` (``None`` if none does)."""
    if kind == "keras":
        return getattr(var, "regularizer", None)
    from reglab.doctor.keras_model import _declared, layers_of

    for layer in layers_of(model):
        for _, reg, v in _declared(layer):
            if v is var:
                return reg
    return None
