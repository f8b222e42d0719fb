"""A sweep over lambdas on the command line (``reglab sweep``): train, show progress, print the table.

``sweep`` trains EasyNet once per lambda with one approach of ``reglab.sweep.approaches`` and
prints, per lambda, the test accuracy, the final data loss and penalty (slim convention) and the
counts of predicted classes, as a table or as one JSON object.  ``progress_bar`` is the ``tqdm``
bar it draws per lambda, on stderr and only when stderr is a terminal.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from reglab.params import Boolean, Integer, ListOf, Text, validated
from reglab.sweep.run import CONVENTION, SETTINGS, make_run

#: The fields of a ``SweepResult`` that a sweep reports per lambda.
ROW = ("test_accuracy", "final_data_loss", "final_penalty", "step0_total_loss",
       "predicted_class_counts")
#: The penalty of one kernel ``k``, per kind, in the slim convention.
FORMULA = {"l2": "lam * sum(k**2) / 2", "l1": "lam * sum(|k|)"}


@validated(label=Text(), total=Integer(minimum=0))
def progress_bar(label: str, total: int, stream: TextIO | None = None) -> Any:
    """A ``tqdm`` bar of ``total`` epochs on ``stream`` (default stderr), drawn only on a terminal.

    Its ``on_epoch`` attribute is the callback a trainer calls after each epoch with
    ``(epochs done, data loss, penalty)``.
    """
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="epoch", file=sys.stderr if stream is None else stream,
               disable=None, ascii=True, leave=True)  # disable=None: off unless a terminal

    def on_epoch(done: int, data_loss: float, penalty: float) -> None:
        bar.set_postfix_str(f"data loss {data_loss:.4f}, penalty {penalty:.4f}", refresh=False)
        bar.update(max(done - bar.n, 0))

    bar.on_epoch = on_epoch
    return bar


@validated(lambdas=ListOf(SETTINGS["lam"], min_length=1), as_json=Boolean(),
           **{name: SETTINGS[name] for name in
              ("approach", "epochs", "dataset", "batch_size", "learning_rate", "seed", "kind")})
def sweep(lambdas: Sequence[float], *, approach: str, epochs: int, dataset: str, batch_size: int,
          learning_rate: float, seed: int, kind: str, as_json: bool, out: TextIO) -> int:
    """Train EasyNet once per lambda (the other arguments are ``make_run``'s) and print the table.

    Every lambda and setting is checked before the first run trains (``kind`` against the
    approach too): a bad value stops the sweep before any work.
    """
    runs = [make_run(approach, lam, epochs, dataset, batch_size, learning_rate, seed, kind)
            for lam in lambdas]
    import reglab
    from reglab.sweep.approaches import APPROACHES  # imports TensorFlow

    reglab.setup(runs[0].seed)
    rows = []
    for run in runs:
        with progress_bar(f"lambda {run.lam:<8g}", run.epochs) as bar:
            result = APPROACHES[run.approach](dataclasses.replace(run, on_epoch=bar.on_epoch))
        rows.append({"lam": run.lam, **{name: getattr(result, name) for name in ROW}})
    first = runs[0]
    if as_json:
        shared = {name: value for name, value in first.settings().items() if name != "lam"}
        json.dump({**shared, "convention": CONVENTION, "results": rows}, out, indent=2)
        out.write("\n")
        return 0
    out.write(f"EasyNet on {first.dataset}, approach {first.approach}, penalty "
              f"{FORMULA[first.kind]} per kernel k ({CONVENTION} convention), "
              f"{first.epochs} epoch(s), batch {first.batch_size}, Adam({first.learning_rate:g})\n\n")
    n_classes = len(rows[0]["predicted_class_counts"])
    out.write(f"{'lambda':>8}  {'test acc':>8}  {'data loss':>9}  {'penalty':>9}  "
              f"predicted classes 0..{n_classes - 1}\n")
    for row in rows:
        counts = " ".join(f"{c:>4}" for c in row["predicted_class_counts"])
        out.write(f"{row['lam']:>8g}  {row['test_accuracy']:>8.4f}  {row['final_data_loss']:>9.4f}"
                  f"  {row['final_penalty']:>9.4f}  {counts}\n")
    return 0
