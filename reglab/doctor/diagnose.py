"""The regularization doctor: is my penalty applied, and how strong is it?

    import reglab.doctor
    report = reglab.doctor.diagnose(model)                       # Keras 3 or tf-keras model
    report = reglab.doctor.diagnose(model, loss=my_loss, batch=(x, y))   # custom loop's loss
    report = reglab.doctor.diagnose(graph, loss=loss_tensor, session=sess)  # TF1 graph
    report = reglab.doctor.diagnose(model, intended_lam=1e-3, convention="slim")  # what you meant
    report                     # a table in a notebook; str(report) in a terminal
    report.codes()             # ["REG_NOT_IN_LOSS", ...]: see reglab.doctor.findings.CATALOGUE
    report.to_dict()           # the same as JSON-ready data

Every penalty is given in the API's own convention and converted to the others (Keras
``l2(lam)`` = ``lam * sum(w**2)`` = slim ``l2_regularizer(2 lam)`` = ``2 lam * tf.nn.l2_loss(w)``).
The doctor never changes the model, its weights, its optimizer or the graph.

The arguments are declared once (``@validated``); what depends on the kind of ``obj`` (a loss
tensor for a graph, a callable for a Keras model, ``batch`` needed with a loss) is checked in
the body and raises the same ``InvalidParameterError``.  An object the doctor does not know is
not an error: the report says ``UNKNOWN_MODEL``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from reglab.doctor.advice import add_advice
from reglab.doctor.decay import inspect_decay
from reglab.doctor.findings import finding
from reglab.doctor.gradient import inspect_fit, inspect_loss, overrides_train_step
from reglab.doctor.graph import inspect_graph
from reglab.doctor.keras_model import inspect_keras, regularizer_of
from reglab.doctor.report import Report
from reglab.params import (
    Anything,
    Function,
    InstanceOf,
    InvalidParameterError,
    ListOf,
    NoneOr,
    Options,
    Real,
    validated,
)
from reglab.penalties import CONVENTIONS, keras_l2_from_slim

#: what ``diagnose`` accepts, in words (for messages)
ACCEPTED = "a Keras 3 model (keras.Model), a tf-keras 2 model (tf_keras.Model) or a TF1 tf.Graph"


class _Pair(ListOf):
    """``(x, y)``: a list or tuple of exactly two items (the arrays are the model's business)."""

    def __init__(self) -> None:
        super().__init__(Anything(), min_length=2)
        self.allowed = "a pair (x, y): a list or tuple of two items"

    def _convert(self, value: Any) -> tuple[Any, Any]:
        if isinstance(value, (list, tuple)) and len(value) != 2:
            value = ()  # refused as an empty list is (min_length=2)
        return tuple(super()._convert(value))

    def invalid(self) -> tuple[Any, ...]:
        return (*super().invalid(), (1, 2, 3))


@validated(obj=Anything())
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


@validated(obj=Anything(), loss=Anything(), train_step=NoneOr(Function()), batch=NoneOr(_Pair()),
           data_loss=NoneOr(Function()), optimizer=Anything(),
           session=NoneOr(InstanceOf("tensorflow.compat.v1:Session")),
           feed_dict=NoneOr(InstanceOf("collections.abc:Mapping")),
           intended_lam=NoneOr(Real(0.0, open_minimum=True)), convention=Options(*CONVENTIONS))
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
    intended_lam: float | None = None,
    convention: str = "slim",
) -> Report:
    """Diagnose ``obj``'s regularization and return a ``Report``.

    Parameters
    ----------
    obj : a Keras 3 model, a tf-keras 2 model or a TF1 ``tf.Graph``.  Anything else (``None``
        too) gives a report with the finding ``UNKNOWN_MODEL`` (the doctor does not guess).
    loss : Keras: the student's loss as a callable ``loss(x, y) -> scalar`` (what the custom
        loop computes under its ``GradientTape``; needs ``batch``); without it the doctor
        assumes ``fit``, which adds ``model.losses``.  Graph: the loss tensor that is minimized.
    train_step : Keras 3: a whole custom train step ``train_step(x, y)`` that applies its
        gradients with the model's (built) optimizer and returns its loss.  The doctor runs it
        once under a ``GradientTape`` and puts every weight and optimizer variable back.
    batch : ``(x, y)``: measures activity and ``add_loss`` terms, feeds ``loss`` or ``train_step``,
        and runs a model's own overridden ``train_step`` (what ``fit`` runs) to check it.
    data_loss : ``data_loss(y_true, y_pred)``, the data term of ``loss`` (default: the loss the
        model was compiled with).
    optimizer : Keras optimizer whose weight decay to report (default: ``model.optimizer``); a
        ``LossScaleOptimizer`` (mixed precision) is looked through to the optimizer inside.
    session : graph only: a ``tf.compat.v1.Session`` to evaluate penalties now.
    feed_dict : graph only: feeds for activity penalties that depend on placeholders.
    intended_lam : the L2 constant you meant, in ``convention``; the penalty you meant is
        ``intended_lam * sum(w**2) / 2`` (``slim``, the thread's) or ``intended_lam *
        sum(w**2)`` (``keras``).  A Keras ``l2`` that gives twice that penalty (slim's number
        given to Keras unhalved) is reported as ``SLIM_CONSTANT_NOT_HALVED``.
    convention : ``slim`` or ``keras`` (``reglab.penalties.CONVENTIONS``): what ``intended_lam``
        means.
    """
    kind = model_kind(obj)
    if kind == "unknown":
        report = Report(source="unknown", model=type(obj).__name__)
        report.findings.append(finding(
            "UNKNOWN_MODEL", f"a {type(obj).__module__}.{type(obj).__qualname__} is not {ACCEPTED}: "
            "the doctor does not guess."))
        return report
    if kind == "tf1_graph":
        report = _graph(obj, loss, train_step, session, feed_dict)
    else:
        report = _keras(obj, kind, loss, train_step, batch, data_loss, optimizer)
    intended_keras_l2 = None
    if intended_lam is not None:
        intended_keras_l2 = intended_lam if convention == "keras" else keras_l2_from_slim(intended_lam)
    add_advice(report, intended_keras_l2)
    return report


def _graph(graph: Any, loss: Any, train_step: Any, session: Any, feed_dict: Any) -> Report:
    import tensorflow as tf

    if train_step is not None:
        raise InvalidParameterError(
            "train_step is for Keras models; for a tf.Graph pass loss= (the loss tensor)")
    if loss is not None and (not isinstance(loss, tf.Tensor) or loss.graph is not graph):
        raise InvalidParameterError(
            f"loss must be a tensor of the graph being diagnosed; got {type(loss).__name__}")
    if session is not None and session.graph is not graph:
        raise InvalidParameterError("session must be a tf.compat.v1.Session on the graph being diagnosed")
    return inspect_graph(graph, loss=loss, session=session, feed_dict=feed_dict)


def _keras(model: Any, kind: str, loss: Any, train_step: Any, batch: Any, data_loss: Any,
           optimizer: Any) -> Report:
    optimizer = optimizer if optimizer is not None else getattr(model, "optimizer", None)
    step_optimizer = None
    if train_step is not None:
        if loss is not None:
            raise InvalidParameterError("pass loss= or train_step=, not both")
        step_optimizer = _step_optimizer(kind, optimizer)
        loss, what = train_step, "train_step"
    else:
        what = "loss"
    if loss is not None:
        if not callable(loss):
            raise InvalidParameterError(
                f"{what} must be a callable {what}(x, y) for a Keras model; got {type(loss).__name__}")
        if batch is None:
            raise InvalidParameterError(f"batch=(x, y) is needed to check {what}")
        data_loss = _data_loss(model, data_loss)
    report = inspect_keras(model, kind, batch)
    if report.codes() == ["MODEL_NOT_BUILT"]:
        return report
    regs = [regularizer_of(model, v, kind) for v in model.trainable_variables]
    if loss is not None:
        inspect_loss(model, loss, batch, data_loss, report, regs, step_optimizer=step_optimizer)
    elif kind == "keras":
        fit_data_loss = None
        if batch is not None and overrides_train_step(model):
            known = data_loss is not None or getattr(model, "loss", None) is not None
            fit_data_loss = _data_loss(model, data_loss) if known else None
        inspect_fit(model, batch, fit_data_loss, report, regs)
    if kind == "keras":
        inspect_decay(optimizer, list(model.trainable_variables), report)
    return report


def _step_optimizer(kind: str, optimizer: Any) -> Any:
    """The built Keras 3 optimizer that a ``train_step`` uses (so the doctor can put it back)."""
    if kind != "keras":
        raise InvalidParameterError("train_step is supported for Keras 3 models; for tf-keras pass loss=")
    if optimizer is None:
        raise InvalidParameterError(
            "train_step needs the optimizer it applies: pass optimizer= or compile the model")
    if not getattr(optimizer, "built", False):
        raise InvalidParameterError(
            "train_step: build the optimizer first (optimizer.build(model.trainable_variables)) "
            "so that the doctor can put its variables back")
    return optimizer


def _data_loss(model: Any, data_loss: Any) -> Any:
    """``data_loss``, or the loss ``model`` was compiled with."""
    if data_loss is not None:
        return data_loss
    compiled = getattr(model, "loss", None)
    if compiled is None:
        raise InvalidParameterError(
            "data_loss is needed: the model was not compiled with a loss "
            "(pass data_loss=keras.losses.SparseCategoricalCrossentropy(...), for example)")
    if isinstance(compiled, str):  # "mse": a function of one value per sample, averaged by the doctor
        import keras

        compiled = keras.losses.get(compiled)
    return compiled
