"""The command line: ``python -m reglab sweep ...`` and ``python -m reglab penalties``.

    python -m reglab sweep --approach tf_slim --lambdas 0 1e-4 1e-2 1 --epochs 10
    python -m reglab sweep --approach keras_loop --penalty l1 --lambdas 1e-4 1e-3 --json
    python -m reglab penalties [--c 1e-3] [--numpy-only] [--json]

``sweep`` trains EasyNet once per lambda with ``reglab.approaches.train`` (the thread's lambda
convention: ``lam * sum(k**2) / 2`` per kernel for L2, ``lam * sum(|k|)`` for L1) and prints,
per lambda, the test accuracy, the final data loss and penalty and the counts of predicted
classes; ``--json`` prints the same as one JSON object.  A ``tqdm`` progress bar goes to stderr
only when stderr is a terminal.  ``penalties`` prints the cross-API penalty table of
``reglab.penalties.CONVENTIONS`` for EasyNet's first start kernel, with the values the real APIs
compute beside the NumPy formulas.

Bad arguments exit with status 2 and a one-line message naming the argument; a run that cannot
be done (a dataset that needs the network, a failed ``tf_layers`` process) exits with 1.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from reglab import approaches
from reglab._validate import InvalidParameterError, check_int, check_scale
from reglab.data import DATASETS, DatasetUnavailableError


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: ``prog: error: argument --x: ...``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _number(text: str) -> Any:
    """``text`` as an int, else a float, else unchanged (the check then names what it is)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _arg(check: Callable[..., Any], **options: Any) -> Callable[[str], Any]:
    """An argparse ``type=``: parse a number and apply ``check`` from ``reglab._validate``.

    The rule lives in ``_validate`` only; its message, without the argument's name (argparse
    adds ``argument --x:``), becomes the one-line error.
    """

    def parse(text: str) -> Any:
        try:
            return check("value", _number(text), **options)
        except InvalidParameterError as err:
            raise argparse.ArgumentTypeError(str(err).removeprefix("value ")) from None

    parse.__name__ = check.__name__  # argparse names the type in some messages
    return parse


_lambda = _arg(check_scale)
_positive_float = _arg(check_scale, allow_zero=False)
_positive_int = _arg(check_int, minimum=1)
_nonneg_int = _arg(check_int, minimum=0)
#: The defaults of ``reglab.approaches.make_run`` (one place for them).
_DEFAULTS = {name: p.default for name, p in inspect.signature(approaches.make_run).parameters.items()
             if p.default is not inspect.Parameter.empty and name != "on_epoch"}
#: The fields of a ``SweepResult`` that a sweep reports per lambda.
_ROW = ("test_accuracy", "final_data_loss", "final_penalty", "step0_total_loss",
        "predicted_class_counts")
#: The settings of a sweep besides lambda, as ``make_run`` names them (argparse ``dest``).
_SETTINGS = tuple(name for name in inspect.signature(approaches.make_run).parameters
                  if name not in ("lam", "on_epoch"))


def build_parser() -> argparse.ArgumentParser:
    """The ``reglab`` argument parser with its commands (``doctor`` has its own parser)."""
    parser = _Parser(prog="reglab", description="reglab: regularization in TensorFlow, "
                     "TF1 to Keras 3 (command line of the workbook)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sweep = commands.add_parser(
        "sweep", help="train EasyNet for several lambdas and compare",
        description="Train EasyNet (784-200-200-10, tanh, Adam) once per lambda. Lambda follows "
        "the thread's (tf_slim) convention: L2 penalty = lam * sum(k**2) / 2 per kernel "
        "(tf_slim.l2_regularizer(lam) = keras.regularizers.l2(lam / 2), not the explorer's "
        "keras l2(lam)); L1 penalty = lam * sum(|k|).")
    sweep.add_argument("--approach", default="tf_slim", choices=list(approaches.APPROACHES),
                       help="which API trains the network (default: tf_slim, answer 3's)")
    sweep.add_argument("--lambdas", nargs="+", type=_lambda, default=[0.0, 1e-4, 1e-2, 1.0],
                       metavar="LAM", help="regularization strengths, tf_slim convention "
                       "(L2: lam * sum(k**2) / 2 per kernel; default: 0 1e-4 1e-2 1)"
                       "; a single negative value in scientific notation needs "
                       "--lambdas=-1e-4")
    sweep.add_argument("--epochs", type=_positive_int, default=10, help="epochs (default: 10)")
    sweep.add_argument("--dataset", choices=list(DATASETS),
                       help="data set (default: %(default)s; 'mnist' downloads on first use)")
    sweep.add_argument("--penalty", choices=list(approaches.PENALTIES),
                       help="kind of penalty (default: %(default)s)")
    sweep.add_argument("--batch-size", type=_positive_int, help="default: %(default)s")
    sweep.add_argument("--learning-rate", type=_positive_float,
                       help="Adam's learning rate (default: %(default)s)")
    sweep.add_argument("--seed", type=_nonneg_int,
                       help="start weights and batch order (default: %(default)s)")
    sweep.set_defaults(**_DEFAULTS)
    sweep.add_argument("--json", action="store_true", help="print JSON instead of a table")

    commands.add_parser(
        "doctor", help="what a saved Keras model regularizes, by how much, and the pitfalls found "
        "(reglab doctor MODEL.keras [--json])", add_help=False)

    table = commands.add_parser(
        "penalties", help="print the cross-API penalty table",
        description="The penalty each API gives EasyNet's first start kernel "
        "(reglab.easynet.initial_weights(0)[0], 784 x 200) for one constant c.")
    table.add_argument("--c", type=_lambda, default=1e-3, help="the constant (default: 1e-3)")
    table.add_argument("--numpy-only", action="store_true",
                       help="only the NumPy formulas (no TensorFlow import)")
    table.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


# --------------------------------------------------------------------------- progress bar


def progress_bar(label: str, total: int, stream: TextIO | None = None) -> Any:
    """A ``tqdm`` bar of ``total`` epochs on ``stream`` (default stderr), drawn only on a terminal.

    Its ``on_epoch`` attribute is the callback ``reglab.approaches.train`` calls after each
    epoch with ``(epochs done, data loss, penalty)``.
    """
    from tqdm import tqdm

    total = check_int("total", total, minimum=0)
    bar = tqdm(total=total, desc=label, unit="epoch", file=sys.stderr if stream is None else stream,
               disable=None, ascii=True, leave=True)  # disable=None: off unless a terminal

    def on_epoch(done: int, data_loss: float, penalty: float) -> None:
        bar.set_postfix_str(f"data loss {data_loss:.4f}, penalty {penalty:.4f}", refresh=False)
        bar.update(max(done - bar.n, 0))

    bar.on_epoch = on_epoch
    return bar


# --------------------------------------------------------------------------- sweep


def _sweep(args: argparse.Namespace, out: TextIO) -> int:
    import reglab

    reglab.setup(args.seed)
    settings = {name: getattr(args, name) for name in _SETTINGS}
    rows = []
    for lam in args.lambdas:
        with progress_bar(f"lambda {lam:<8g}", args.epochs) as bar:
            result = approaches.train(lam=lam, on_epoch=bar.on_epoch, **settings)
        rows.append({"lam": lam, **{name: getattr(result, name) for name in _ROW}})
    convention = approaches.CONVENTION[args.penalty]
    if args.json:
        json.dump({**settings, "convention": convention, "results": rows}, out, indent=2)
        out.write("\n")
        return 0
    from reglab.penalties import CONVENTIONS

    formula = CONVENTIONS[convention][0]
    out.write(f"EasyNet on {args.dataset}, approach {args.approach}, penalty {formula} per kernel "
              f"with c = lambda ({convention}), "
              f"{args.epochs} epoch(s), batch {args.batch_size}, Adam({args.learning_rate:g})\n\n")
    n_classes = len(rows[0]["predicted_class_counts"])
    out.write(f"{'lambda':>8}  {'test acc':>8}  {'data loss':>9}  {'penalty':>9}  "
              f"predicted classes 0..{n_classes - 1}\n")
    for row in rows:
        counts = " ".join(f"{c:>4}" for c in row["predicted_class_counts"])
        out.write(f"{row['lam']:>8g}  {row['test_accuracy']:>8.4f}  {row['final_data_loss']:>9.4f}"
                  f"  {row['final_penalty']:>9.4f}  {counts}\n")
    return 0


# --------------------------------------------------------------------------- penalties


def _api_values(w: Any, c: float) -> dict[str, float]:
    """The penalty of ``w`` with constant ``c`` as the real APIs compute it (float32)."""
    from reglab.repro import quiet_logs

    quiet_logs()
    import keras
    import tensorflow as tf
    import tf_slim

    k = tf.constant(w, dtype=tf.float32)
    calls = {
        "tf.nn.l2_loss": lambda: c * tf.nn.l2_loss(k),
        "tf_slim.l2_regularizer": lambda: tf_slim.l2_regularizer(c)(k) if c else 0.0,
        "tf_slim.l1_regularizer": lambda: tf_slim.l1_regularizer(c)(k) if c else 0.0,
        "keras.regularizers.l2": lambda: keras.regularizers.l2(c)(k),
        "keras.regularizers.l1": lambda: keras.regularizers.l1(c)(k),
        "keras.regularizers.L1L2": lambda: keras.regularizers.L1L2(l1=c, l2=c)(k),
    }
    return {name: float(call()) for name, call in calls.items()}


def _penalties(args: argparse.Namespace, out: TextIO) -> int:
    from reglab.easynet import initial_weights
    from reglab.penalties import CONVENTIONS

    w = initial_weights(0)[0]
    api = {} if args.numpy_only else _api_values(w, args.c)
    rows = []
    for name, (formula, fn) in CONVENTIONS.items():
        value = fn(w, args.c)
        rows.append({
            "api": name,
            "formula": formula,
            "numpy": value,
            "tensorflow": api.get(name),
        })
    if args.json:
        json.dump({"c": args.c, "weight": "initial_weights(0)[0]", "shape": list(w.shape),
                   "rows": rows}, out, indent=2)
        out.write("\n")
        return 0
    out.write(f"Penalty of w = initial_weights(0)[0] (shape {w.shape[0]} x {w.shape[1]}) "
              f"with c = {args.c:g}\n\n")
    width = max(len(r["api"]) for r in rows)
    out.write(f"{'API':<{width}}  {'NumPy':>10}  {'TensorFlow':>10}  formula\n")
    for r in rows:
        tf_value = "-" if r["tensorflow"] is None else f"{r['tensorflow']:.6g}"
        out.write(f"{r['api']:<{width}}  {r['numpy']:>10.6g}  {tf_value:>10}  {r['formula']}\n")
    return 0


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["doctor"]:  # its own parser, in reglab.doctor_cli
        from reglab import doctor_cli

        return doctor_cli.main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sweep":
        try:
            approaches.check_penalty(args.approach, args.penalty)
        except InvalidParameterError as err:
            parser.error(f"argument --penalty: {err}")
    try:
        if args.command == "sweep":
            return _sweep(args, sys.stdout)
        return _penalties(args, sys.stdout)
    except (DatasetUnavailableError, RuntimeError) as err:
        print(f"reglab {args.command}: error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into a reader that stopped early (| head)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return 1
