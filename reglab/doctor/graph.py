"""The doctor on a TF1 ``tf.Graph``: the collection, the variables, and the loss tensor.

Penalty "atoms" are found by op type: ``L2Loss(w)`` (``tf.nn.l2_loss``, slim's
``l2_regularizer``: ``lam * sum(w**2) / 2``, the slim convention), ``Sum(Square(w))``
(Keras-style ``l2``: ``lam * sum(w**2)``, the keras convention) and ``Sum(Abs(w))`` (``l1``).
For every atom the doctor computes its linear coefficient (``graph_walk.coefficient``) in each
``REGULARIZATION_LOSSES`` entry, which gives the regularizer's constant, and in the loss, which
says whether and how strongly the penalty reaches it: ``times`` = coefficient in the loss /
coefficient in the collection.  The same walk with constant factors counted as 1
(``coefficient(..., count_paths=True)``) gives ``added``, how many times the penalty is *added*
into the loss, which tells the two causes of ``times != 1`` apart: ``times`` 0 is
``REG_NOT_IN_LOSS``; ``added`` 2 or more is the collection summed more than once
(``REG_COUNTED_TWICE``, ``REG_COUNTED_N_TIMES``, ``d + R + R + R``); ``added`` 1 with ``times``
not 1 is a constant multiplied into a penalty that already holds one (``SCALE_APPLIED_TWICE``,
``d + 3 * R`` or answer 0's ``reg_constant``), or, for a regularizer that holds no constant
(``regularizer=tf.nn.l2_loss``), the strength itself (no finding).  An atom that only the loss
holds is a manual penalty (answer 8's ``tf.nn.l2_loss``).  Nothing is added to the graph; a
session, if given, only fetches existing tensors.

Limit: ``times`` is the penalty's factor in the whole loss, not compared with the data term's
factor: ``2.0 * (d + R)`` is ``SCALE_APPLIED_TWICE`` though the balance is unchanged, ``2.0 * d + R``
raises nothing though the relative strength is halved, and ``d + 0.5 * R + 0.5 * R`` is ``added``
2 (``REG_COUNTED_TWICE``) at ``1 x`` in the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reglab.doctor.conventions import RegularizerInfo
from reglab.doctor.findings import finding
from reglab.doctor.graph_walk import VARIABLE_OPS, ancestors, coefficient, source_of
from reglab.doctor.report import ActivityRow, Report, WeightRow

# op type of the atom -> (kind, factor from coefficient to the Keras constant, api)
_ATOMS = {"L2Loss": ("l2", 0.5, "tf_slim"), "Square": ("l2", 1.0, "keras"), "Abs": ("l1", 1.0, "tf_slim")}


@dataclass
class _Atom:
    tensor: Any      # the scalar penalty without its constant
    subject: Any     # the op it penalizes (a variable op, or any other tensor's op)
    kind: str
    factor: float
    api: str


def _atoms(graph: Any) -> list[_Atom]:
    found = []
    for op in graph.get_operations():
        if op.type == "L2Loss":
            found.append(_Atom(op.outputs[0], source_of(op.inputs[0]), *_ATOMS["L2Loss"]))
        elif op.type == "Sum" and op.inputs[0].op.type in ("Square", "Abs"):
            inner = op.inputs[0].op
            found.append(_Atom(op.outputs[0], source_of(inner.inputs[0]), *_ATOMS[inner.type]))
    return found


def _info(atom: _Atom, coef: float, api: str | None = None) -> RegularizerInfo:
    value = coef * atom.factor
    api = api or atom.api
    return RegularizerInfo("l2", api, l2=value) if atom.kind == "l2" else RegularizerInfo("l1", api, l1=value)


def _is_weight(entry: Any) -> bool:
    import tensorflow as tf

    if isinstance(entry, tf.Variable):
        return True
    if entry.shape.rank != 0:
        return True
    return source_of(entry).type in VARIABLE_OPS


def inspect_graph(graph: Any, *, loss: Any = None, session: Any = None, feed_dict: Any = None) -> Report:
    """Report on ``graph``'s trainable variables, its ``REGULARIZATION_LOSSES`` and ``loss``."""
    import tensorflow as tf

    keys = tf.compat.v1.GraphKeys
    report = Report(source="tf1_graph", model=f"tf.Graph with {len(graph.get_operations())} ops")
    variables = graph.get_collection(keys.TRAINABLE_VARIABLES)
    entries = graph.get_collection(keys.REGULARIZATION_LOSSES)
    penalties = [e for e in entries if not _is_weight(e)]
    weights = [f"{e.name} {e.shape.as_list()}" for e in entries if _is_weight(e)]
    if weights:
        report.findings.append(finding(
            "WEIGHTS_IN_REG_COLLECTION",
            f"REGULARIZATION_LOSSES holds weights, not penalties: {', '.join(weights)}; "
            "get_regularization_loss() fails on them or adds them raw. Answer 1's intent is cut off in the "
            "thread; one reading that works: add the weights to GraphKeys.WEIGHTS, and "
            "tf_slim.apply_regularization(regularizer) (no list) penalizes that collection; or let a "
            "regularizer file its penalty (get_variable(regularizer=))."))
    atoms = _atoms(graph)
    by_var = {v.op.name: v for v in variables}
    loss_coef: dict[str, float | None] = {}
    loss_adds: dict[str, float | None] = {}
    if loss is not None:
        loss_coef = {a.tensor.name: coefficient(loss, a.tensor) for a in atoms}
        loss_adds = {a.tensor.name: coefficient(loss, a.tensor, count_paths=True) for a in atoms}
    claimed: set[str] = set()
    pending: dict[str, list[str]] = {}
    for v in variables:
        row = WeightRow(name=v.name, shape=tuple(v.shape.as_list()))
        mine = [a for a in atoms if a.subject.name == v.op.name]
        _fill_row(row, v, mine, penalties, loss, (loss_coef, loss_adds), session, pending, claimed)
        report.weights.append(row)
    for code, names in pending.items():
        report.findings.append(finding(code, _MESSAGES[code].format(", ".join(names))))
    _activity(report, penalties, atoms, by_var, claimed, session, feed_dict)
    if loss is not None:
        _entries_counted_twice(report, penalties, loss)
    elif penalties:
        report.findings.append(finding(
            "LOSS_NOT_GIVEN", "pass loss= (the tensor you minimize) to check that the penalties reach it."))
    return report


def _fill_row(row: WeightRow, v: Any, mine: list[_Atom], penalties: list[Any], loss: Any,
              in_loss: tuple[dict[str, float | None], dict[str, float | None]], session: Any,
              pending: dict[str, list[str]], claimed: set[str]) -> None:
    """The regularizer of variable ``v`` (from the collection, or from the loss alone).

    ``get_variable(regularizer=)`` files a lazy tensor that builds a fresh copy of the penalty
    ops each time it is used (``tf.add_n(collection)`` makes one), so the loss holds a copy, not
    the collection's tensor: the doctor adds up the coefficients of all of ``v``'s atoms.
    ``in_loss``: each atom's coefficient in the loss, and its number of additions.
    """
    loss_coef, loss_adds = in_loss
    for entry in penalties:
        if v.op.name not in ancestors(entry):
            continue
        claimed.add(entry.name)
        for atom in mine:
            coef = coefficient(entry, atom.tensor)
            if coef:
                row.regularizer = _info(atom, coef)
                if loss is not None:
                    own = [a for a in mine if a.kind == atom.kind and _is_regularizers(a, entry, v)]
                    manual = [a for a in mine if a.kind == atom.kind and a not in own]
                    in_entry = coefficient(entry, atom.tensor, count_paths=True)
                    adds = _additions(own, atom.kind, loss_adds, in_entry)
                    _in_loss(row, _loss_constant(own, atom.kind, loss_coef),
                             _loss_constant(manual, atom.kind, loss_coef), abs(coef - 1.0) > 1e-12, adds,
                             pending)
                break
        break
    else:  # in no collection entry: a manual penalty written into the loss?
        for kind in ("l2", "l1"):
            total = _loss_constant(mine, kind, loss_coef)
            if total:
                api = "tf.nn.l2_loss" if any(a.factor == 0.5 for a in mine) else "manual"
                row.regularizer = (RegularizerInfo("l2", api, l2=total) if kind == "l2"
                                   else RegularizerInfo("l1", api, l1=total))
                row.in_loss, row.how = True, "written into the loss (no collection)"
                break
    if row.regularizer is not None and row.regularizer.kind != "custom" and session is not None:
        row.penalty = row.regularizer.penalty(session.run(v))


def _is_regularizers(atom: _Atom, entry: Any, v: Any) -> bool:
    """Whether ``atom`` is the regularizer's own: in the collection entry, or one of the copies
    that ``get_variable(regularizer=)`` builds under ``NAME/Regularizer/`` each time it is read."""
    copy = atom.tensor.op.name.startswith(f"{v.op.name}/Regularizer/")
    return copy or bool(coefficient(entry, atom.tensor))


def _loss_constant(atoms: list[_Atom], kind: str, loss_coef: dict[str, float | None]) -> float | None:
    """The Keras-convention constant of ``kind`` with which the loss holds these atoms."""
    total = 0.0
    for atom in atoms:
        if atom.kind != kind:
            continue
        coef = loss_coef.get(atom.tensor.name, 0.0)
        if coef is None:
            return None
        total += coef * atom.factor
    return total


def _additions(atoms: list[_Atom], kind: str, loss_adds: dict[str, float | None],
               in_entry: float | None) -> float | None:
    """How many times the loss adds the regularizer's own penalty (``count_paths``, module docstring)."""
    if not in_entry:
        return None
    total = 0.0
    for atom in atoms:
        if atom.kind == kind:
            adds = loss_adds.get(atom.tensor.name, 0.0)
            if adds is None:
                return None
            total += adds
    return total / in_entry


def _keras(kind: str, value: float) -> str:
    return f"keras {kind}({value:.4g})"


def _in_loss(row: WeightRow, in_loss: float | None, extra: float | None, has_constant: bool,
             adds: float | None, pending: dict[str, list[str]]) -> None:
    """``in_loss``: the Keras constant with which the loss holds the regularizer's own penalty;
    ``extra``: that of penalties of the same kind written by hand on the same weight; ``adds``:
    how many times the loss adds the regularizer's penalty (``None``: not known)."""
    reg = row.regularizer
    if in_loss is None or extra is None:
        row.in_loss, row.how = True, "the loss depends on it, not linearly"
        return
    own = reg.l2 if reg.kind == "l2" else reg.l1
    times = in_loss / own
    row.in_loss = abs(times) > 1e-9
    row.how = f"{times:.4g} x in the loss"
    nearest = round(times)
    whole = abs(times - nearest) < 1e-6
    added = round(adds) if adds is not None and abs(adds - round(adds)) < 1e-6 else None
    if added is None:  # the additions cannot be counted: judge by the multiple alone
        added = nearest if whole and nearest >= 2 else 1
    if not row.in_loss:
        pending.setdefault("REG_NOT_IN_LOSS", []).append(f"{row.name} (0 x)")
    elif added >= 2:
        code = "REG_COUNTED_TWICE" if added == 2 else "REG_COUNTED_N_TIMES"
        detail = f"{added} x" if abs(times - added) < 1e-6 else f"added {added} times, {times:.4g} x in all"
        pending.setdefault(code, []).append(f"{row.name} ({detail})")
    elif abs(times - 1.0) < 1e-6:
        pass
    elif not has_constant:  # e.g. regularizer=tf.nn.l2_loss: the loss's constant is the strength
        row.regularizer = RegularizerInfo(reg.kind, "tf.nn.l2_loss" if reg.api == "tf_slim" else reg.api,
                                          l1=in_loss if reg.kind == "l1" else 0.0,
                                          l2=in_loss if reg.kind == "l2" else 0.0)
        row.how = "the loss gives the constant (the regularizer holds none)"
    else:
        pending.setdefault("SCALE_APPLIED_TWICE", []).append(
            f"{row.name} ({reg.label()} x {times:.4g} = {_keras(reg.kind, in_loss)})")
    if extra and row.in_loss:
        pending.setdefault("MANUAL_PENALTY_ON_TOP", []).append(
            f"{row.name} ({reg.label()}, plus {_keras(reg.kind, extra)} by hand)")


_MESSAGES = {
    "REG_NOT_IN_LOSS": "the loss does not depend on the penalty of {} although it is in "
                       "REGULARIZATION_LOSSES: add tf.compat.v1.losses.get_regularization_loss().",
    "REG_COUNTED_TWICE": "the penalty of {} is added to the loss twice (apply_regularization's sum plus "
                         "get_regularization_loss(), which already holds it? or the collection summed "
                         "twice): keep one.",
    "REG_COUNTED_N_TIMES": "the penalty of {} is added to the loss that many times "
                           "(get_regularization_loss() or a sum of the collection written more than once): "
                           "keep one.",
    "SCALE_APPLIED_TWICE": "the penalty of {} already holds its regularizer's constant and the loss "
                           "multiplies it by another (a reg_constant like answer 0's): write the strength "
                           "once, in the regularizer, and add the collection unscaled.",
    "MANUAL_PENALTY_ON_TOP": "{}: the regularizer's penalty is in the loss and a second one, written by "
                             "hand, is added on top; keep one of the two.",
}


def _activity(report: Report, penalties: list[Any], atoms: list[_Atom], by_var: dict[str, Any],
              claimed: set[str], session: Any, feed_dict: Any) -> None:
    """Collection entries that penalize no variable: activity penalties (answer 9)."""
    for entry in penalties:
        if entry.name in claimed:
            continue
        info = None
        deps = ancestors(entry)
        for atom in atoms:
            if atom.tensor.op.name in deps and atom.subject.name not in by_var:
                coef = coefficient(entry, atom.tensor)
                if coef:
                    info = _info(atom, coef)
                    break
        value = None
        if session is not None:
            needs_feed = any(entry.graph.get_operation_by_name(n).type == "Placeholder" for n in deps)
            if not needs_feed or feed_dict is not None:
                value = float(session.run(entry, feed_dict=feed_dict))
        report.activity.append(ActivityRow(layer=entry.name, regularizer=info, penalty=value))


def _entries_counted_twice(report: Report, penalties: list[Any], loss: Any) -> None:
    """A collection entry (e.g. apply_regularization's sum) that the loss holds twice."""
    if "REG_COUNTED_TWICE" in report.codes():
        return
    for entry in penalties:
        c = coefficient(loss, entry, count_paths=True)
        if c is not None and abs(c - 2.0) < 1e-6:
            report.findings.append(finding(
                "REG_COUNTED_TWICE",
                f"{entry.name} enters the loss twice: apply_regularization() also puts its sum in "
                "REGULARIZATION_LOSSES, so adding get_regularization_loss() counts it again."))
