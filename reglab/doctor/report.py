"""The doctor's ``Report``: one row per weight, the activity penalties, the optimizer's weight
decay and the findings, printable as a text table, as HTML in a notebook, and as JSON data."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from reglab.doctor.conventions import RegularizerInfo
from reglab.doctor.findings import Finding
from reglab.params import Text, validated


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _shape(shape: tuple[int | None, ...]) -> str:
    return "x".join("?" if d is None else str(d) for d in shape) or "scalar"


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "?"}[value]


@dataclass
class WeightRow:
    """One trainable variable.

    ``penalty`` is ``regularizer``'s value now (``None`` if it cannot be evaluated);
    ``in_loss`` says whether that penalty reaches the optimized loss (``None``: not checked) and
    ``how`` says how it was decided; ``decay`` is the optimizer's weight decay on it, if any.
    """

    name: str
    shape: tuple[int | None, ...]
    regularizer: RegularizerInfo | None = None
    penalty: float | None = None
    in_loss: bool | None = None
    how: str = ""
    decay: float | None = None
    role: str = ""  # "bias", "scale" or "weight" when the doctor knows it ("" : by name and rank)
    before_batchnorm: bool = False  # only BatchNormalization reads this kernel's output

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {"name": self.name, "shape": list(self.shape),
                "regularizer": None if self.regularizer is None else self.regularizer.to_dict(),
                "penalty": self.penalty, "in_loss": self.in_loss, "how": self.how,
                "decay": self.decay, "role": self.role, "before_batchnorm": self.before_batchnorm}


@dataclass
class ActivityRow:
    """An activity regularizer: the layer (or tensor), its regularizer and its cost on the batch."""

    layer: str
    regularizer: RegularizerInfo | None
    penalty: float | None
    terms: int = 0  # how many terms (calls x outputs) the penalty sums; 0: not measured

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {"layer": self.layer,
                "regularizer": None if self.regularizer is None else self.regularizer.to_dict(),
                "penalty": self.penalty, "terms": self.terms}


@dataclass
class LossRow:
    """A term of ``model.losses`` that a layer's ``call`` adds with ``add_loss``: its value."""

    layer: str
    penalty: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {"layer": self.layer, "penalty": self.penalty}


@dataclass
class Report:
    """What the doctor found: ``weights``, ``activity``, ``decay`` and ``findings``.

    ``decay`` is ``None`` or the optimizer's weight decay: ``optimizer`` (class name),
    ``weight_decay`` (``d`` in ``w <- w - lr * d * w`` per step), ``learning_rate``,
    ``variables`` (the names it decays) and ``equivalent_under_sgd`` (``kind``, ``lam``,
    ``convention``: the L2 penalty that plain SGD's decay equals).
    """

    source: str
    model: str
    weights: list[WeightRow] = field(default_factory=list)
    activity: list[ActivityRow] = field(default_factory=list)
    added: list[LossRow] = field(default_factory=list)
    decay: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)

    # --- data --------------------------------------------------------------------------
    def codes(self) -> list[str]:
        """The finding codes, in order, without repeats."""
        return list(dict.fromkeys(f.code for f in self.findings))

    @validated(name_part=Text())
    def row(self, name_part: str) -> WeightRow:
        """The one weight row whose name contains ``name_part`` (``KeyError`` if not exactly one)."""
        rows = [r for r in self.weights if name_part in r.name]
        if len(rows) != 1:
            raise KeyError(f"{len(rows)} weights match {name_part!r}: {[r.name for r in rows]}")
        return rows[0]

    @property
    def total_penalty(self) -> float | None:
        """Sum of the weight penalties now (``None`` if one of them is unknown)."""
        values = [r.penalty for r in self.weights if r.regularizer is not None]
        if any(v is None for v in values):
            return None
        return float(sum(values))

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-serializable data."""
        return {"source": self.source, "model": self.model,
                "weights": [r.to_dict() for r in self.weights],
                "total_penalty": self.total_penalty,
                "activity": [a.to_dict() for a in self.activity],
                "add_loss": [a.to_dict() for a in self.added],
                "weight_decay": self.decay,
                "findings": [f.to_dict() for f in self.findings]}

    def to_json(self) -> str:
        """``to_dict()`` as an indented JSON string."""
        return json.dumps(self.to_dict(), indent=2)

    # --- rendering ---------------------------------------------------------------------
    _HEADER = ("weight", "shape", "regularizer", "penalty", "in loss", "decay", "same as")

    def _weight_cells(self) -> list[tuple[str, ...]]:
        cells = []
        for r in self.weights:
            reg = r.regularizer
            same = "" if reg is None else " = ".join(
                v for k, v in reg.conventions().items() if k != reg.api)
            in_loss = "-" if reg is None else _yes_no(r.in_loss)
            cells.append((r.name, _shape(r.shape), "-" if reg is None else reg.label(),
                          _fmt(r.penalty), in_loss, _fmt(r.decay), same))
        return cells

    def _activity_lines(self) -> list[str]:
        terms = {0: "", 1: ""}
        return [f"activity {a.layer}: "
                f"{'?' if a.regularizer is None else a.regularizer.label()}, "
                f"{_fmt(a.penalty)} on the batch{terms.get(a.terms, f' ({a.terms} terms)')}"
                for a in self.activity] + [f"add_loss in {a.layer}: {_fmt(a.penalty)}" for a in self.added]

    def _decay_line(self) -> str | None:
        if not self.decay:
            return None
        return (f"weight decay: {self.decay['optimizer']}(weight_decay={_fmt(self.decay['weight_decay'])}) "
                f"on {len(self.decay['variables'])} of {len(self.weights)} variables")

    def __str__(self) -> str:
        lines = [f"Regularization report: {self.model} ({self.source})"]
        cells = [self._HEADER, *self._weight_cells()]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self._HEADER) - 1)]
        for row in cells:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
                         + ("  " + row[-1] if row[-1] else "").rstrip())
        total = self.total_penalty
        lines.append(f"total weight penalty: {_fmt(total)}")
        lines.extend(self._activity_lines())
        decay = self._decay_line()
        if decay:
            lines.append(decay)
        if self.findings:
            lines.append("findings:")
            lines.extend(f"  [{f.severity}] {f.code}: {f.message} (see {f.notebook})"
                         for f in self.findings)
        else:
            lines.append("findings: none")
        return "\n".join(line.rstrip() for line in lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        e = html.escape
        head = "".join(f"<th>{e(h)}</th>" for h in self._HEADER)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                       for row in self._weight_cells())
        extra = [f"total weight penalty: {_fmt(self.total_penalty)}", *self._activity_lines()]
        decay = self._decay_line()
        if decay:
            extra.append(decay)
        items = "".join(
            f"<li><b>{e(f.code)}</b> [{e(f.severity)}] {e(f.message)} (see {e(f.notebook)})</li>"
            for f in self.findings) or "<li>none</li>"
        return (f"<p><b>Regularization report</b>: {e(self.model)} ({e(self.source)})</p>"
                f"<table><tr>{head}</tr>{body}</table>"
                + "".join(f"<p>{e(x)}</p>" for x in extra)
                + f"<p>findings:</p><ul>{items}</ul>")
