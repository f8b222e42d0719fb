"""Does the penalty enter the gradient of the loss that is minimized?  Decided by computation.

For a Keras model, a batch ``(x, y)`` and the gradient ``g_loss`` of what is minimized (a custom
loop's ``loss(x, y)``, a whole ``train_step``, or what ``fit`` would apply), the doctor computes,
for every trainable weight ``w``:

* ``g_data`` = d mean(data_loss(y, model(x))) / d w, the data term alone (a loss that returns one
  value per sample, as ``keras.losses.get("mse")`` does, is averaged as ``fit`` averages it);
* ``g_pen``  = d r(w) / d w for ``w``'s regularizer ``r`` (``2 lam w`` for ``keras l2(lam)``).

``g_data`` is taken twice, with ``training=False`` and with ``training=True``, each from the same
state: every variable, the random generators' seeds (Keras 3 keeps them as variables) and the
BatchNormalization statistics are put back before each call, so a correct loop with Dropout or
BatchNormalization sees exactly the masks and batch statistics that the data pass saw.  The mode
that explains ``g_loss`` better is used.

Then ``g_loss - g_data = k * g_pen`` is solved by least squares, over all penalized weights at
once when one ``k`` explains them all (one verdict per loss): ``k = 1`` is right, ``k = 0`` (the
penalty's part ``|k| * |g_pen|`` under float noise, ``NOISE`` times the largest gradient's norm)
means the penalty is left out (``CUSTOM_LOOP_MISSES_MODEL_LOSSES`` / ``REG_NOT_IN_LOSS``),
``k = 2`` counted twice, ``k = 3, 4 ...`` that many times, any other ``k`` a second constant
(``SCALE_APPLIED_TWICE``).  ``k`` is the penalty's factor in the loss, not relative to the data
term's (a loss that scales its data term is not ``g_data`` plus a multiple of ``g_pen``:
``LOSS_GRADIENT_UNEXPLAINED``).  A weight without a regularizer whose extra gradient is ``a * w``
carries a manual L2 penalty written into the loss: ``lam = a / 2`` in the keras convention.  What
neither mode explains is ``LOSS_GRADIENT_UNEXPLAINED``, unless the model has a layer that draws
random numbers the doctor cannot replay (``GRADIENT_CANNOT_TELL``, naming the layer).  Every
variable of the model (and the optimizer, and each layer's list of losses) is put back afterwards.

Size: one comparison serves the three sources of the minimized gradient (a custom loop's loss, a
train step, what ``fit`` runs: ``inspect_fit``); ``fit``'s part could move to a module of its own
once the map in CONTRIBUTING.md lists one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from reglab.doctor.conventions import RegularizerInfo
from reglab.doctor.findings import finding
from reglab.doctor.keras_model import Untouched, layers_of
from reglab.doctor.report import Report
from reglab.params import InvalidParameterError

#: relative size under which a gradient difference counts as float noise
NOISE = 1e-6
#: how close ``k`` must be to an integer to be called so
SNAP = 0.01
#: layer class names (parts) that draw random numbers in training mode
_RANDOM = ("Dropout", "Noise", "Random")


def _mean(value: Any) -> Any:
    import tensorflow as tf

    return tf.reduce_mean(value) if getattr(value, "shape", None) is not None and len(value.shape) else value


def _grads(fn: Callable[[], Any], variables: list[Any], what: str = "") -> list[np.ndarray]:
    """Gradients of ``fn()`` with respect to ``variables`` (zeros where unconnected).

    With ``what`` (the argument's name), a value that is not a tensor or depends on none of the
    variables is an ``InvalidParameterError``: it cannot be the loss that was minimized.
    """
    import tensorflow as tf

    with tf.GradientTape() as tape:
        value = fn()
    if what and not tf.is_tensor(value):
        raise InvalidParameterError(
            f"{what} must return the loss tensor it minimizes; got {type(value).__name__}")
    grads = tape.gradient(value, variables)
    if what and all(g is None for g in grads):
        raise InvalidParameterError(f"the value {what} returns does not depend on the model's weights: "
                         "return the loss it minimizes")
    return _arrays(grads, variables)


def _arrays(grads: list[Any], variables: list[Any]) -> list[np.ndarray]:
    out = []
    for g, v in zip(grads, variables, strict=True):
        if g is not None and hasattr(g, "values") and hasattr(g, "indices"):  # IndexedSlices
            import tensorflow as tf

            g = tf.convert_to_tensor(g)
        out.append(np.zeros(v.shape) if g is None else np.asarray(g, dtype=np.float64))
    return out


def random_layers(model: Any) -> list[str]:
    """Names of the layers that draw random numbers when ``training=True`` (Dropout, noise ...)."""
    return [f"{lay.name} ({type(lay).__name__})" for lay in layers_of(model)
            if any(part in type(lay).__name__ for part in _RANDOM)]


@dataclass
class _Verdict:
    kind: str            # "times", "manual", "none", "zero", "unexplained"
    value: float = 0.0   # k (times) or a (manual: a * w)
    residual: float = 0.0


def _verdict(w: np.ndarray, diff: np.ndarray, gp: np.ndarray | None, noise: float) -> _Verdict:
    """One weight's verdict, ``k`` not yet rounded (``_snap`` rounds it)."""
    if gp is None:
        if float(np.linalg.norm(diff)) <= noise:
            return _Verdict("none")
        norm_w = float(np.vdot(w, w))
        a = float(np.vdot(diff, w) / norm_w) if norm_w else 0.0
        residual = float(np.linalg.norm(diff - a * w))
        if norm_w and residual <= max(SNAP * abs(a) * np.sqrt(norm_w), noise):
            return _Verdict("manual", a, 0.0)
        return _Verdict("unexplained", 0.0, residual)
    norm_p = float(np.linalg.norm(gp))
    if norm_p <= noise:
        return _Verdict("zero")
    k = float(np.vdot(diff, gp) / norm_p**2)
    residual = float(np.linalg.norm(diff - k * gp))
    if residual > max(SNAP * abs(k) * norm_p, noise):
        return _Verdict("unexplained", k, residual)
    return _Verdict("times", k, 0.0)


def _snap(k: float, norm_p: float, noise: float) -> float:
    """``k`` as reported: ``0`` when ``|k| * |g_pen| <= noise`` (the penalty's part of the gradient
    cannot be told from float noise), an integer ``n >= 1`` when ``|k - n| <= SNAP``, else ``k``.
    Never rounded to 0 from a ``k`` the noise tells from 0 (``0.005 x`` is a second constant)."""
    if abs(k) * norm_p <= noise:
        return 0.0
    nearest = round(k)
    return float(nearest) if nearest >= 1 and abs(k - nearest) <= SNAP else k


def _verdicts(weights: list[np.ndarray], g_loss: list[np.ndarray], g_data: list[np.ndarray],
              g_pen: list[np.ndarray | None]) -> list[_Verdict]:
    """Per weight verdicts; when every penalized weight's extra gradient is ``k * g_pen`` with one
    common ``k`` (least squares over all of them, ``k = <D, P> / <P, P>`` on the concatenated
    differences ``D`` and penalty gradients ``P``), that ``k`` is every one's: one verdict per loss,
    not a split by float noise between kernels."""
    scale = max(float(np.linalg.norm(g)) for g in g_data + g_loss) or 1.0
    noise = NOISE * scale
    diffs = [gl - gd for gl, gd in zip(g_loss, g_data, strict=True)]
    verdicts = [_verdict(w, d, gp, noise) for w, d, gp in zip(weights, diffs, g_pen, strict=True)]
    times = [i for i, v in enumerate(verdicts) if v.kind == "times"]
    for i in times:
        verdicts[i].value = _snap(verdicts[i].value, float(np.linalg.norm(g_pen[i])), noise)
    if len(times) > 1:
        pen = [np.asarray(g_pen[i]) for i in times]
        norm_p = float(np.sqrt(sum(float(np.vdot(p, p)) for p in pen)))
        k = sum(float(np.vdot(diffs[i], p)) for i, p in zip(times, pen, strict=True)) / norm_p**2
        common = all(float(np.linalg.norm(diffs[i] - k * p))
                     <= max(SNAP * abs(k) * float(np.linalg.norm(p)), noise)
                     for i, p in zip(times, pen, strict=True))
        if common:
            k = _snap(k, norm_p, noise * np.sqrt(len(times)))
            for i in times:
                verdicts[i].value = k
    return verdicts


def _unexplained(verdicts: list[_Verdict]) -> tuple[int, float]:
    bad = [v.residual for v in verdicts if v.kind == "unexplained"]
    return len(bad), float(sum(bad))


def compare(model: Any, loss_grads: Callable[[], list[np.ndarray]], batch: tuple[Any, Any],
            data_loss: Any, report: Report, regularizers: list[Any], *, optimizer: Any = None,
            what: str = "the loss") -> None:
    """Decide per weight how many times its penalty is in the gradient ``loss_grads()`` returns
    (module docstring); update ``report``.  ``regularizers`` holds, per trainable variable (the
    order of ``report.weights``), the regularizer object or ``None``; ``optimizer``'s variables
    are put back too."""
    x, y = batch
    variables = list(model.trainable_variables)
    with Untouched(model, optimizer) as state:
        g_pen = [None if r is None else _grads(lambda r=r, v=v: r(v), [v])[0]
                 for r, v in zip(regularizers, variables, strict=True)]
        g_data = {}
        for training in (False, True):
            g_data[training] = _grads(lambda t=training: _mean(data_loss(y, model(x, training=t))), variables)
            state.restore()
        g_loss = loss_grads()  # last: a train step moves the weights
    weights = [np.asarray(v.numpy(), np.float64) for v in variables]
    candidates = {t: _verdicts(weights, g_loss, g, g_pen) for t, g in g_data.items()}
    verdicts = min(candidates.values(), key=_unexplained)
    _apply(report, verdicts, weights, sum(r is not None for r in regularizers), random_layers(model), what)


def _apply(report: Report, verdicts: list[_Verdict], weights: list[np.ndarray], regularized: int,
           randoms: list[str], what: str) -> None:
    times: dict[float, list[tuple[str, float]]] = {}
    unexplained = []
    for row, w, v in zip(report.weights, weights, verdicts, strict=True):
        if v.kind == "manual":
            row.regularizer = RegularizerInfo("l2", "in the loss", l2=v.value / 2)
            row.penalty = row.regularizer.penalty(w)
            row.in_loss, row.how = True, "found in the loss's gradient (2 lam w)"
        elif v.kind == "zero":
            row.in_loss, row.how = None, "penalty gradient is 0 at these weights: cannot tell"
        elif v.kind == "unexplained":
            row.in_loss = None
            row.how = "cannot tell (random layers)" if randoms else "loss gradient unexplained"
            unexplained.append(row.name)
        elif v.kind == "times":
            row.in_loss = v.value != 0.0
            row.how = f"gradient: {v.value:.4g} x the penalty's"
            times.setdefault(v.value, []).append((row.name, v.value))
    if unexplained and randoms:
        report.findings.append(finding(
            "GRADIENT_CANNOT_TELL",
            f"{what}'s gradient on {', '.join(unexplained)} could not be replayed: {', '.join(randoms)} "
            "draws random numbers, and the doctor's replay of them does not match (does the loss call the "
            "model twice, or draw its own noise? or is its data loss not the compiled one: pass "
            "data_loss=?); whether the penalty is in it cannot be told."))
    elif unexplained:
        report.findings.append(finding(
            "LOSS_GRADIENT_UNEXPLAINED",
            f"{what}'s gradient minus the data gradient, on {', '.join(unexplained)}, is neither a "
            "multiple of the penalty's nor an L2 term (another penalty, or a different data loss?)."))
    _summarize(report, times, regularized, what)


def _summarize(report: Report, times: dict[float, list[tuple[str, float]]], regularized: int,
               what: str) -> None:
    missing = times.pop(0.0, [])
    times.pop(1.0, None)
    if missing and len(missing) == regularized:
        report.findings.append(finding(
            "CUSTOM_LOOP_MISSES_MODEL_LOSSES",
            f"none of the {regularized} penalties is in {what}'s gradient: add sum(model.losses) to "
            "the loss inside the GradientTape."))
    elif missing:
        report.findings.append(finding(
            "REG_NOT_IN_LOSS", f"the penalty of {_names(missing)} is not in {what}'s gradient."))
    twice = times.pop(2.0, [])
    if twice:
        report.findings.append(finding(
            "REG_COUNTED_TWICE", f"the penalty of {_names(twice)} is in {what}'s gradient twice its value "
            "(sum(model.losses) added twice, or multiplied by 2: the gradient cannot tell which): keep one "
            "sum(model.losses), unscaled."))
    several = [p for k in sorted(times) if k == int(k) for p in times[k]]
    if several:
        report.findings.append(finding(
            "REG_COUNTED_N_TIMES", f"the penalty of {_names(several)} is in {what}'s gradient that many "
            "times its value (sum(model.losses) added that many times, or multiplied by that number: the "
            "gradient cannot tell which): keep one sum(model.losses), unscaled."))
    other = [p for k in sorted(times) if k != int(k) for p in times[k]]
    if other:
        report.findings.append(finding(
            "SCALE_APPLIED_TWICE",
            f"the penalty of {_names(other)} is in {what}'s gradient with a second constant: the "
            "regularizer already holds its constant; write the strength once, in the regularizer."))


def _names(pairs: list[tuple[str, float]]) -> str:
    return ", ".join(f"{name} ({k:.4g} x)" for name, k in pairs)


def inspect_loss(model: Any, loss: Callable[..., Any], batch: tuple[Any, Any], data_loss: Any,
                 report: Report, regularizers: list[Any], *, step_optimizer: Any = None) -> None:
    """The custom loop's ``loss(x, y)`` (or, with ``step_optimizer``, a whole train step that
    applies its gradients with that optimizer and returns its loss: run once under an outer
    ``GradientTape``, which gives the gradient the step used) compared with ``compare``."""
    what = "train_step" if step_optimizer is not None else "loss"
    x, y = batch
    compare(model, lambda: _grads(lambda: loss(x, y), list(model.trainable_variables), what), batch,
            data_loss, report, regularizers, optimizer=step_optimizer, what=f"the {what}")


# --- what fit minimizes ----------------------------------------------------------------------
def overrides_train_step(model: Any) -> bool:
    """Whether ``type(model)`` replaces Keras 3's ``train_step`` (so ``fit`` runs the user's)."""
    import keras

    return getattr(type(model), "train_step", None) is not keras.Model.train_step


def _captured_step(model: Any, batch: tuple[Any, Any]) -> Callable[[], list[np.ndarray]]:
    """Run ``model.train_step(batch)`` with the optimizer's ``apply`` replaced by a recorder: the
    gradients ``fit`` would apply (a loss scale undone), nothing applied."""
    optimizer = model.optimizer
    variables = list(model.trainable_variables)

    def run() -> list[np.ndarray]:
        seen: list[Any] = []

        def record(grads: Any, trainable_variables: Any = None) -> None:
            seen.append(list(grads))

        optimizer.apply = record
        try:
            model.train_step(tuple(batch))
        finally:
            del optimizer.apply
        if not seen:
            raise InvalidParameterError("the model's train_step applied no gradients")
        scale = 1.0
        if getattr(optimizer, "inner_optimizer", None) is not None and hasattr(optimizer, "scale_loss"):
            scale = float(optimizer.dynamic_scale) if optimizer.built else float(optimizer.initial_scale)
        return [g / scale for g in _arrays(seen[-1], variables)]

    return run


def inspect_fit(model: Any, batch: Any, data_loss: Any, report: Report, regularizers: list[Any]) -> None:
    """What ``fit`` minimizes: an overridden ``train_step`` is run (with ``batch``) and its
    gradients compared; a compiled loss that itself adds ``model.losses`` is caught."""
    if overrides_train_step(model):
        if batch is None or getattr(model, "optimizer", None) is None or data_loss is None:
            for row in report.weights:
                if row.regularizer is not None:
                    row.in_loss, row.how = None, "fit runs an overridden train_step: not checked"
            report.findings.append(finding(
                "TRAIN_STEP_NOT_CHECKED",
                f"{type(model).__name__} overrides train_step, so fit minimizes what it computes: compile "
                "the model and pass batch=(x, y) to check that it adds model.losses."))
            return
        metrics = list(getattr(model, "metrics_variables", []))
        with _Restored(metrics):
            compare(model, _captured_step(model, batch), batch, data_loss, report, regularizers,
                    optimizer=model.optimizer, what="fit's train_step")
        return
    _compiled_loss_adds_losses(model, batch, report, regularizers)


class _Restored:
    def __init__(self, variables: list[Any]) -> None:
        self.variables = variables

    def __enter__(self) -> None:
        self.values = [np.array(v.numpy()) for v in self.variables]

    def __exit__(self, *exc: object) -> None:
        for v, value in zip(self.variables, self.values, strict=True):
            v.assign(value)


def _compiled_loss_adds_losses(model: Any, batch: Any, report: Report, regularizers: list[Any]) -> None:
    """``compile(loss=lambda y, p: ce(y, p) + sum(model.losses))``: ``fit`` adds the penalty again.

    The compiled loss is differentiated with the predictions held fixed: whatever gradient
    reaches the weights then comes from terms that read them directly (``model.losses``)."""
    import keras
    import tensorflow as tf

    compiled = getattr(model, "loss", None)
    if not callable(compiled) or isinstance(compiled, keras.losses.Loss) \
            or type(compiled).__module__.startswith("keras") \
            or getattr(compiled, "__module__", "").startswith(("keras", "tf_keras")):
        return
    variables = list(model.trainable_variables)
    pairs = _fixed_pairs(model, batch)
    for y, p in pairs:
        try:
            with Untouched(model):
                g = _grads(lambda y=y, p=p: _mean(compiled(y, tf.stop_gradient(p))), variables)
                g_pen = [None if r is None else _grads(lambda r=r, v=v: r(v), [v])[0]
                         for r, v in zip(regularizers, variables, strict=True)]
        except Exception:  # noqa: BLE001 - this pair does not fit the loss; try the next
            continue
        flat = np.concatenate([x.ravel() for x in g])
        pen = np.concatenate([(np.zeros(v.shape) if gp is None else gp).ravel()
                              for gp, v in zip(g_pen, variables, strict=True)])
        if float(np.linalg.norm(flat)) <= NOISE * max(float(np.linalg.norm(pen)), 1e-30) \
                or not np.linalg.norm(pen):
            return
        k = float(np.vdot(flat, pen) / np.vdot(pen, pen))
        total = 1.0 + k
        label = f"{round(total)}" if abs(total - round(total)) <= SNAP else f"{total:.4g}"
        for row, gp in zip(report.weights, g_pen, strict=True):
            if gp is not None and row.in_loss:
                row.how = f"in model.losses (fit adds it) and in the compiled loss: {label} x"
        code = "REG_COUNTED_TWICE" if label == "2" else "REG_COUNTED_N_TIMES" if label.isdigit() \
            else "SCALE_APPLIED_TWICE"
        report.findings.append(finding(
            code, f"the compiled loss already adds model.losses and fit adds them again: the penalty is in "
                  f"what fit minimizes {label} times; compile with the data loss alone."))
        return


def _fixed_pairs(model: Any, batch: Any) -> list[tuple[Any, Any]]:
    """``(y, predictions)`` pairs to evaluate a compiled loss on: the batch's, or zeros shaped
    like the model's output (labels as floats of that shape, or as integers without its last axis)."""
    import tensorflow as tf

    if batch is not None:
        with Untouched(model):
            p = model(batch[0], training=False)
        return [(batch[1], p)]
    outputs = getattr(model, "outputs", None)
    if not outputs or len(outputs) != 1:
        return []
    shape = (2, *[int(d or 1) for d in outputs[0].shape[1:]])
    p = tf.zeros(shape, outputs[0].dtype)
    return [(tf.zeros(shape[:-1], tf.int32), p), (tf.zeros(shape, p.dtype), p)]
