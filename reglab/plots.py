"""Plots the notebooks share: loss curves with the penalty apart, and weight histograms.

Every function draws on a new figure and returns it; the notebook calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from reglab._validate import InvalidParameterError, check_array


def _kind(value: object) -> str:
    empty = "an empty " if isinstance(value, Mapping) else ""
    return empty + type(value).__name__


def _pyplot() -> Any:
    import matplotlib.pyplot as plt

    return plt


def plot_loss_and_penalty(
    curves: Mapping[str, Sequence[float]],
    *,
    penalty_curves: Mapping[str, Sequence[float]] | None = None,
    xlabel: str = "step",
    title: str = "",
) -> Any:
    """Data loss (left) and penalty (right) against ``xlabel``, one line per key.

    ``curves`` maps a label to its data-loss values; ``penalty_curves`` (same labels or others)
    to its penalty values.  Keeping them apart shows what the total loss hides.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise InvalidParameterError(
            f"curves must be a non-empty mapping of label -> data-loss values, got {_kind(curves)}")
    plt = _pyplot()
    panels = 2 if penalty_curves else 1
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 3.2), squeeze=False)
    for label, values in curves.items():
        axes[0, 0].plot(check_array(f"curves[{label!r}]", values, ndim=1), label=label)
    axes[0, 0].set(title="data loss", xlabel=xlabel)
    axes[0, 0].legend(fontsize=8)
    if penalty_curves:
        for label, values in penalty_curves.items():
            axes[0, 1].plot(check_array(f"penalty_curves[{label!r}]", values, ndim=1), label=label)
        axes[0, 1].set(title="penalty", xlabel=xlabel)
        axes[0, 1].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_weight_histograms(
    weights: Mapping[str, Any], *, bins: int = 60, title: str = "", log: bool = True
) -> Any:
    """One histogram of all weight values per key (e.g. per lambda), on shared axes."""
    if not isinstance(weights, Mapping) or not weights:
        raise InvalidParameterError(
            f"weights must be a non-empty mapping of label -> array of weights, got {_kind(weights)}")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    arrays = {k: check_array(f"weights[{k!r}]", v).ravel() for k, v in weights.items()}
    lo = min(a.min() for a in arrays.values())
    hi = max(a.max() for a in arrays.values())
    edges = np.linspace(lo, hi, bins + 1) if hi > lo else bins
    for label, values in arrays.items():
        ax.hist(values, bins=edges, histtype="step", label=label, log=log)
    ax.set(xlabel="weight value", ylabel="count", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
